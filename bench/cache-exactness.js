/**
 * `npm run bench:cache`: how exact localCache is across processes. Two app processes with
 * `localCache: true` share one private Redis; for each trial a user signs in through A, B answers that
 * cookie twice (so B has it cached), the user signs in again through A (displacing the first session),
 * and B is asked with the old cookie in a tight loop until it refuses it. Reports p50/p99 of the time
 * from A's answer to B's first refusal, the requests B accepted in that window, and any request B
 * accepted after refusing once (must be 0). Options: --trials N (default 300).
 */
'use strict';
require('tsx/cjs');
const { performance } = require('node:perf_hooks');
const { startRedis } = require('../__tests__/helpers/redis-servers.ts');
const { startApp } = require('./processes');

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function login(app, user) {
  const res = await fetch(`${app.url}/login?user=${user}`, { method: 'POST' });
  if (!res.ok) throw new Error(`login answered ${res.status}`);
  return res.headers.getSetCookie()[0].split(';')[0];
}

async function me(app, cookie) {
  const res = await fetch(`${app.url}/me`, { headers: { cookie } });
  await res.arrayBuffer();
  return res.status;
}

async function main() {
  const at = process.argv.indexOf('--trials');
  const trials = at > 0 ? Number(process.argv[at + 1]) : 300;
  if (!Number.isInteger(trials) || trials < 1) throw new Error('--trials needs a positive whole number');
  const redis = await startRedis();
  const a = await startApp('local-cache', redis.port, 0);
  const b = await startApp('local-cache', redis.port, 0);
  const windows = [];
  let staleAccepted = 0;
  let acceptedAfterRefusal = 0;
  try {
    for (let i = 0; i < trials; i++) {
      const user = `exact-${i}`;
      const old = await login(a, user);
      if ((await me(b, old)) !== 200 || (await me(b, old)) !== 200) throw new Error('B did not accept a fresh cookie');
      await login(a, user);
      const answered = performance.now();
      let status = await me(b, old);
      while (status === 200) {
        staleAccepted++;
        if (performance.now() - answered > 1000) throw new Error('B still accepted a displaced cookie 1 s after the sign-in');
        status = await me(b, old);
      }
      windows.push(performance.now() - answered);
      for (let k = 0; k < 5; k++) if ((await me(b, old)) === 200) acceptedAfterRefusal++;
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await redis.destroy();
  }
  windows.sort((x, y) => x - y);
  const ms = (v) => v.toFixed(2);
  console.log(`localCache exactness over ${trials} trials (two processes, one Redis, loopback):`);
  console.log(`  sign-in answered by A -> B refuses the displaced cookie: p50 ${ms(percentile(windows, 50))} ms, p99 ${ms(percentile(windows, 99))} ms, max ${ms(windows.at(-1))} ms`);
  console.log(`  requests B accepted in that window: ${staleAccepted}; accepted after B had refused once: ${acceptedAfterRefusal}`);
  if (acceptedAfterRefusal > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
