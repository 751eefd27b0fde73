/**
 * `npm run bench:express`: the app CPU per signed-in `GET /me` of each benchmarked app, in one process,
 * through real Express with real Node requests and responses on an in-memory socket (no HTTP parsing,
 * no TCP, no load generator), apps in turn within each round, median of the rounds. Far less noisy
 * than requests/s on a shared machine; it shows what each layer costs, including the skeleton app S
 * (the Express contract every session middleware pays before any session work).
 * Options: --rounds N (default 7), --requests N per app and round (default 10000), --no-build (use dist/ as
 * it is), --from-source (load lib/ through tsx instead of dist/), --out FILE (default bench/RESULTS.md), --write
 * (puts the section into the results file under "## Per-request CPU in one process").
 */
'use strict';
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Duplex } = require('node:stream');
const { putSection } = require('./report');

const ROOT = path.join(__dirname, '..');
const HEADING = '## Per-request CPU in one process';
const IN_FLIGHT = 50;
const APPS = [
  ['bare', 'A. bare Express (no session)'],
  ['cookie-floor', 'F. cookie-parser floor (no session store)'],
  ['skeleton', 'S. skeleton: F + an empty session layer, a guard and a res.end hook'],
  ['express-session', 'B. express-session + connect-redis'],
  ['single-session', 'D-ioredis. express-single-session'],
  ['single-session-node-redis', 'D-node-redis. express-single-session'],
  ['local-cache', 'E. express-single-session, localCache'],
];

/** A socket that accepts everything written to it and never reads. */
class NullSocket extends Duplex {
  _read() {}
  _write(_chunk, _encoding, callback) { callback(); }
  _writev(_chunks, callback) { callback(); }
  setTimeout() { return this; }
  setNoDelay() { return this; }
  setKeepAlive() { return this; }
}

/** Runs one request through `app` and resolves with its response once it finished. */
function request(app, method, url, cookie) {
  return new Promise((resolve, reject) => {
    const socket = new NullSocket();
    const req = new http.IncomingMessage(socket);
    Object.assign(req, { method, url, httpVersionMajor: 1, httpVersionMinor: 1, httpVersion: '1.1', complete: true });
    req.headers = cookie ? { host: 'bench', cookie } : { host: 'bench' };
    req.push(null);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', () => resolve(res));
    res.on('error', reject);
    app(req, res);
  });
}

function option(args, name, fallback) {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive whole number`);
  return value;
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

async function main() {
  const args = process.argv.slice(2);
  const rounds = option(args, '--rounds', 7);
  const count = option(args, '--requests', 10_000);
  const out = args.includes('--out') ? path.resolve(args[args.indexOf('--out') + 1]) : path.join(__dirname, 'RESULTS.md');
  if (args.includes('--from-source')) process.env.ESS_BENCH_FROM_SOURCE = '1'; // the apps load lib/ through tsx
  else if (!args.includes('--no-build')) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  require('tsx/cjs'); // the test helper that starts a private redis-server is TypeScript
  const { startRedis } = require('../__tests__/helpers/redis-servers.ts');
  const server = await startRedis();
  const apps = [];
  try {
    let db = 1;
    for (const [file, label] of APPS) {
      const { createApp } = require(`./apps/${file}.js`);
      const { app, close } = await createApp({ redisPort: server.port, db: db++ });
      const signIn = await request(app, 'POST', `/login?user=bench-${file}`, '');
      const setCookie = signIn.getHeader('set-cookie');
      const cookie = setCookie ? String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0] : '';
      apps.push({ file, label, app, close, cookie, cpu: [] });
    }
    const run = async (entry, total) => {
      let started = 0;
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (started++ < total) {
          const res = await request(entry.app, 'GET', '/me', entry.cookie);
          if (res.statusCode !== 200) throw new Error(`${entry.file}: GET /me answered ${res.statusCode}`);
        }
      }));
    };
    const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' / ');
    for (const entry of apps) await run(entry, 5000); // warm-up: JIT, script cache, local cache
    for (let round = 0; round < rounds; round++) {
      for (const entry of apps) {
        const before = process.cpuUsage();
        await run(entry, count);
        const used = process.cpuUsage(before);
        entry.cpu.push((used.user + used.system) / count);
      }
      console.error(`round ${round + 1}/${rounds}: ${apps.map((e) => `${e.file} ${e.cpu[round].toFixed(1)}`).join(', ')}`);
    }
    const loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' / ');
    const section = report(apps, { rounds, count, loadBefore, loadAfter });
    process.stdout.write(section);
    if (args.includes('--write')) {
      putSection(out, HEADING, section);
      console.error(`written to ${path.relative(ROOT, out)}`);
    }
  } finally {
    for (const entry of apps) await entry.close();
    await server.destroy();
  }
}

/** Ratios are of requests per CPU second (the inverse of CPU per request), median of the per-round ratios. */
function report(apps, { rounds, count, loadBefore, loadAfter }) {
  const by = Object.fromEntries(apps.map((e) => [e.file, e]));
  const ratio = (entry, base) => median(entry.cpu.map((cpu, round) => base.cpu[round] / cpu)).toFixed(2);
  const rows = apps.map((e) => `| ${e.label} | ${median(e.cpu).toFixed(1)} | ${ratio(e, by.bare)}x | ${ratio(e, by['cookie-floor'])}x | ${ratio(e, by['express-session'])}x | ${(median(e.cpu) - median(by['cookie-floor'].cpu)).toFixed(1)} |`);
  return [
    `${HEADING}`,
    '',
    `\`npm run bench:express\` (measured ${new Date().toISOString().slice(0, 19)}Z; ${os.cpus().length} CPUs, load average ${loadBefore} before and ${loadAfter} after; Node ${process.versions.node}):`,
    `each app's signed-in \`GET /me\` through real Express, Node's own request and response objects on an in-memory socket, ${IN_FLIGHT} in flight,`,
    `${count} requests per app and round, apps in turn, ${rounds} round(s); the app's CPU time per request (its Redis client included, the Redis server not).`,
    'No HTTP parsing, no TCP and no load generator share the CPUs, so it is far steadier than requests/s; ratios are requests per CPU second, the median of each round\'s ratio.',
    '',
    '| App | app CPU µs per request (median) | vs bare Express | vs floor F | vs express-session | µs above F |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
