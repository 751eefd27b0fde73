/**
 * The local cache (`localCache`): recently resolved sessions kept in a bounded LRU per process and
 * served without a Redis round trip while Redis's client tracking says they are unchanged. Any change to
 * a user's keys, from any process, drops that user's entries; any doubt (a lost listener, a reconnect,
 * a failover) drops everything. An entry read while an invalidation or a loss arrived is never stored.
 */
import type { StoredSession } from './store/records';

/** How many users' last invalidations are remembered for reads in flight (far more than ever in flight at once). */
const DROPPED_KEPT = 10_000;

/** A cached session: the record as Redis last confirmed it. */
interface Entry {
  readonly userTag: string;
  readonly session: StoredSession;
}

/** The LRU and its bookkeeping. Keys are `<userTag>.<tokenHash>`. */
export class SessionCache {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  readonly #byUser = new Map<string, Set<string>>();
  /** Bumped by every invalidation and flush; a read notes it when sent and hands it back to `set`. */
  #epoch = 0;
  /**
   * The epoch of each user's last invalidation, in that order, kept for the reads still in flight: a read
   * sent before its user was invalidated is not stored. Bounded: what is forgotten raises `#floor`, and a
   * read older than the floor is not stored either (a flush sets it too).
   */
  readonly #dropped = new Map<string, number>();
  #floor = 0;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** How many entries are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The current epoch, to hand back to `set` with what a read returned. */
  get epoch(): number {
    return this.#epoch;
  }

  /** The cached record, marked most recently used; undefined on a miss. */
  get(userTag: string, tokenHash: string): StoredSession | undefined {
    const key = `${userTag}.${tokenHash}`;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.session;
  }

  /** Whether nothing of the user was invalidated (and nothing flushed) since `epoch`. */
  unchangedSince(userTag: string, epoch: number): boolean {
    return epoch >= this.#floor && epoch >= (this.#dropped.get(userTag) ?? 0);
  }

  /** Stores what a read returned, unless its user was invalidated (or everything flushed) since the read was sent (`epoch`). */
  set(userTag: string, tokenHash: string, session: StoredSession, epoch: number): void {
    if (!this.unchangedSince(userTag, epoch)) return;
    const key = `${userTag}.${tokenHash}`;
    this.#entries.delete(key);
    this.#entries.set(key, { userTag, session });
    let keys = this.#byUser.get(userTag);
    if (!keys) this.#byUser.set(userTag, (keys = new Set()));
    keys.add(key);
    if (this.#entries.size > this.#maxEntries) this.#evictOldest();
  }

  /** Drops every entry of the users these Redis keys belong to; null drops everything. */
  invalidate(keys: readonly string[] | null): void {
    if (keys === null) {
      this.#floor = ++this.#epoch;
      this.#entries.clear();
      this.#byUser.clear();
      this.#dropped.clear();
      return;
    }
    for (const key of keys) {
      const open = key.indexOf('{');
      const close = key.indexOf('}', open + 1);
      if (open !== -1 && close !== -1) this.dropUser(key.slice(open + 1, close));
    }
  }

  /** Drops a user's entries (this process changed the user's keys). */
  dropUser(userTag: string): void {
    this.#dropped.delete(userTag);
    this.#dropped.set(userTag, ++this.#epoch);
    if (this.#dropped.size > DROPPED_KEPT) {
      const [oldest, at] = this.#dropped.entries().next().value as [string, number];
      this.#dropped.delete(oldest);
      this.#floor = at;
    }
    const keys = this.#byUser.get(userTag);
    if (!keys) return;
    for (const key of keys) this.#entries.delete(key);
    this.#byUser.delete(userTag);
  }

  #evictOldest(): void {
    const oldest = this.#entries.keys().next().value as string;
    const entry = this.#entries.get(oldest)!;
    this.#entries.delete(oldest);
    const keys = this.#byUser.get(entry.userTag);
    keys?.delete(oldest);
    if (keys?.size === 0) this.#byUser.delete(entry.userTag);
  }
}
