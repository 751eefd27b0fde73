/**
 * The live notices of one manager: which open streams each session has, one subscriber (opened on the
 * first stream) subscribed to the shard channel of each user with a stream here, and the routing of each
 * notice to its session's streams and to the manager's events (`remote: true` for ends done elsewhere).
 */
import type { EventEmitter } from 'node:events';
import type { RedisAdapter, Subscriber } from '../clients/adapter';
import { emitSafely } from '../events';
import { channelNamer, decodeNotice, type EndNotice, type LiveEndCode } from '../store/notices';

/** What the registry needs of an open stream. */
export interface LiveStream {
  readonly userId: string;
  readonly userTag: string;
  readonly sessionId: string;
  /** Sends `ended` with `code` and closes the stream. */
  end(code: LiveEndCode): void;
  /** Closes the stream without `ended` (the per-session and per-user caps). */
  close(): void;
  /** Checks the session in Redis once (notices may have been missed). */
  check(): void;
}

/** One user this process holds streams for. */
interface Watched {
  readonly userId: string;
  readonly userTag: string;
  readonly streams: Set<LiveStream>;
  /** Settles once the channel is subscribed. */
  subscribed: Promise<void>;
}

/** How long a session ended by this process is remembered, so its notice is not reported as remote. */
const LOCAL_MEMORY_MS = 10_000;

/** Counts of what the registry holds, for tests and benchmarks. */
export interface LiveStats {
  streams: number;
  sessions: number;
  users: number;
  connections: number;
}

/** The live registry of one manager. */
export type LiveRegistry = ReturnType<typeof createLiveRegistry>;

/** Builds the registry; nothing connects until the first stream opens. `maxPerUser` caps each user's streams here. */
export function createLiveRegistry(redis: RedisAdapter, keyPrefix: string, events: EventEmitter, maxPerUser: number) {
  const channelOf = channelNamer(keyPrefix);
  /** Open streams by session id; a Set keeps them oldest first. */
  const bySession = new Map<string, Set<LiveStream>>();
  /** Watched users by channel. */
  const users = new Map<string, Watched>();
  /** Session ids this process ended, with when, oldest first. */
  const endedHere = new Map<string, number>();
  /** Users with an ending in flight in this process, and the notices held back until it settles. */
  const inFlight = new Map<string, { count: number; held: EndNotice[] }>();
  let subscriber: Subscriber | null = null;
  let streams = 0;

  const subscriberOf = (): Subscriber =>
    (subscriber ??= redis.subscriber({
      message(channel, message) {
        const user = users.get(channel);
        const notice = decodeNotice(message);
        if (!user || !notice) return;
        const pending = inFlight.get(user.userTag);
        if (pending) pending.held.push(notice);
        else deliver(user, notice);
      },
      resubscribed(channels) {
        for (const channel of channels) {
          const user = users.get(channel);
          if (user) for (const stream of user.streams) stream.check();
        }
      },
    }));

  function deliver(user: Watched, notice: EndNotice): void {
    const set = bySession.get(notice.sessionId);
    if (set) for (const stream of [...set]) stream.end(notice.code);
    if (notice.code === 'SESSION_LOGGED_OUT' || endedHere.has(notice.sessionId)) return;
    const event = notice.code === 'SESSION_DISPLACED' ? 'displaced' : 'revoked';
    emitSafely(events, event, { userId: user.userId, sessionId: notice.sessionId, remote: true });
  }

  function forget(now: number): void {
    for (const [sessionId, at] of endedHere) {
      if (now - at < LOCAL_MEMORY_MS) break;
      endedHere.delete(sessionId);
    }
  }

  return {
    /**
     * Registers an open stream and subscribes its user's channel (first stream of the user); closes the
     * session's oldest streams beyond `maxPerSession`, then the user's oldest beyond `maxPerUser`.
     * Resolves once notices for the user are being received.
     */
    add(stream: LiveStream, maxPerSession: number): Promise<void> {
      let set = bySession.get(stream.sessionId);
      if (!set) bySession.set(stream.sessionId, (set = new Set()));
      set.add(stream);
      streams++;
      for (const oldest of set) {
        if (set.size <= maxPerSession) break;
        oldest.close();
      }
      const channel = channelOf(stream.userTag);
      let user = users.get(channel);
      if (!user) {
        user = { userId: stream.userId, userTag: stream.userTag, streams: new Set(), subscribed: Promise.resolve() };
        users.set(channel, user);
        user.subscribed = subscriberOf().subscribe(channel);
        user.subscribed.catch(() => undefined);
      }
      user.streams.add(stream);
      // The user's streams are kept oldest first; closing one removes it from the set (remove()).
      for (const oldest of user.streams) {
        if (user.streams.size <= maxPerUser) break;
        oldest.close();
      }
      return user.subscribed;
    },

    /** Forgets a closed stream; the user's channel is unsubscribed with their last stream. Idempotent. */
    remove(stream: LiveStream): void {
      const set = bySession.get(stream.sessionId);
      if (!set?.delete(stream)) return;
      streams--;
      if (set.size === 0) bySession.delete(stream.sessionId);
      const channel = channelOf(stream.userTag);
      const user = users.get(channel);
      user?.streams.delete(stream);
      if (user && user.streams.size === 0) {
        users.delete(channel);
        subscriber?.unsubscribe(channel).catch(() => undefined);
      }
    },

    /**
     * Wraps an operation of this process that may end sessions of `userTag`: notices for that user are held
     * until it settles, and the sessions it reports ended are not announced again as remote.
     */
    async endingHere<T>(userTag: string, operation: () => Promise<T>, endedOf: (result: T) => readonly string[]): Promise<T> {
      let pending = inFlight.get(userTag);
      if (!pending) inFlight.set(userTag, (pending = { count: 0, held: [] }));
      pending.count++;
      try {
        const result = await operation();
        const now = Date.now();
        forget(now);
        for (const sessionId of endedOf(result)) endedHere.set(sessionId, now);
        return result;
      } finally {
        if (--pending.count === 0) {
          inFlight.delete(userTag);
          const user = users.get(channelOf(userTag));
          if (user) for (const notice of pending.held) deliver(user, notice);
        }
      }
    },

    /** What the registry holds right now. */
    stats(): LiveStats {
      return { streams, sessions: bySession.size, users: users.size, connections: subscriber?.connections() ?? 0 };
    },
  };
}
