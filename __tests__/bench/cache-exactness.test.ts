/**
 * `npm run bench:cache` in short: two app processes with `localCache` on one private Redis, 100 trials of
 * "sign in through A, send the displaced cookie to B". The first request B gets after A answered must be
 * refused, every time (the script exits with 1 otherwise): a hit waits for the read barrier, a PING on the
 * connection that receives the invalidations, sent after the request arrived (lib/store/local-reads.ts).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

describe('npm run bench:cache', () => {
  it('never has B accept a displaced cookie once A answered the sign-in (100 trials, two processes)', async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = execFile(process.execPath, ['bench/cache-exactness.js', '--trials', '100'], { cwd: ROOT, timeout: 110_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (child.exitCode ?? 1) : 0, output: `${stdout}${stderr}` });
      });
    });
    expect(output).toMatch(/localCache exactness over 100 trials/);
    expect(output).toMatch(/requests B accepted in that window: 0; accepted after B had refused once: 0/);
    expect({ code, tail: output.slice(-2000) }).toEqual({ code: 0, tail: expect.any(String) });
  }, 120_000);
});
