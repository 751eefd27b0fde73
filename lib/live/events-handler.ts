/**
 * `liveEvents()`: the Server-Sent Events handler that tells each open page of a session, at once, that
 * the session ended (displaced, revoked, signed out, or expired), without counting as activity.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SessionError, USER_MESSAGES } from '../errors';
import { createGuard, sessionOn } from '../middleware';
import { refOf, type ActiveSession } from '../session';
import type { LiveEndCode, SessionStore } from '../store/store';
import { shown } from '../shown';
import type { SessionRef } from '../token';
import type { LiveRegistry, LiveStream } from './registry';

/** Options of `liveEvents()`. */
export interface LiveEventsOptions {
  /**
   * Seconds between heartbeat comments, so that proxies and load balancers keep an idle stream open.
   * @default 25
   */
  heartbeatSeconds?: number;
  /**
   * The most streams one session may hold open (tabs of one browser); opening one more closes the oldest.
   * @default 10
   */
  maxStreamsPerSession?: number;
}

export type { LiveEndCode } from '../store/store';

const OPTION_NAMES = ['heartbeatSeconds', 'maxStreamsPerSession'];
/** After a stream closed for the per-session cap, its EventSource waits this long before trying again. */
const CAPPED_RETRY_MS = 30_000;
/** How long to wait before asking Redis again when a check failed. */
const RETRY_CHECK_MS = 1000;
/** Check a little after the expiry so that Redis has expired the key. */
const EXPIRY_MARGIN_MS = 20;
const MAX_TIMER_MS = 2 ** 31 - 1;

function parseLiveOptions(options: LiveEventsOptions): { heartbeatMs: number; maxPerSession: number } {
  const fail = (message: string): never => {
    throw new SessionError('INVALID_OPTIONS', `liveEvents(): ${message}`);
  };
  if (options === null || typeof options !== 'object') fail('options must be an object.');
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) fail(`received an unsupported option \`${key}\`. Supported: ${OPTION_NAMES.join(', ')}.`);
  }
  const { heartbeatSeconds = 25, maxStreamsPerSession = 10 } = options;
  if (typeof heartbeatSeconds !== 'number' || !Number.isFinite(heartbeatSeconds) || heartbeatSeconds <= 0 || heartbeatSeconds > 3600) {
    fail(`\`heartbeatSeconds\` must be a number of seconds above 0 and at most 3600; received ${shown(heartbeatSeconds)}.`);
  }
  if (!Number.isInteger(maxStreamsPerSession) || maxStreamsPerSession < 1 || maxStreamsPerSession > 1000) {
    fail(`\`maxStreamsPerSession\` must be a whole number from 1 to 1000; received ${shown(maxStreamsPerSession)}.`);
  }
  return { heartbeatMs: Math.max(1, Math.round(heartbeatSeconds * 1000)), maxPerSession: maxStreamsPerSession };
}

/** One open event stream: a response held open for one session. */
class Stream implements LiveStream {
  readonly userId: string;
  readonly userTag: string;
  readonly sessionId: string;
  #ref: SessionRef;
  #expiresAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #open = true;
  #checking = false;
  readonly #res: Response;
  readonly #store: SessionStore;
  readonly #onClose: (stream: Stream) => void;

  constructor(session: ActiveSession, res: Response, store: SessionStore, onClose: (stream: Stream) => void) {
    this.#ref = refOf(session);
    this.userId = session.userId;
    this.userTag = this.#ref.userTag;
    this.sessionId = session.sessionId;
    this.#res = res;
    this.#store = store;
    this.#onClose = onClose;
    res.once('close', () => this.#release());
  }

  get open(): boolean {
    return this.#open;
  }

  /** Starts the stream (headers, then `session` or `ended`) from a status just read. */
  start(status: Awaited<ReturnType<SessionStore['status']>>): void {
    if (!this.#open) return;
    this.#head();
    this.#apply(status);
  }

  #head(): void {
    if (this.#res.headersSent) return;
    this.#res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
  }

  heartbeat(): void {
    if (this.#open) this.#res.write(': heartbeat\n\n');
  }

  end(code: LiveEndCode): void {
    if (!this.#open) return;
    this.#head();
    this.#send('ended', { code });
    this.#res.end();
    this.#release();
  }

  close(): void {
    if (!this.#open) return;
    if (this.#res.headersSent) this.#res.end(`retry: ${CAPPED_RETRY_MS}\n\n`);
    else this.#res.end();
    this.#release();
  }

  check(): void {
    if (!this.#open || this.#checking) return;
    this.#checking = true;
    this.#store.status(this.#ref, this.sessionId).then(
      (status) => {
        this.#checking = false;
        this.#apply(status);
      },
      () => {
        this.#checking = false;
        this.#schedule(RETRY_CHECK_MS);
      },
    );
  }

  /** Reports a status: `ended`, or `session` when its expiry moved, and waits for the next expiry. */
  #apply(status: Awaited<ReturnType<SessionStore['status']>>): void {
    if (!this.#open) return;
    if (typeof status === 'string') return this.end(status);
    this.#ref = { userTag: this.userTag, tokenHash: status.tokenHash };
    if (status.expiresAt !== this.#expiresAt) {
      this.#expiresAt = status.expiresAt;
      this.#send('session', { sessionId: this.sessionId, expiresAt: new Date(status.expiresAt).toISOString() });
    }
    this.#schedule(status.expiresAt - this.#store.now() + EXPIRY_MARGIN_MS);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.check();
    }, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    this.#timer.unref();
  }

  #send(event: string, data: object): void {
    this.#res.write(`event: ${event}\ndata: ${shown(data)}\n\n`);
  }

  #release(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#onClose(this);
  }
}

/** Builds one `liveEvents()` handler on the manager's registry and store. Throws `INVALID_OPTIONS`. */
export function createLiveEvents(
  registry: LiveRegistry, store: SessionStore, timeoutMs: number, options: LiveEventsOptions = {}, property = 'session',
): RequestHandler {
  const { heartbeatMs, maxPerSession } = parseLiveOptions(options);
  const guard = createGuard({}, property);
  const streams = new Set<Stream>();
  let ticker: NodeJS.Timeout | null = null;

  const closed = (stream: Stream): void => {
    streams.delete(stream);
    registry.remove(stream);
    if (streams.size === 0 && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  async function open(req: Request, res: Response): Promise<void> {
    const session = sessionOn(req, property);
    if (!session) throw new SessionError('MISCONFIGURED', 'liveEvents() needs sessions.middleware() mounted before it.');
    const stream = new Stream(session, res, store, closed);
    streams.add(stream);
    ticker ??= setInterval(() => {
      for (const s of streams) s.heartbeat();
    }, heartbeatMs).unref();
    let status;
    try {
      // Subscribe first, then read: an end between the two is either in the reply or in a notice.
      await withTimeout(registry.add(stream, maxPerSession), timeoutMs);
      status = await store.status(refOf(session), session.sessionId);
    } catch (err) {
      if (stream.open && !res.headersSent) unavailable(res);
      stream.close();
      return;
    }
    stream.start(status);
  }

  return function liveEvents(req: Request, res: Response, next: NextFunction): void {
    guard(req, res, (err?: unknown) => {
      if (err) return next(err);
      open(req, res).catch(next);
    });
  };
}

/** The 503 a stream gets when Redis cannot be reached to subscribe or to check the session. */
function unavailable(res: Response): void {
  const code = 'SESSION_STORE_UNAVAILABLE';
  res.status(503).set({ 'Cache-Control': 'no-store', 'Retry-After': '1' }).json({ error: { code, message: USER_MESSAGES[code] } });
}

/** Settles with `promise`, or rejects after `ms` (the subscription itself carries on). */
function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the subscription was not confirmed within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
