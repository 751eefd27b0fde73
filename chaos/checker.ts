/**
 * The offline history checker: reads a recorded history (chaos/history.ts) and finds every
 * violation of the six promises of issue 14, each attributed to the fault kind it happened under
 * and marked allowed or not by the README's own words (chaos/readme-allowances.ts). Pure: no I/O.
 *
 * "Later" always means real-time order: an operation B is later than A when B started after A's
 * answer arrived (B.start > A.end). Overlapping operations are never ordered.
 */
import type { Fault, History, Operation, PromiseId } from './history';
import { README_NAMED_VIOLATIONS, allowancesFor, readmeAllows, type Allowance } from './readme-allowances';

/** One broken promise, with the operation that broke it and the one that proves it. */
export interface Violation {
  promise: PromiseId;
  op: Operation;
  /** The earlier operation that makes `op` wrong (the newer sign-in, the refusal, the save). */
  evidence?: Operation;
  /** The fault kind it is counted under ('none' outside every fault). */
  fault: string;
  /** True when the README names this break as possible under that fault. */
  allowed: boolean;
  /**
   * Promise 2 only: the refusal it contradicts is explained by nothing but operations answered as
   * failed (a sign-in answered 503 that took effect on a master which then lost it).
   */
  afterFailedWrite?: boolean;
  detail: string;
}

/** What the checker found. */
export interface CheckResult {
  violations: Violation[];
  /** Refusals as ended that no operation or timeout explains (e.g. a sign-in lost on failover). */
  unexplainedEndings: number;
}

/** Refusal codes that mean "this token's session is over". */
export const ENDED = new Set(['SESSION_DISPLACED', 'SESSION_EXPIRED', 'SESSION_REVOKED']);
/** Statuses each kind may answer with (fail closed: a session or 401 or 503). */
const EXPECTED: Record<Operation['kind'], number[]> = {
  login: [200, 503],
  request: [200, 401, 503],
  save: [200, 401, 503],
  logout: [204, 503],
  revoke: [200, 503],
};
/** Slack between the app's clock and Redis's when judging whether a TTL could have run out. */
const EXPIRY_SLACK_MS = 100;

const ok = (op: Operation): boolean => op.status >= 200 && op.status < 300;
const accepted = (op: Operation): boolean => (op.kind === 'request' || op.kind === 'save') && op.status === 200;
const later = (b: Operation, a: Operation): boolean => b.start > a.end;
const overlaps = (op: Operation, from: number, to: number): boolean => op.start < to && op.end > from;

/** Finds every violation in `history`; `allowances` defaults to what the README names today. */
export function check(history: History, allowList: Readonly<Record<string, readonly Allowance[]>> = README_NAMED_VIOLATIONS): CheckResult {
  const { meta, faults } = history;
  // What the README admits depends on the options the run used (waitForReplicas closes some gaps).
  const allowances = allowancesFor(allowList, { waitForReplicas: Boolean(meta.waitForReplicas) });
  // Operations that end or create a session may also WAIT for replicas, up to its timeout, after the script.
  const waitMs = meta.waitForReplicas?.timeoutMs ?? 0;
  const boundOf = (op: Operation): number => meta.storeTimeoutMs + meta.marginMs + (op.kind === 'login' || op.kind === 'logout' || op.kind === 'revoke' ? waitMs : 0);
  const ops = [...history.operations].sort((a, b) => a.start - b.start);
  const bySession = group(ops.filter((o) => o.session !== undefined), (o) => o.session!);
  const byUser = group(ops, (o) => o.user);
  const issued = new Map<string, Operation>();
  for (const o of ops) if (o.kind === 'login' && o.status === 200) issued.set(o.session!, o);

  const violations: Violation[] = [];
  let unexplainedEndings = 0;
  const settleMs = meta.settleMs ?? 0;
  const seen = new Set<string>();
  const report = (promise: PromiseId, op: Operation, detail: string, evidence?: Operation, afterFailedWrite = false): void => {
    // One break per token and evidence: a resurrected token accepted ten times is one lost write.
    if (evidence && promise !== 5) {
      const key = `${promise} ${op.session} ${evidence.id}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    const from = evidence ? Math.min(evidence.start, op.start) : op.start;
    const during = faults.filter((f) => f.start < op.end && f.end + settleMs > from);
    const excusing = during.find((f) => readmeAllows(f.kind, promise, allowances, afterFailedWrite));
    const fault = excusing?.kind ?? during.at(-1)?.kind ?? bucketOf(op, faults, settleMs);
    violations.push({ promise, op, evidence, fault, allowed: excusing !== undefined, detail, ...(promise === 2 ? { afterFailedWrite } : {}) });
  };

  for (const op of ops) {
    if (op.status === 0 || op.end - op.start > boundOf(op)) {
      const bound = `${meta.storeTimeoutMs}${waitMs && boundOf(op) > meta.storeTimeoutMs + meta.marginMs ? ` + ${waitMs}` : ''} + ${meta.marginMs} ms`;
      report(4, op, `answered after ${Math.round(op.end - op.start)} ms (bound ${bound})${op.status === 0 ? ', or never' : ''}`);
    }
    if (op.status !== 0 && !EXPECTED[op.kind].includes(op.status)) report('answer', op, `${op.kind} answered ${op.status} ${op.code ?? ''}`.trim());
    if (op.status === 200 && op.userId !== undefined && op.userId !== op.user) report(3, op, `answered as ${op.userId}, token belongs to ${op.user}`);
    if (!accepted(op)) continue;

    const token = issued.get(op.session!);
    const own = bySession.get(op.session!) ?? [];
    const mine = byUser.get(op.user) ?? [];

    // 1: enough acknowledged sign-ins of this user, all after the token was issued, were answered before this request began.
    if (token) {
      const newer = mine.filter((l) => l.kind === 'login' && l.status === 200 && l.session !== op.session && later(l, token) && later(op, l));
      if (newer.length >= meta.maxSessions) {
        report(1, op, `token ${op.session} accepted after ${newer.length} newer acknowledged sign-in(s) (maxSessions ${meta.maxSessions})`, newer[meta.maxSessions - 1]);
      }
    }

    // 2: the token was refused as ended, signed out or revoked before this request began.
    const refused = own.find((r) => r.status === 401 && ENDED.has(r.code ?? '') && later(op, r));
    const signedOut = own.find((r) => r.kind === 'logout' && ok(r) && later(op, r));
    const revoked = token && mine.find((r) => endsSession(r, op.session!) && r.kind === 'revoke' && ok(r) && later(r, token) && later(op, r));
    const ended = signedOut ?? revoked ?? refused;
    if (ended) {
      const failedOnly = ended === refused && onlyFailedEnders(refused, mine, op.session!, accepted);
      const why = ended === refused ? `being refused as ${refused.code}${failedOnly ? ' (only operations answered as failed could have ended it)' : ''}` : `an acknowledged ${ended.kind}`;
      report(2, op, `token ${op.session} accepted after ${why}`, ended, failedOnly);
    }

    // 5: the value read is the latest acknowledged save of this session, or one that may be concurrent with it.
    if (op.kind === 'request' && op.read !== undefined) {
      const saves = own.filter((s) => s.kind === 'save');
      const lastAcked = saves.filter((s) => s.status === 200 && later(op, s));
      if (op.read === null) {
        if (lastAcked.length > 0) report(5, op, `read no data after save ${lastAcked[0].value} was acknowledged`, lastAcked[0]);
      } else {
        const write = saves.find((s) => s.value === op.read);
        if (!write) report(5, op, `read ${op.read}, which no save of session ${op.session} wrote`);
        else if (later(write, op)) report(5, op, `read ${op.read} before its save began`, write);
        else {
          const overwritten = lastAcked.find((s) => later(s, write));
          if (overwritten) report(5, op, `read ${op.read} after save ${overwritten.value} overwrote it and was acknowledged`, overwritten);
        }
      }
    }
  }

  // 6: nothing answered as failed takes effect after a later request saw it had not.
  for (const [session, own] of bySession) {
    const token = issued.get(session);
    const reads = own.filter((r) => accepted(r));
    for (const r2 of own) {
      // A failed save's value appears after a later read showed something else.
      if (r2.kind === 'request' && r2.status === 200 && r2.read) {
        const write = own.find((s) => s.kind === 'save' && s.value === r2.read && !ok(s));
        const before = write && reads.find((r1) => r1.kind === 'request' && later(r1, write) && later(r2, r1) && r1.read !== r2.read);
        if (write && before) report(6, r2, `save ${write.value} answered ${write.status} took effect after a later request read ${before.read ?? 'nothing'}`, write);
      }
      // The token is refused as ended though nothing that could end it overlapped the time since it was last accepted.
      if (r2.status !== 401 || !ENDED.has(r2.code ?? '') || !token) continue;
      const r1 = reads.filter((r) => later(r2, r)).pop();
      if (!r1) continue;
      const enders = (byUser.get(r2.user) ?? []).filter((e) => endsSession(e, session));
      const explained = enders.some((e) => overlaps(e, r1.start, r2.end))
        || r2.end + EXPIRY_SLACK_MS >= r1.start + meta.idleMs
        || (meta.absoluteMs > 0 && r2.end + EXPIRY_SLACK_MS >= token.start + meta.absoluteMs);
      if (explained) continue;
      const late = enders.find((e) => !ok(e) && e.end < r1.start);
      if (late) report(6, r2, `token ${session} ended by ${late.kind} answered ${late.status} after a later request was accepted`, late);
      else unexplainedEndings++;
    }
  }
  return { violations, unexplainedEndings };
}

/**
 * True if the refusal `refused` of `session` is explained by operations answered as failed only: some
 * operation that could end the session overlapped the time since it was last accepted (or issued),
 * and none of those was acknowledged.
 */
function onlyFailedEnders(refused: Operation, mine: Operation[], session: string, isAccepted: (op: Operation) => boolean): boolean {
  const lastAccepted = mine.filter((r) => r.session === session && isAccepted(r) && later(refused, r)).pop();
  const from = lastAccepted?.start ?? -Infinity;
  const enders = mine.filter((e) => endsSession(e, session) && overlaps(e, from, refused.end));
  return enders.length > 0 && enders.every((e) => !ok(e));
}

/**
 * True if `op` may end session `session` of its user: another sign-in (displacement), this
 * session's sign-out, a revoke of the user (no session label) or of this session.
 */
function endsSession(op: Operation, session: string): boolean {
  if (op.kind === 'login') return op.session !== session;
  if (op.kind === 'logout') return op.session === session;
  return op.kind === 'revoke' && (op.session === undefined || op.session === session);
}

/** The fault kind an operation ran under: the latest fault whose window (until healed, plus `settleMs`) holds its start. */
export function bucketOf(op: Operation, faults: readonly Fault[], settleMs = 0): string {
  let kind = 'none';
  let latest = -Infinity;
  for (const f of faults) {
    if (f.start <= op.start && op.start <= f.end + settleMs && f.start > latest) {
      kind = f.kind;
      latest = f.start;
    }
  }
  return kind;
}

function group<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
