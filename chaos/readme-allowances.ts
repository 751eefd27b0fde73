/**
 * The violations the README names as possible, per fault kind, each tied to the README sentence
 * that names it (a test checks every quote is still in docs/scaling.md). The checker exits non-zero on
 * any violation not listed here. When the package closes a gap, delete the entry here and the
 * sentence in the README in the same change.
 */
import type { PromiseId } from './history';

/** One permission: these promises may be broken under this fault kind, because the README says so. */
export interface Allowance {
  promises: PromiseId[];
  /** A sentence of docs/scaling.md (the scaling guide), quoted exactly. */
  readme: string;
  /** Only for runs without the `waitForReplicas` option: the option closes this gap. */
  unlessWaitForReplicas?: boolean;
  /** Promise 2 only when the refusal came from operations answered as failed (see checker.ts `afterFailedWrite`). */
  onlyAfterFailedWrite?: boolean;
}

/** Without waitForReplicas: an acknowledged sign-in, sign-out or revoke can be lost on failover. */
const REPLICATION_IS_ASYNC = 'Without `waitForReplicas`, a write the master acknowledged but did not replicate before it died is lost';
/** Saves are never waited for: acknowledged data can go back to an older value on failover, with or without the option. */
const SAVES_ARE_ASYNC = 'Saved data is never waited for: a save the master acknowledged but did not replicate before it died is lost';
/** The script ran before its deadline, then the connection broke (or the reply came too late): the caller heard 503. */
const REPLY_LOST = 'A write that reached Redis before its deadline but whose reply was lost with the connection';
/** waitForReplicas: a WAIT that times out does not undo the write on the master. */
const WAIT_DOES_NOT_UNDO = 'When too few replicas acknowledge, the write has still happened on the master';

/**
 * Fault kind -> what the README admits under it.
 * - kill-master: without waitForReplicas an acknowledged sign-in, sign-out or revoke that had not
 *   reached the replica is lost on failover, so a displaced or signed-out session comes back (1, 2);
 *   saved data can go back (5) either way; a script that ran just before the kill may have lost its
 *   reply (6); with waitForReplicas, a sign-in answered 503 because its WAIT timed out (the replica
 *   lagging) has taken effect on the master (6), and may then be lost with it, so a token refused as
 *   displaced in between works again (2, only when nothing acknowledged could have ended it).
 * - client-kill, restart-aof: the connection breaks; a script that ran may have lost its reply (6).
 * - sigstop, debug-sleep: nothing. A write answered 503 by the timer is a no-op when Redis resumes.
 */
export const README_NAMED_VIOLATIONS: Readonly<Record<string, readonly Allowance[]>> = {
  'kill-master': [
    { promises: [1, 2], readme: REPLICATION_IS_ASYNC, unlessWaitForReplicas: true },
    { promises: [5], readme: SAVES_ARE_ASYNC },
    { promises: [6], readme: REPLY_LOST },
    { promises: [6], readme: WAIT_DOES_NOT_UNDO },
    { promises: [2], readme: WAIT_DOES_NOT_UNDO, onlyAfterFailedWrite: true },
  ],
  'client-kill': [{ promises: [6], readme: REPLY_LOST }],
  'restart-aof': [{ promises: [6], readme: REPLY_LOST }],
};

/** The allow-list as it applies to a run with or without `waitForReplicas`. */
export function allowancesFor(
  allowances: Readonly<Record<string, readonly Allowance[]>>,
  run: { waitForReplicas: boolean },
): Record<string, Allowance[]> {
  const applying: Record<string, Allowance[]> = {};
  for (const [kind, list] of Object.entries(allowances)) applying[kind] = list.filter((a) => !(a.unlessWaitForReplicas && run.waitForReplicas));
  return applying;
}

/**
 * True if the README names a break of `promise` as possible under faults of `kind`; `afterFailedWrite`
 * says a promise-2 break came from a refusal only failed operations explain.
 */
export function readmeAllows(kind: string, promise: PromiseId, allowances = README_NAMED_VIOLATIONS, afterFailedWrite = false): boolean {
  return (allowances[kind] ?? []).some((a) => a.promises.includes(promise) && (!a.onlyAfterFailedWrite || afterFailedWrite));
}
