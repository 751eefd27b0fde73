/**
 * `npm run bench:cache`: how exact localCache is across processes. Two app processes with
 * `localCache: true` share one private Redis; for each trial a user signs in through A, B answers that
 * cookie twice (so B has it cached), the user signs in again through A (displacing the first session),
 * and B is asked with the old cookie in a tight loop until it refuses it. Reports p50/p99 of the time
 * from A's answer to B's first refusal, the requests B accepted in that window (must be 0: the first
 * request after the sign-in's answer is refused), and any request B accepted after refusing once (must be 0);
 * either above 0 exits with 1. For scale it also reports B's answer time for a cookie it
 * has not cached: a refusal needs that read from Redis, so the window cannot be shorter. Requests go through node:http on one
 * keep-alive socket per app (fetch costs the harness more CPU, which a loaded machine turns into delay).
 * Options: --trials N (default 300).
 */
'use strict';
require('tsx/cjs');
// The apps load lib/ through tsx (as npm run bench -- --from-source does): no build needed, a fresh checkout runs this as is.
process.env.ESS_BENCH_FROM_SOURCE = '1';
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { startRedis } = require('../__tests__/helpers/redis-servers.ts');
const { startApp } = require('./processes');

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One request on the app's keep-alive socket; resolves to the status and the headers once the body is read. */
function send(app, method, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${app.url}${path}`, { method, headers, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res));
    });
    req.once('error', reject);
    req.end();
  });
}

async function login(app, user) {
  const res = await send(app, 'POST', `/login?user=${user}`);
  if (res.statusCode !== 200) throw new Error(`login answered ${res.statusCode}`);
  return res.headers['set-cookie'][0].split(';')[0];
}

async function me(app, cookie) {
  return (await send(app, 'GET', '/me', { cookie })).statusCode;
}

async function main() {
  const at = process.argv.indexOf('--trials');
  const trials = at > 0 ? Number(process.argv[at + 1]) : 300;
  if (!Number.isInteger(trials) || trials < 1) throw new Error('--trials needs a positive whole number');
  const redis = await startRedis();
  const a = await startApp('local-cache', redis.port, 0);
  const b = await startApp('local-cache', redis.port, 0);
  const windows = [];
  const uncachedAnswers = [];
  let staleAccepted = 0;
  let acceptedAfterRefusal = 0;
  try {
    for (let i = 0; i < trials; i++) {
      const user = `exact-${i}`;
      const old = await login(a, user);
      const asked = performance.now();
      if ((await me(b, old)) !== 200) throw new Error('B did not accept a fresh cookie');
      uncachedAnswers.push(performance.now() - asked);
      if ((await me(b, old)) !== 200) throw new Error('B did not accept a fresh cookie');
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
  uncachedAnswers.sort((x, y) => x - y);
  const ms = (v) => v.toFixed(2);
  console.log(`localCache exactness over ${trials} trials (two processes, one Redis, loopback):`);
  console.log(`  sign-in answered by A -> B refuses the displaced cookie: p50 ${ms(percentile(windows, 50))} ms, p99 ${ms(percentile(windows, 99))} ms, max ${ms(windows.at(-1))} ms`);
  console.log(`  for scale, B answering a cookie it has not cached (one read from Redis, as a refusal needs): p50 ${ms(percentile(uncachedAnswers, 50))} ms, p99 ${ms(percentile(uncachedAnswers, 99))} ms`);
  console.log(`  requests B accepted in that window: ${staleAccepted}; accepted after B had refused once: ${acceptedAfterRefusal}`);
  // Either count above 0 means a process trusted its cache after the write was answered: a failure, not a figure.
  if (staleAccepted > 0 || acceptedAfterRefusal > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
