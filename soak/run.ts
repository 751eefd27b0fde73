/**
 * `npm run soak`: a steady mixed load (sign-in, signed-in requests, saves, sign-out, revoke, and
 * sessions simply abandoned) against one app process over HTTP on 127.0.0.1 with short TTLs, then a
 * quiet wait until every session expired. Samples the app's heap (after a forced GC), RSS, open
 * handles, HTTP connections and listeners, reports their slope (linear fit) and Redis memory before
 * and after, and exits 1 on a clear leak (soak/verdict.ts THRESHOLDS).
 *
 *   npm run soak                    # 10 minutes
 *   npm run soak -- --duration 60   # the short form `npm test` runs (__tests__/soak/short-soak.test.ts)
 *   [--users 20] [--idle 3] [--sample 2] [--json file]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseInfo, redisCommand, startRedis, waitUntil } from '../__tests__/helpers/redis-servers';
import { figures, leaks, THRESHOLDS, type Sample } from './verdict';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '600' },
    users: { type: 'string', default: '20' },
    idle: { type: 'string', default: '3' },
    sample: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});
const durationMs = Number(args.duration) * 1000;
const idleS = Number(args.idle);
const sampleMs = Number(args.sample) * 1000;
const PREFIX = 'soak:';
const log = (line: string) => process.stderr.write(`soak: ${line}\n`);

function startApp(redisPort: number): Promise<{ base: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(__dirname, 'app-process.ts')], {
    env: { ...process.env, NODE_NO_WARNINGS: '1', ESS_REDIS_PORT: String(redisPort), ESS_KEY_PREFIX: PREFIX, ESS_IDLE_TIMEOUT: String(idleS), ESS_ABSOLUTE_TIMEOUT: String(idleS * 4) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the app process exited with ${code} before listening`)));
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('\n')) return;
      const { port } = JSON.parse(out.split('\n')[0]) as { port: number };
      resolve({
        base: `http://127.0.0.1:${port}`,
        async stop() {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

/** One simulated browser: signs in, uses the session a while, then signs out, gets revoked or walks away. */
async function browser(base: string, user: string, until: () => boolean, counts: Map<string, number>): Promise<void> {
  const count = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);
  const call = async (method: string, path: string, cookie: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method, headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.arrayBuffer();
    count(`${path} ${res.status}`);
    return res;
  };
  let round = 0;
  while (!until()) {
    round++;
    // Rotating ids: many users' sessions are live at once and most end by expiring.
    const userId = `${user}.${round % 25}`;
    const login = await call('POST', '/login', '', { userId });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    for (let i = 0; i < 10 && !until(); i++) {
      await call('GET', '/me', cookie);
      if (i % 3 === 0) await call('POST', '/save', cookie, { note: `n${round}.${i}` });
    }
    const end = round % 4;
    if (end === 0) await call('POST', '/logout', cookie);
    else if (end === 1) await call('POST', '/revoke', '', { userId });
    // 2 and 3: abandoned; it expires (or a later round's sign-in of the same id displaces it).
  }
}

async function main(): Promise<number> {
  const redis = await startRedis();
  const app = await startApp(redis.port);
  try {
    const memory = async () => Number(parseInfo(String(await redisCommand(redis.port, 'INFO', 'memory'))).get('used_memory'));
    const keys = async () => Number(await redisCommand(redis.port, 'DBSIZE'));
    const stats = async () => (await (await fetch(`${app.base}/soak/stats`)).json()) as {
      heapUsed: number; rss: number; handles: Record<string, number>; connections: number; listeners: Record<string, number>; faults: string[];
    };
    // Warm up (scripts loaded, JIT, pools) with one session that is ended at once, then take Redis's starting level.
    await fetch(`${app.base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"warm-up"}' });
    await fetch(`${app.base}/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"warm-up"}' });
    await redisCommand(redis.port, 'DEL', ...((await redisCommand(redis.port, 'KEYS', `${PREFIX}*`)) as string[]), 'none');
    const startBytes = await memory();

    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const counts = new Map<string, number>();
    const users = Array.from({ length: Number(args.users) }, (_, i) => `soak-${i % Math.ceil(Number(args.users) / 2)}`);
    const load = Promise.all(users.map((user) => browser(app.base, user, () => elapsed() >= durationMs, counts)));
    const samples: Sample[] = [];
    let peakKeys = 0;
    while (elapsed() < durationMs) {
      await new Promise((r) => setTimeout(r, sampleMs));
      const s = await stats();
      peakKeys = Math.max(peakKeys, await keys());
      samples.push({
        at: elapsed() / 1000, heapUsed: s.heapUsed, rss: s.rss, connections: s.connections,
        handles: Object.values(s.handles).reduce((a, b) => a + b, 0),
        listeners: Object.values(s.listeners).reduce((a, b) => a + b, 0),
      });
    }
    await load;
    const requests = [...counts.values()].reduce((a, b) => a + b, 0);
    log(`${requests} requests in ${(elapsed() / 1000).toFixed(0)} s (${Math.round(requests / (elapsed() / 1000))}/s), up to ${peakKeys} Redis keys; waiting for every session to expire`);
    // Index keys live indexTtlFactor (1.5) x idle; sessions at most the idle timeout.
    await waitUntil('every session key to expire', async () => (await keys()) === 0, idleS * 1500 + 10_000, 200);
    const endBytes = await memory();
    const final = await stats();
    const f = figures(samples, { startBytes, endBytes, keysLeft: await keys() });
    const found = leaks(f, durationMs / 1000);
    if (final.faults.length > 0) found.push(`the app reported ${final.faults.length} unhandled rejection(s) or uncaught exception(s): ${final.faults[0]}`);
    const unexpected = [...counts].filter(([what]) => / 5\d\d$/.test(what));
    if (unexpected.length > 0) found.push(`server errors: ${unexpected.map(([w, n]) => `${w} x${n}`).join(', ')}`);

    const mib = (b: number) => (b / 1024 / 1024).toFixed(2);
    const report = [
      `soak: ${(durationMs / 1000).toFixed(0)} s, ${users.length} browsers, idle timeout ${idleS} s, ${requests} requests, ${samples.length} samples`,
      '',
      '| measure | first | last | slope (per minute) | limit |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| app heap after GC (MiB) | ${mib(samples[0].heapUsed)} | ${mib(samples.at(-1)!.heapUsed)} | ${mib(f.heapSlopePerMinute)} | ${mib(THRESHOLDS.heapBytesPerMinute)} |`,
      `| app RSS (MiB) | ${mib(samples[0].rss)} | ${mib(samples.at(-1)!.rss)} | ${mib(f.rssSlopePerMinute)} | ${durationMs / 1000 >= THRESHOLDS.rssJudgedAfterSeconds ? mib(THRESHOLDS.rssBytesPerMinute) : `reported only (runs under ${THRESHOLDS.rssJudgedAfterSeconds} s)`} |`,
      `| open handles (first / last quarter max) | ${f.handles.first} | ${f.handles.last} | | +${THRESHOLDS.extraHandles} |`,
      `| HTTP connections | ${f.connections.first} | ${f.connections.last} | | +${THRESHOLDS.extraHandles} |`,
      `| event listeners | ${f.listeners.first} | ${f.listeners.last} | | +${THRESHOLDS.extraHandles} |`,
      `| Redis used_memory (MiB), start / after expiry | ${mib(startBytes)} | ${mib(endBytes)} | | +${mib(THRESHOLDS.redisBytes)} |`,
      `| Redis keys, peak / after expiry | ${peakKeys} | ${f.redis.keysLeft} | | 0 |`,
      '',
      found.length === 0 ? 'No leak found.' : `LEAK: ${found.join('; ')}`,
    ].join('\n');
    process.stdout.write(`${report}\n`);
    if (args.json) writeFileSync(args.json, JSON.stringify({ figures: f, samples, requests, peakKeys, leaks: found }, null, 2));
    return found.length === 0 ? 0 : 1;
  } finally {
    await app.stop();
    await redis.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
