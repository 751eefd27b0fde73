/**
 * The checker as a command: `node --import tsx chaos/check.ts history.jsonl` prints the table and
 * the violations the README does not name, and exits 1 if there are any.
 */
import { readFileSync } from 'node:fs';
import { check } from './checker';
import { parseHistory } from './history';
import { describe, formatTable, summarize, unexpected } from './table';

/** Checks one history text; returns the printable report and whether it passed. */
export function checkText(text: string): { report: string; passed: boolean } {
  const history = parseHistory(text);
  const result = check(history);
  const bad = unexpected(result);
  const lines = [formatTable(summarize(history, result)), ''];
  const afterFailed = result.violations.filter((v) => v.afterFailedWrite).length;
  lines.push(`${result.violations.length} violation(s), ${bad.length} not named by the README; ${result.unexplainedEndings} ending(s) explained by no operation (lost sign-ins).`);
  if (afterFailed > 0) lines.push(`${afterFailed} P2 break(s) where only operations answered 503 had ended the token (a write whose WAIT or reply failed, then lost with its master).`);
  lines.push(history.meta.waitForReplicas ? `Apps ran with waitForReplicas ${JSON.stringify(history.meta.waitForReplicas)}.` : 'Apps ran without waitForReplicas.');
  if (bad.length > 0) lines.push('', 'Violations the README does not name as possible:', describe(bad));
  return { report: lines.join('\n'), passed: bad.length === 0 };
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node --import tsx chaos/check.ts <history.jsonl>\n');
    process.exit(2);
  }
  const { report, passed } = checkText(readFileSync(file, 'utf8'));
  process.stdout.write(`${report}\n`);
  process.exitCode = passed ? 0 : 1;
}
