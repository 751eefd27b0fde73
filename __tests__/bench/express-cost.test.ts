/**
 * `npm run bench:express` runs end to end (tiny rounds, `--from-source`, into a temporary file) and
 * writes a row for every app, the skeleton included: what the README's cost breakdown is read from.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

describe('npm run bench:express', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ess-bench-express-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('measures every app through real Express in one process and writes the section, with each app signed in', async () => {
    const out = join(dir, 'RESULTS.md');
    const args = ['bench/express-cost.js', '--rounds', '1', '--requests', '300', '--from-source', '--out', out, '--write'];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = execFile(process.execPath, args, { cwd: ROOT, timeout: 110_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (child.exitCode ?? 1) : 0, output: `${stdout}${stderr}` });
      });
    });
    expect({ code, tail: output.slice(-2000) }).toEqual({ code: 0, tail: expect.any(String) });
    const section = readFileSync(out, 'utf8');
    expect(section).toMatch(/^## Per-request CPU in one process\n/);
    for (const app of ['A. bare Express', 'F. cookie-parser floor', 'S. skeleton', 'B. express-session', 'D-ioredis.', 'D-node-redis.', 'E. express-single-session, localCache']) {
      const row = section.split('\n').find((line) => line.startsWith(`| ${app}`));
      expect(row).toBeDefined();
      const cells = row!.split('|').slice(1, -1).map((cell) => cell.trim());
      expect(Number(cells[1])).toBeGreaterThan(0); // CPU µs per request
      expect(cells[3]).toMatch(/^\d+\.\d\dx$/); // against the floor
    }
  }, 120_000);
});
