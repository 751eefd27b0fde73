/**
 * The shape of a chaos history: one JSON object per line, written by chaos/run.ts and read by
 * chaos/checker.ts. Pure types and a parser; no I/O, so hand-made histories are easy to test.
 *
 * Line 1 is the {@link HistoryMeta}; every other line is an {@link Operation} or a {@link Fault}.
 * All times are milliseconds on the recorder's one monotonic clock.
 */

/** The run's parameters the checker needs to judge the promises. */
export interface HistoryMeta {
  type: 'meta';
  /** The `storeTimeoutMs` every app process was started with. */
  storeTimeoutMs: number;
  /** The stated margin on top of `storeTimeoutMs` for promise 4 (scheduling, HTTP, a loaded machine). */
  marginMs: number;
  /** `idleTimeout` in ms; a session idle this long may end by itself. */
  idleMs: number;
  /** `absoluteTimeout` in ms, 0 for none. */
  absoluteMs: number;
  /** Live sessions a user may hold (1 on today's code). */
  maxSessions: number;
  /** The app processes' `waitForReplicas` option; absent or null when off. */
  waitForReplicas?: { replicas: number; timeoutMs: number } | null;
  /**
   * How long after a fault is healed its effects still count as its own (a Redis catching up
   * after SIGCONT still answers late). Default 0.
   */
  settleMs?: number;
  /** Free text: topology, seed, processes. */
  [extra: string]: unknown;
}

/** What a simulated user did. */
export type OperationKind = 'login' | 'request' | 'save' | 'logout' | 'revoke';

/** One operation, from the moment the request was sent to the moment its answer arrived. */
export interface Operation {
  type: 'op';
  /** Unique within the history. */
  id: number;
  kind: OperationKind;
  /** The user the operation is about (the user id signed in, or the owner of the token used). */
  user: string;
  /**
   * Label of the session (token) the operation used; for a login, the label its token gets if it
   * succeeds. Absent for a revoke of the whole user (revokeUser); set for a revoke of one session.
   */
  session?: string;
  /** Which app process answered. */
  process: string;
  start: number;
  end: number;
  /** HTTP status; 0 when no answer arrived (the client gave up). */
  status: number;
  /** The error code of a refusal (SESSION_DISPLACED, SESSION_STORE_UNAVAILABLE, ...). */
  code?: string;
  /** The user id the answer names (a signed-in answer). */
  userId?: string;
  /** The data field read back by an accepted request or save (null when unset). */
  read?: string | null;
  /** The value a save wrote (unique per save). */
  value?: string;
}

/** One injected fault and how long it lasted (from injection to healed). */
export interface Fault {
  type: 'fault';
  /** e.g. kill-master, sigstop, restart-aof, client-kill, debug-sleep. */
  kind: string;
  /** Which node, free text. */
  target?: string;
  start: number;
  end: number;
}

/** A parsed history. */
export interface History {
  meta: HistoryMeta;
  operations: Operation[];
  faults: Fault[];
}

/** Parses JSON lines into a history; throws on a line that is not one of the three shapes. */
export function parseHistory(text: string): History {
  let meta: HistoryMeta | null = null;
  const operations: Operation[] = [];
  const faults: Fault[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const entry = JSON.parse(line) as { type?: string };
    if (entry.type === 'meta') meta = entry as HistoryMeta;
    else if (entry.type === 'op') operations.push(entry as Operation);
    else if (entry.type === 'fault') faults.push(entry as Fault);
    else throw new Error(`history line ${index + 1}: unknown entry type ${JSON.stringify(entry.type)}`);
  });
  if (!meta) throw new Error('history has no meta line');
  return { meta, operations, faults };
}

/**
 * The six promises of issue 14, by number, plus 'answer' for an answer outside the documented
 * set (a 500, a 401 to a sign-in): fail closed means 200, 401 or 503, nothing else.
 */
export type PromiseId = 1 | 2 | 3 | 4 | 5 | 6 | 'answer';

/** Every promise, in table order. */
export const PROMISES: readonly PromiseId[] = [1, 2, 3, 4, 5, 6, 'answer'];
