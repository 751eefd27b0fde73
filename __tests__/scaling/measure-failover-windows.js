/**
 * Measures the failover windows the README states: runs the Cluster and Sentinel failover suites
 * RUNS times (default 10; both clients each time), reads the line each test prints, and prints
 * min/median/max of the 503 window and of its end after the promotion, per topology and client
 * (a failed run's output is kept in the temporary folder).
 *   node __tests__/scaling/measure-failover-windows.js [RUNS]
 */
const { spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const runs = Number(process.argv[2] ?? 10);
const root = join(__dirname, '..', '..');
const files = ['__tests__/scaling/cluster-failover.test.ts', '__tests__/scaling/sentinel.test.ts'];
const LINE = /(cluster|sentinel) failover \((ioredis|node-redis)\):.* over a (\d+) ms window, the last ending (-?\d+) ms after the promotion/;
const figures = new Map();
let failed = 0;

for (let run = 1; run <= runs; run++) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [join(root, 'node_modules/jest/bin/jest.js'), ...files], { cwd: root, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) {
    failed++;
    const log = join(tmpdir(), `failover-run-${process.pid}-${run}.log`);
    writeFileSync(log, output);
    console.log(`run ${run} failed; its output: ${log}`);
  }
  const seen = [];
  for (const line of output.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const key = `${match[1]}, ${match[2]}`;
    if (!figures.has(key)) figures.set(key, { window: [], follow: [] });
    figures.get(key).window.push(Number(match[3]));
    figures.get(key).follow.push(Number(match[4]));
    seen.push(`${key}: ${match[3]} ms (+${match[4]})`);
  }
  console.log(`run ${run}/${runs} (${result.status === 0 ? 'passed' : 'FAILED'}, ${Math.round((Date.now() - started) / 1000)} s): ${seen.join('; ')}`);
}

const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
  return `${sorted[0]} / ${median} / ${sorted[sorted.length - 1]}`;
};
console.log('\ntopology, client: runs; 503 window min / median / max ms; last 503 ended after the promotion, min / median / max ms');
for (const [key, { window, follow }] of [...figures].sort()) console.log(`${key}: ${window.length}; ${stats(window)}; ${stats(follow)}`);
console.log(`${failed} of ${runs} runs failed`);
process.exitCode = failed > 0 ? 1 : 0;
