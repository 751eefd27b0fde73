/**
 * Turns a history and the checker's findings into the per-fault-kind table the chaos run prints:
 * operations, faults, violations by promise (README-named ones marked), worst answer time.
 */
import { bucketOf, type CheckResult, type Violation } from './checker';
import { PROMISES, type History, type PromiseId } from './history';

/** One line of the table. */
export interface Row {
  fault: string;
  faults: number;
  operations: number;
  /** Violations per promise: all of them, and how many of those the README names as possible. */
  violations: Map<PromiseId, { total: number; allowed: number }>;
  worstMs: number;
}

/** The table's rows: 'none' (no fault active) first, then each fault kind in order of first appearance. */
export function summarize(history: History, result: CheckResult): Row[] {
  const rows = new Map<string, Row>();
  const row = (fault: string): Row => {
    let r = rows.get(fault);
    if (!r) {
      r = { fault, faults: 0, operations: 0, violations: new Map(PROMISES.map((p) => [p, { total: 0, allowed: 0 }])), worstMs: 0 };
      rows.set(fault, r);
    }
    return r;
  };
  row('none');
  for (const f of history.faults) row(f.kind).faults++;
  for (const op of history.operations) {
    const r = row(bucketOf(op, history.faults, history.meta.settleMs));
    r.operations++;
    r.worstMs = Math.max(r.worstMs, op.end - op.start);
  }
  for (const v of result.violations) {
    const cell = row(v.fault).violations.get(v.promise)!;
    cell.total++;
    if (v.allowed) cell.allowed++;
  }
  return [...rows.values()];
}

/** A promise's column name: P1 ... P6, and 'bad answer'. */
export function label(promise: PromiseId): string {
  return promise === 'answer' ? 'bad answer' : `P${promise}`;
}

/** Violations the README does not name as possible: any of these fails the run. */
export function unexpected(result: CheckResult): Violation[] {
  return result.violations.filter((v) => !v.allowed);
}

/** A Markdown table; a cell `3 (3 named)` means 3 violations, all of a kind the README names as possible. */
export function formatTable(rows: Row[]): string {
  const header = ['fault kind', 'faults', 'operations', ...PROMISES.map(label), 'worst answer ms'];
  const lines = rows.map((r) => [
    r.fault,
    String(r.faults),
    String(r.operations),
    ...PROMISES.map((p) => {
      const { total, allowed } = r.violations.get(p)!;
      return total === 0 ? '0' : allowed === 0 ? `**${total}**` : `${total} (${allowed} named)`;
    }),
    String(Math.round(r.worstMs)),
  ]);
  return [header, header.map((_, i) => (i < 1 ? '---' : '---:')), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** A few lines describing each unexpected violation, for the run's output. */
export function describe(violations: Violation[], limit = 10): string {
  const shown = violations.slice(0, limit).map((v) => {
    const at = `${v.op.kind} #${v.op.id} by ${v.op.user} via ${v.op.process} at ${Math.round(v.op.start)}-${Math.round(v.op.end)} ms`;
    const why = v.evidence ? `; evidence: ${v.evidence.kind} #${v.evidence.id} at ${Math.round(v.evidence.start)}-${Math.round(v.evidence.end)} ms` : '';
    return `${label(v.promise)} [${v.fault}] ${at}: ${v.detail}${why}`;
  });
  if (violations.length > limit) shown.push(`... and ${violations.length - limit} more`);
  return shown.join('\n');
}
