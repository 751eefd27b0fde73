/**
 * The short chaos run of `npm test`: `npm run chaos` on the Sentinel deployment for 30 s with a
 * fixed seed and every fault kind (master kill, restart from AOF, CLIENT KILL, and SIGSTOP / DEBUG
 * SLEEP of 300-600 ms, up to twice storeTimeoutMs: writes answered 503 must not run late). The run
 * must exit 0: every violation the checker finds is one the README names as possible
 * (chaos/readme-allowances.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHistory } from '../../chaos/history';

const ROOT = join(__dirname, '..', '..');

function runChaos(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'chaos', 'run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('30 s of users under faults on Sentinel: no violation the README does not name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ess-chaos-'));
  const out = join(dir, 'history.jsonl');
  try {
    const { code, stdout, stderr } = await runChaos([
      '--topology', 'sentinel', '--duration', '30', '--seed', '23', '--processes', '2', '--users', '8',
      '--faults', 'kill-master,restart-aof,client-kill,sigstop,debug-sleep', '--store-timeout', '300', '--stall', '600', '--out', out,
    ]);
    console.log(`${stdout}\n${stderr.split('\n').filter((l) => l.startsWith('chaos')).join('\n')}`);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\| fault kind \| faults \| operations \| P1 \| P2 \| P3 \| P4 \| P5 \| P6 \|/);
    const history = parseHistory(readFileSync(out, 'utf8'));
    expect(history.faults.length).toBeGreaterThanOrEqual(2);
    // The fault scheduler has its own seeded stream: seed 23 starts with a master kill, then restart-aof, sigstop, client-kill, debug-sleep.
    expect(history.faults[0].kind).toBe('kill-master');
    expect(history.operations.length).toBeGreaterThan(1000);
    expect(new Set(history.operations.map((o) => o.kind))).toEqual(new Set(['login', 'request', 'save', 'logout', 'revoke']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 150_000);
