/** This process's writes of each user's keys, shared by every manager in the process, so a read on its way during any of them is read again. */

/**
 * Writes are numbered when they start and when they end; a read notes the number before it is sent and,
 * when its reply comes, asks whether the user was written since. If so, it waits until the user's writes
 * in flight have answered and reads again: that read reaches Redis after them, even when the write went
 * over another connection. Shared by all managers (and so all stores) of the process, so no request of
 * this process is answered as signed in from a read older than a write that already resolved, whichever
 * manager wrote. Keyed by the user's index key, which holds the key prefix and the user's tag.
 */
let writes = 0;
/** index key -> [last write number, forgettable after (ms since epoch)]; in write order. */
const lastWrite = new Map<string, [number, number]>();
/** index key -> the writes of that user in flight, and a promise settled when none is left. */
const inFlight = new Map<string, { count: number; idle: Promise<void>; settle: () => void }>();

/** Told of every write's start and end in the process (each manager's local cache drops that user). */
const watchers = new Set<(indexKey: string) => void>();

/** Calls `watcher` with the user's index key at every write's start and end, from any manager of the process; returns the way to stop. */
export function watchWrites(watcher: (indexKey: string) => void): () => void {
  watchers.add(watcher);
  return () => watchers.delete(watcher);
}

/** The number to note before a read is sent. */
export function writesSoFar(): number {
  return writes;
}

/** Whether the user's keys were written (or a write was started) since `seen`. */
export function wroteSince(indexKey: string, seen: number): boolean {
  return (lastWrite.get(indexKey)?.[0] ?? 0) > seen;
}

/** Numbers a write's start or end. A read lasts at most its store's timeout: the entry is kept `keepMs` (twice that). */
function note(indexKey: string, keepMs: number): void {
  const now = Date.now();
  for (const [key, [, until]] of lastWrite) {
    if (until >= now) break;
    lastWrite.delete(key);
  }
  lastWrite.delete(indexKey);
  lastWrite.set(indexKey, [++writes, now + keepMs]);
  for (const watcher of watchers) watcher(indexKey);
}

/** Notes that a write of the user's keys starts; call the returned function when it has answered (or failed). */
export function writeStarts(indexKey: string, keepMs: number): () => void {
  note(indexKey, keepMs);
  let entry = inFlight.get(indexKey);
  if (!entry) {
    let settle!: () => void;
    const idle = new Promise<void>((resolve) => (settle = resolve));
    entry = { count: 0, idle, settle };
    inFlight.set(indexKey, entry);
  }
  entry.count++;
  const current = entry;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    note(indexKey, keepMs);
    if (--current.count > 0) return;
    if (inFlight.get(indexKey) === current) inFlight.delete(indexKey);
    current.settle();
  };
}

/** Resolves when the user's writes in flight now have answered, or after `maxMs`, whichever is first. */
export function writesSettled(indexKey: string, maxMs: number): Promise<void> {
  const entry = inFlight.get(indexKey);
  if (!entry) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxMs);
    timer.unref();
    void entry.idle.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
