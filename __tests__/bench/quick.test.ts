/**
 * The benchmark's quick mode runs end to end and writes its table (to a temporary file, so
 * tracked files stay untouched; `--from-source` so dist/ is not rebuilt under other tests). It checks the measurements that are facts, not timings: every
 * app answered, and this package sends one pipeline of plain reads per signed-in request and nothing otherwise.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function runQuickBench(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['bench/run.js', '--quick', '--from-source', '--sessions', '2000', '--duration', '2', '--out', out], { cwd: ROOT, timeout: 170_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (child.exitCode ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const rowOf = (table: string, app: string): string[] => {
  const line = table.split('\n').find((l) => l.startsWith(`| ${app}`));
  if (!line) throw new Error(`no row for ${app} in:\n${table}`);
  return line.split('|').slice(1, -1).map((cell) => cell.trim());
};

describe('npm run bench -- --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ess-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a table comparing the five apps, with one round trip of plain reads per signed-in request for this package on either client', async () => {
    const out = join(dir, 'RESULTS.md');
    const { code, output } = await runQuickBench(out);
    expect({ code, tail: output.slice(-2000) }).toEqual({ code: 0, tail: expect.any(String) });
    const table = readFileSync(out, 'utf8');
    expect(table).toMatch(/Node \d+\.\d+\.\d+, Redis \d+\.\d+\.\d+/);
    for (const app of ['A. bare Express', 'B. express-session', 'C. hand-written', 'D-ioredis. express-single-session', 'D-node-redis. express-single-session']) {
      expect(Number(rowOf(table, app)[1])).toBeGreaterThan(0);
    }
    for (const client of ['ioredis', 'node-redis']) {
      const ours = rowOf(table, `D-${client}. express-single-session`);
      // HGETALL and HGET in one round trip, plus a refresh script now and then (once per
      // session per touchAfter): between 2 and 3 commands per signed-in request, none for anonymous ones.
      expect(Number(ours.at(-2))).toBeGreaterThanOrEqual(2);
      expect(Number(ours.at(-2))).toBeLessThan(3);
      expect(ours.at(-1)).toBe('0.00');
    }
    expect(table).toMatch(/D on node-redis against D on ioredis, side by side in the same rounds: \d+\.\d\dx the requests\/s/);
    const handWritten = rowOf(table, 'C. hand-written');
    expect(handWritten.slice(-2)).toEqual(['4.00', '0.00']);
  }, 180_000);
});
