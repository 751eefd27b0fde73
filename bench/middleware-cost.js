/**
 * `npm run bench:middleware`: the package's own CPU per signed-in request, without HTTP: the
 * middleware, requireSession and the end-of-response check, 50 requests in flight, against a
 * private redis-server. Far less noisy than req/s on a shared machine, so it is the number to
 * watch when changing the hot path. Loads lib/ through tsx (no build needed).
 */
'use strict';
require('tsx/cjs');
const Redis = require('ioredis');
const { startRedis } = require('../__tests__/helpers/redis-servers.ts');
const { createSessionManager } = require('../lib');

const REQUESTS = 30_000;
const IN_FLIGHT = 50;
const ROUNDS = 5;

async function main() {
  const server = await startRedis();
  const redis = new Redis({ host: server.host, port: server.port, enableAutoPipelining: true });
  try {
    const sessions = createSessionManager({ redis, ...JSON.parse(process.env.ESS_BENCH_OPTIONS ?? '{}') });
    const middleware = sessions.middleware();
    const guard = sessions.requireSession();
    const response = () => ({ headersSent: false, cookie() {}, clearCookie() {}, end() {}, status() { return this; }, set() { return this; }, json() {} });
    let cookieValue = '';
    const loginRes = { ...response(), cookie: (_name, value) => (cookieValue = value) };
    await sessions.login({ secret: 'bench', secure: false, signedCookies: {}, cookies: {}, get: () => undefined }, loginRes, 'bench-user');

    const one = () =>
      new Promise((resolve, reject) => {
        const req = { secret: 'bench', secure: false, signedCookies: { ess_sid: cookieValue }, cookies: {}, headers: {} };
        const res = response();
        middleware(req, res, () =>
          guard(req, res, () => {
            if (req.session.userId !== 'bench-user') reject(new Error('wrong session'));
            res.end();
            resolve();
          }),
        );
      });
    const run = async (count) => {
      let started = 0;
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (started++ < count) await one();
      }));
    };

    await run(5000); // warm-up: JIT and script cache
    const perRequest = [];
    for (let round = 0; round < ROUNDS; round++) {
      const before = process.cpuUsage();
      await run(REQUESTS);
      const used = process.cpuUsage(before);
      perRequest.push((used.user + used.system) / REQUESTS);
    }
    perRequest.sort((a, b) => a - b);
    console.log(`express-single-session middleware: ${perRequest[ROUNDS >> 1].toFixed(1)} µs CPU per signed-in request (median of ${ROUNDS} rounds of ${REQUESTS}, ${IN_FLIGHT} in flight; all rounds: ${perRequest.map((v) => v.toFixed(1)).join(', ')})`);
  } finally {
    redis.disconnect();
    await server.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
