/**
 * How the store talks to Redis: every call waits for a ready connection but never past the store
 * timeout (fail closed, nothing queued and sent late), scripts go as EVALSHA with one EVAL after
 * NOSCRIPT, writes get a deadline in Redis's clock, and errors leave without the command's arguments.
 */
import type { RedisAdapter } from '../clients/adapter';
import { publicCause, SessionError } from '../errors';
import type { Script } from './scripts';

/** Called after every store call with its name, duration and whether Redis answered. */
export type StoreObserver = (operation: string, seconds: number, ok: boolean) => void;

/** The call layer of one store. */
export type Calls = ReturnType<typeof createCalls>;

/** Builds the call layer over one client. */
export function createCalls(
  redis: RedisAdapter,
  storeTimeoutMs: number,
  waitForReplicas: { readonly replicas: number; readonly timeoutMs: number } | null,
  observe?: StoreObserver,
) {
  /** Redis TIME minus the local clock, in ms, learnt from replies that carry Redis's time. */
  let clockOffset = 0;
  /** A write must start in Redis before the caller's timer fires; this margin covers the reply's way back. */
  const margin = Math.min(100, Math.floor(storeTimeoutMs / 4));

  /** Runs `send` as soon as `connection` is ready, but never after the store timeout gave up on it. */
  function whenReady<T>(send: () => Promise<T>, timeoutMs = storeTimeoutMs, connection: Pick<RedisAdapter, 'state' | 'whenReady'> = redis): Promise<T> {
    const state = connection.state();
    if (state === 'ready') return withTimeout(send(), timeoutMs);
    if (state === 'offline') return Promise.reject(unavailable(new Error('the Redis connection is down')));
    let abandoned = false;
    const call = connection.whenReady().then(() => {
      if (abandoned) throw new Error('abandoned after the store timeout');
      return send();
    });
    return withTimeout(call, timeoutMs, () => {
      abandoned = true;
    });
  }

  /** Sends a call when the connection is ready, bounded by the store timeout, and reports its duration. */
  async function timed<T>(operation: string, send: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const reply = await whenReady(send);
      observe?.(operation, (performance.now() - started) / 1000, true);
      return reply;
    } catch (err) {
      observe?.(operation, (performance.now() - started) / 1000, false);
      throw err;
    }
  }

  return {
    whenReady,
    timed,

    /** Runs a script by SHA, loading it once on NOSCRIPT. */
    run(operation: string, script: Script, keys: string[], args: string[]): Promise<unknown> {
      return timed(operation, () =>
        redis.evalsha(script.sha, keys, args).catch((err: Error) => {
          if (!String(err?.message).startsWith('NOSCRIPT')) throw err;
          return redis.eval(script.source, keys, args);
        }),
      );
    },

    /** The deadline (Redis's clock, ms) past which a write sent now must do nothing. */
    deadline: (): string => String(Date.now() + clockOffset + storeTimeoutMs - margin),

    /** Redis's clock now, as far as this process knows it. */
    redisNow: (): number => Date.now() + clockOffset,

    /** Learns the clock offset from a reply that carries Redis's time, sent at `sentAt` (local ms). */
    learnClock(redisNow: number, sentAt: number): void {
      if (Number.isFinite(redisNow) && redisNow > 0) clockOffset = redisNow - Math.round((sentAt + Date.now()) / 2);
    },

    /** WAIT for the configured replicas on the node that ran the write; too few acknowledgements fail the call. */
    async replicate(routingKey: string): Promise<void> {
      if (!waitForReplicas) return;
      const { replicas, timeoutMs } = waitForReplicas;
      const acknowledged = await whenReady(() => redis.wait(routingKey, replicas, timeoutMs), storeTimeoutMs + timeoutMs);
      if (acknowledged < replicas) {
        throw unavailable(new Error(`only ${acknowledged} of ${replicas} replicas acknowledged the write within ${timeoutMs} ms`));
      }
    },
  };
}

/** A store failure as the package hands it out: the cause keeps its message, never the command's arguments. */
export function unavailable(cause: unknown): SessionError {
  if (cause instanceof SessionError) return cause;
  return new SessionError('SESSION_STORE_UNAVAILABLE', undefined, { cause: publicCause(cause) });
}

/** A reply of the wrong shape: a store failure, never a guess. */
export function badReply(operation: string, reply: unknown): SessionError {
  const shape = Array.isArray(reply) ? `array of ${reply.length}` : typeof reply;
  return unavailable(new TypeError(`unexpected reply to ${operation} from Redis: ${shape}`));
}

/**
 * Settles with the call, or rejects with SESSION_STORE_UNAVAILABLE after `ms` (calling `onTimeout`).
 * A late reply is ignored.
 */
function withTimeout<T>(call: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(unavailable(new Error(`Redis did not answer within ${ms} ms`)));
    }, ms);
    timer.unref();
    call.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(unavailable(err));
      },
    );
  });
}
