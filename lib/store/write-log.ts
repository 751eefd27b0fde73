/** This process's writes of each user's keys, shared by every manager in the process, so a read on its way during any of them is read again. */

/**
 * Writes are numbered; a read notes the number before it is sent and, when its reply comes, asks
 * whether the user was written since. Shared by all managers (and so all stores) of the process: a
 * revoke through one manager makes a request resolving through another read again, so no request of
 * this process is answered as signed in from a read older than a write that already resolved.
 * Keyed by the user's index key, which holds the key prefix and the user's tag.
 */
let writes = 0;
/** index key -> [write number, forgettable after (ms since epoch)]; in write order. */
const lastWrite = new Map<string, [number, number]>();

/** The number to note before a read is sent. */
export function writesSoFar(): number {
  return writes;
}

/** Whether the user's keys were written (or a write was started) since `seen`. */
export function wroteSince(indexKey: string, seen: number): boolean {
  return (lastWrite.get(indexKey)?.[0] ?? 0) > seen;
}

/**
 * Notes a write of the user's keys, before it is sent and again when it answers. A read lasts at most
 * its store's timeout, so the entry is kept `keepMs` (twice that timeout) and older entries are dropped.
 */
export function noteWrite(indexKey: string, keepMs: number): void {
  const now = Date.now();
  for (const [key, [, until]] of lastWrite) {
    if (until >= now) break;
    lastWrite.delete(key);
  }
  lastWrite.delete(indexKey);
  lastWrite.set(indexKey, [++writes, now + keepMs]);
}

/** Entries held (for tests of the bound). */
export function writeLogSize(): number {
  return lastWrite.size;
}
