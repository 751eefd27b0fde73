/**
 * The short soak of `npm test`: `npm run soak -- --duration 60` (a steady mixed load on one app
 * process over HTTP, idle timeout 3 s, then a wait until every session expired) must find no leak:
 * the heap slope (after forced GC) under the stated limit (RSS is reported; judged in runs of 5 minutes or more), no growth of open handles, connections or listeners,
 * no Redis key left and Redis memory back at its starting level (soak/verdict.ts THRESHOLDS).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

test('60 s of steady load: no leak in the app process or in Redis', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ess-soak-'));
  const json = join(dir, 'soak.json');
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'soak', 'run.ts'), '--duration', '60', '--users', '16', '--json', json], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      child.once('exit', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    });
    console.log(`${stdout}\n${stderr}`);
    expect(code).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8')) as { leaks: string[]; requests: number; peakKeys: number; samples: unknown[]; figures: { redis: { keysLeft: number } } };
    expect(result.leaks).toEqual([]);
    expect(result.requests).toBeGreaterThan(2000);
    expect(result.samples.length).toBeGreaterThanOrEqual(22);
    expect(result.peakKeys).toBeGreaterThan(20); // sessions of many users were live at once ...
    expect(result.figures.redis.keysLeft).toBe(0); // ... and every one of them expired
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 150_000);
