/**
 * The violations the README names as possible today, per fault kind, each tied to the README
 * sentence that names it (a test checks every quote is still in README.md). The checker exits
 * non-zero on any violation not listed here. When the package closes a gap (no late writes,
 * `waitForReplicas`), delete the entry here and the sentence in the README in the same change.
 */
import type { PromiseId } from './history';

/** One permission: these promises may be broken under this fault kind, because the README says so. */
export interface Allowance {
  promises: PromiseId[];
  /** A sentence of README.md, quoted exactly. */
  readme: string;
}

const REPLICATION_IS_ASYNC = 'a write the master acknowledged but did not replicate before it died is lost';
const RESENT_AFTER_RECONNECT = 'A command already on the wire when the connection broke may still be resent by ioredis once it reconnects';

/**
 * Fault kind -> what the README admits under it.
 * - kill-master: an acknowledged sign-in, sign-out or save that had not reached the replica is
 *   lost on failover, so a displaced or signed-out session comes back (1, 2) and saved data goes
 *   back (5); a command on the wire at the kill may be resent to the new master (6).
 * - client-kill, restart-aof: the connection breaks; a command on the wire may be resent (6).
 * - sigstop, debug-sleep: nothing. Today a script the caller gave up on still runs when Redis
 *   resumes (issue 14, "No late writes"); the README does not name it, so it fails the run.
 */
export const README_NAMED_VIOLATIONS: Readonly<Record<string, readonly Allowance[]>> = {
  'kill-master': [
    { promises: [1, 2, 5], readme: REPLICATION_IS_ASYNC },
    { promises: [6], readme: RESENT_AFTER_RECONNECT },
  ],
  'client-kill': [{ promises: [6], readme: RESENT_AFTER_RECONNECT }],
  'restart-aof': [{ promises: [6], readme: RESENT_AFTER_RECONNECT }],
};

/** True if the README names a break of `promise` as possible under faults of `kind`. */
export function readmeAllows(kind: string, promise: PromiseId, allowances = README_NAMED_VIOLATIONS): boolean {
  return (allowances[kind] ?? []).some((a) => a.promises.includes(promise));
}
