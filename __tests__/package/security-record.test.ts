/**
 * The security record keeps its word: every row of the ASVS 5.0 V7 table (docs/security.md) names test files
 * that exist and test names that those files hold (so a renamed or deleted test breaks this, not the
 * record), or says why it is the application's job; SECURITY.md says how to report a problem.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './consumer-projects';

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const guide = readFileSync(join(REPO, 'docs/security.md'), 'utf8');
const start = guide.indexOf('## ASVS 5.0, chapter V7');
const end = guide.indexOf('\n## ', start + 1);
const section = guide.slice(start, end === -1 ? undefined : end);
const rows = section.split('\n').filter((line) => /^\| 7\.\d/.test(line));
/** ASVS 5.0 V7's requirements: 7.1.1-7.1.3, 7.2.1-7.2.4, 7.3.1-7.3.2, 7.4.1-7.4.5, 7.5.1-7.5.3, 7.6.1-7.6.2. */
const REQUIREMENTS = ['7.1.1', '7.1.2', '7.1.3', '7.2.1', '7.2.2', '7.2.3', '7.2.4', '7.3.1', '7.3.2', '7.4.1', '7.4.2', '7.4.3', '7.4.4', '7.4.5', '7.5.1', '7.5.2', '7.5.3', '7.6.1', '7.6.2'];

/** The test files a "Shown by" cell names, each with the test names quoted after it. */
function citations(cell: string): { file: string; names: string[] }[] {
  const found: { file: string; names: string[] }[] = [];
  const pattern = /`([\w./-]+\.test\.ts)`(?: \(([^()]*(?:\([^()]*\)[^()]*)*)\))?/g;
  for (const match of cell.matchAll(pattern)) {
    const names = [...(match[2] ?? '').matchAll(/"([^"]+)"/g)].map((quoted) => quoted[1]!);
    found.push({ file: match[1]!, names });
  }
  return found;
}

/** A test file's source with escaped quotes undone, so a name reads as the guide quotes it. */
function sourceOf(file: string): string {
  return readFileSync(join(REPO, '__tests__', file), 'utf8').replace(/\\'/g, "'");
}

test('the table covers every requirement of ASVS 5.0 chapter V7, each once', () => {
  expect(start).toBeGreaterThan(-1);
  const listed = rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/7\.\d\.\d/g)].map((m) => m[0]));
  expect(listed.sort()).toEqual([...REQUIREMENTS].sort());
});

test.each(rows.map((row) => [row.slice(2, row.indexOf(' ', 2)), row]))('%s: every named test exists and holds the quoted test names, or the row says it is the application\'s job', (_id, row) => {
  const cells = row.split(' | ');
  const shownBy = cells[cells.length - 1]!.replace(/ \|$/, '');
  const cited = citations(shownBy);
  if (cited.length === 0) {
    expect(shownBy).toBe('n/a');
    expect(cells[1]).toMatch(/Application's job|application's job/);
    return;
  }
  for (const { file, names } of cited) {
    expect([file, existsSync(join(REPO, '__tests__', file))]).toEqual([file, true]);
    expect([file, names.length]).not.toEqual([file, 0]);
    const source = sourceOf(file);
    for (const name of names) expect([file, name, source.includes(name)]).toEqual([file, name, true]);
  }
});

test('SECURITY.md says what is guaranteed, what is not, and how to report a problem privately', () => {
  const policy = readFileSync(join(REPO, 'SECURITY.md'), 'utf8');
  expect(policy).toMatch(/^## Reporting a vulnerability/m);
  expect(policy).toMatch(/privately/);
  expect(policy).toMatch(/^## What the package guarantees/m);
  expect(policy).toMatch(/^## What it does not do/m);
  // From npm (README) and from the repository (the guide).
  expect(readme).toContain('[SECURITY.md](https://github.com/express-single-session/express-single-session/blob/main/SECURITY.md)');
  expect(guide).toContain('[SECURITY.md](../SECURITY.md)');
});
