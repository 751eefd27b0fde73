/**
 * The local cache's tracked reader for ioredis: a duplicate of the app's client whose reads Redis
 * tracks, redirecting invalidations to a listener on the same server (ioredis cannot read them itself).
 * Any reconnect, failover or listener loss flushes first, then tracking is set up again.
 */
import type { Redis } from 'ioredis';
import type { ConnectionState, TrackedReader } from './adapter';
import { listenForInvalidations, type InvalidationHandlers, type InvalidationListener } from './invalidations';
import { sendTogether } from './ioredis-send';

/** Opens the tracked reader over a duplicate of `redis` (a plain or Sentinel-managed client). */
export function ioredisTrackedReader(redis: Redis, handlers: InvalidationHandlers, timeoutMs: number): TrackedReader {
  const reader = redis.duplicate({ enableOfflineQueue: false, lazyConnect: false, connectionName: 'ess-cache' });
  let listener: InvalidationListener | null = null;
  let tracking = false;
  let closed = false;
  /** Bumped at each loss, so a set-up that raced with a loss does not switch tracking back on. */
  let attempt = 0;

  const lose = (): void => {
    attempt++;
    tracking = false;
    listener?.close();
    listener = null;
    handlers.invalidate(null);
  };

  async function setUp(): Promise<void> {
    const mine = ++attempt;
    const address = reader.stream?.remoteAddress;
    const port = reader.stream?.remotePort;
    if (!address || !port) return;
    const { username, password, tls } = reader.options;
    try {
      const opened = await listenForInvalidations(
        { host: address, port, username, password, tls: tls ?? null },
        {
          invalidate: (keys) => handlers.invalidate(keys),
          lost: () => {
            if (closed) return;
            lose();
            if (reader.status === 'ready') setTimeout(() => void setUp(), 100).unref();
          },
        },
        timeoutMs,
      );
      if (mine !== attempt || closed) return opened.close();
      listener = opened;
      await reader.call('CLIENT', 'TRACKING', 'off');
      await reader.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(opened.clientId));
      if (mine === attempt && !closed) tracking = true;
    } catch {
      if (mine !== attempt || closed) return;
      lose();
      setTimeout(() => void (reader.status === 'ready' && setUp()), 500).unref();
    }
  }

  // The reader lives as long as the app's client: when the app closes it for good, the reader goes too.
  redis.once('end', () => {
    closed = true;
    lose();
    reader.disconnect();
  });
  reader.on('error', () => undefined); // the reader's state() says all the store needs; the app's client logs
  reader.on('ready', () => void setUp());
  for (const event of ['close', 'reconnecting', 'end', '+node', '-node', 'failover']) reader.on(event, lose);

  return {
    state(): ConnectionState {
      if (tracking && reader.status === 'ready') return 'ready';
      return closed ? 'offline' : 'connecting';
    },
    pipeline: sendTogether(reader),
    close() {
      closed = true;
      lose();
      reader.disconnect();
    },
  };
}
