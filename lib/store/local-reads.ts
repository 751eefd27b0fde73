/** The local cache's side of the read path: hits, and one tracked read shared by the concurrent misses of a session. */
import type { SessionCache } from '../cache';
import type { TrackedReader } from '../clients/adapter';
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
 * Builds the cached resolve: `lookup(ref)` answers from the cache when it may (`fresh`), otherwise through
 * `read` on the tracked reader, and stores what that read found unless the user changed since it was sent.
 * Requests of one session that miss while a read of it is on its way wait for that read instead of
 * sending their own, as long as no change of the user reached this process since it was sent: the answer
 * is then as exact as a cache hit at that moment (both trust that any change has been announced), and a
 * burst of requests for a session no longer in the cache costs Redis one read, not one per request.
 */
export function createLocalReads<A extends Answer>(
  cache: SessionCache,
  reader: TrackedReader,
  read: (ref: SessionRef, pipeline: TrackedReader['pipeline']) => Promise<A>,
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

  return {
    /** True while the tracked reader can be trusted; otherwise the caller reads Redis directly. */
    ready: (): boolean => reader.state() === 'ready',

    /**
     * The session from the cache (at once: a hit is no promise), or a promise of it from a read of it
     * already on its way or from a new tracked read.
     */
    lookup(ref: SessionRef): A | Promise<A> {
      const hit = cache.get(ref.userTag, ref.tokenHash);
      const served = hit && fresh(hit);
      if (served) return served as A;
      const key = `${ref.userTag}.${ref.tokenHash}`;
      const flight = flights.get(key);
      if (flight && cache.unchangedSince(ref.userTag, flight.epoch)) return flight.answer.then(forCaller);
      return readAndKeep(ref, key).then(forCaller);
    },

    /** Reads on their way (for tests and the debug log). */
    inFlight: (): number => flights.size,
  };
}
