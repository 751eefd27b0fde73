/**
 * The local cache's side of the read path: a hit is answered only after the read barrier, and the
 * concurrent misses of a session share one tracked read.
 */
import type { SessionCache } from '../cache';
import type { TrackedReader } from '../clients/tracking';
import type { SessionRef } from '../token';
import type { StoredSession } from './records';

/** A read's answer: the session, or the code that says why there is none. */
type Answer = StoredSession | string;

/** A tracked read on its way, and the cache epoch it was sent at. */
interface Flight<A> {
  readonly epoch: number;
  readonly answer: Promise<A>;
}

/** A caller's own copy of a record: callers change `lastActiveAt` and `data`, the cache's copy must not move. */
function own(session: StoredSession): StoredSession {
  return { ...session, data: new Map(session.data) };
}

/**
 * Builds the cached resolve. `lookup(ref)` reads a session nothing local knows through `read` on the
 * tracked reader, and stores what it found unless the user was invalidated since it was sent. What is
 * known locally (an entry, or a read of the session on its way) may predate a write answered before the
 * request arrived, so it is used only after the barrier: a `PING` sent after the request arrived, on the
 * connection that receives the invalidations, has returned, so every invalidation of a write answered
 * before the request was sent, from any process with or without localCache, has been applied. Then the
 * entry still cached is answered, or the read still on its way joined if its user was not invalidated
 * since it was sent; otherwise the session is read again. A barrier that fails (the connection lost, or
 * no answer within the store timeout) has dropped everything: the request reads Redis through `fallback`.
 */
export function createLocalReads<A extends Answer>(
  cache: SessionCache,
  reader: TrackedReader,
  read: (ref: SessionRef, pipeline: TrackedReader['pipeline']) => Promise<A>,
  fallback: (ref: SessionRef) => Promise<A>,
  fresh: (hit: StoredSession) => StoredSession | undefined,
) {
  const flights = new Map<string, Flight<A>>();

  /** The answer for a caller: a record is copied per caller; a code is shared as it is. */
  const forCaller = (answer: A): A => (typeof answer === 'string' ? answer : (own(answer as StoredSession) as A));

  async function readAndKeep(ref: SessionRef, key: string): Promise<A> {
    const epoch = cache.epoch;
    const answer = read(ref, reader.pipeline);
    const flight = { epoch, answer };
    flights.set(key, flight);
    try {
      const result = await answer;
      if (typeof result !== 'string') cache.set(ref.userTag, ref.tokenHash, own(result as StoredSession), epoch);
      return result;
    } finally {
      if (flights.get(key) === flight) flights.delete(key);
    }
  }

  /** After the barrier: the entry if still cached and fresh, the read on its way if still good, or a new read. */
  function afterBarrier(ref: SessionRef, key: string): A | Promise<A> {
    const hit = cache.get(ref.userTag, ref.tokenHash);
    const served = hit && fresh(hit);
    if (served) return served as A;
    const flight = flights.get(key);
    if (flight && cache.unchangedSince(ref.userTag, flight.epoch)) return flight.answer.then(forCaller);
    return readAndKeep(ref, key).then(forCaller);
  }

  return {
    /** True while the tracked reader can be trusted; otherwise the caller reads Redis directly. */
    ready: (): boolean => reader.state() === 'ready',

    /** The session: from the cache or a read on its way once the barrier returned, or from a new tracked read. */
    lookup(ref: SessionRef): Promise<A> {
      const key = `${ref.userTag}.${ref.tokenHash}`;
      const hit = cache.get(ref.userTag, ref.tokenHash);
      if (!(hit && fresh(hit)) && !flights.has(key)) return readAndKeep(ref, key).then(forCaller);
      return reader.barrier().then(
        () => afterBarrier(ref, key),
        () => fallback(ref),
      );
    },

    /** Reads on their way (for tests and the debug log). */
    inFlight: (): number => flights.size,
  };
}
