/**
 * `npm run bench [-- --quick] [-- --sessions N]`: serves the same protected route from five apps
 * (bare Express, express-session + connect-redis, a hand-written ioredis design, this package on
 * ioredis and on node-redis),
 * drives each with autocannon in turn, and writes the comparison to bench/RESULTS.md
 * (quick mode: bench/.tmp/RESULTS.md). Options: --rounds, --duration (s), --connections,
 * --sessions (live sessions in the scaling check), --out, --no-build (use dist/ as it is),
 * --from-source (load lib/ through tsx instead of dist/).
 */
'use strict';
require('tsx/cjs'); // to load the shared TypeScript redis-server starter
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Redis = require('ioredis');
const { startRedis } = require('../__tests__/helpers/redis-servers.ts');
const { startApp, runLoad } = require('./processes');
const { countCommands, redisCpuMicros, usedMemory } = require('./redis-probe');
const { median, renderReport } = require('./report');

const ROOT = path.join(__dirname, '..');
const APPS = [
  { key: 'A', name: 'bare', db: 0 },
  { key: 'B', name: 'express-session', db: 1 },
  { key: 'C', name: 'hand-written', db: 2 },
  { key: 'D-ioredis', name: 'single-session', db: 3 },
  { key: 'D-node-redis', name: 'single-session-node-redis', db: 6 },
  { key: 'E', name: 'local-cache', db: 7 },
  { key: 'E-node-redis', name: 'local-cache-node-redis', db: 9 },
  { key: 'F', name: 'cookie-floor', db: 8 },
];
/** `ESS_BENCH_APPS=E,E-node-redis` runs only those apps and A, B, D and F, which the ratios need. */
const ONLY = process.env.ESS_BENCH_APPS ? new Set(['A', 'B', 'D-ioredis', 'D-node-redis', 'F', ...process.env.ESS_BENCH_APPS.split(',')]) : null;
const SCALE_DBS = { small: 4, large: 5 };
const SMALL_SESSIONS = 1000;

const USAGE = 'usage: npm run bench -- [--live [--trials N] [--streams N] [--cycles N] [--write]] | [--quick] [--rounds N] [--duration SECONDS] [--connections N] [--sessions N] [--out FILE] [--no-build | --from-source]';

function parseArgs(argv) {
  const quick = argv.includes('--quick');
  const settings = quick
    ? { rounds: 1, seconds: 3, loginSeconds: 2, sessions: 20_000, loginRounds: 1, scaleRounds: 1, scaleSeconds: 2, sample: 200, out: 'bench/.tmp/RESULTS.md' }
    : { rounds: 5, seconds: 10, loginSeconds: 5, sessions: 1_000_000, loginRounds: 3, scaleRounds: 3, scaleSeconds: 10, sample: 1000, out: 'bench/RESULTS.md' };
  Object.assign(settings, { quick, connections: 50, build: true, command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ') });
  const number = (flag, value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive whole number; received ${JSON.stringify(value)}.\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--quick') continue;
    if (flag === '--no-build') settings.build = false;
    else if (flag === '--from-source') {
      settings.build = false;
      process.env.ESS_BENCH_FROM_SOURCE = '1'; // inherited by the app processes
    } else if (flag === '--rounds') settings.rounds = number(flag, argv[++i]);
    else if (flag === '--duration') settings.seconds = number(flag, argv[++i]);
    else if (flag === '--connections') settings.connections = number(flag, argv[++i]);
    else if (flag === '--sessions') settings.sessions = number(flag, argv[++i]);
    else if (flag === '--out' && argv[i + 1]) settings.out = argv[++i];
    else throw new Error(`unknown option ${JSON.stringify(flag)}.\n${USAGE}`);
  }
  if (settings.sessions <= SMALL_SESSIONS) throw new Error(`--sessions must be more than ${SMALL_SESSIONS}, the baseline it is compared with.`);
  return settings;
}

/** Fails the run when a load run saw errors or unexpected statuses: such numbers mean nothing. */
function checked(result, what, expectNon2xx = 0) {
  if (result.errors > 0 || result.non2xx !== expectNon2xx) {
    throw new Error(`${what}: ${result.errors} errors and ${result.non2xx} non-2xx answers (expected ${expectNon2xx})`);
  }
  return result;
}

/** Signs `count` users in over HTTP and returns their cookies (`name=value`). */
async function signIn(app, prefix, count) {
  const cookies = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${app.url}/login?user=${prefix}${i}`, { method: 'POST' });
    if (!res.ok) throw new Error(`${app.name}: login answered ${res.status}`);
    const [cookie] = res.headers.getSetCookie();
    cookies.push(cookie ? cookie.split(';')[0] : '');
  }
  return cookies;
}

const protectedRoute = (cookies) => (cookies.length ? cookies.map((cookie) => ({ method: 'GET', path: '/me', headers: { cookie } })) : [{ method: 'GET', path: '/me' }]);

async function measureLogins(ctx, app, sweep) {
  const redis = new Redis({ host: '127.0.0.1', port: ctx.redis.port, db: app.db });
  try {
    const before = await usedMemory(redis);
    const load = { url: app.url, connections: ctx.settings.connections, duration: ctx.settings.loginSeconds, loginAs: `user-${sweep}-` };
    const result = checked(await runLoad(load), `${app.name} login`);
    const after = await usedMemory(redis);
    app.loginRuns.push(result.rps);
    if (sweep === 0 && app.keepsSessions) {
      app.signedInUsers = result.requests;
      app.bytesPerUser = (after - before) / result.requests;
    }
  } finally {
    redis.disconnect();
  }
}

async function measureCommands(ctx, app) {
  const { port } = ctx.redis;
  const sample = ctx.settings.sample;
  const base = { url: app.url, connections: 10, amount: sample };
  const per = async (requests, expectNon2xx, what) => {
    let result;
    const count = await countCommands(port, app.db, async () => {
      result = checked(await runLoad({ ...base, ...requests }), what, expectNon2xx);
    });
    return count / result.requests;
  };
  app.commandsPerRequest = await per({ requests: protectedRoute(app.cookies) }, 0, `${app.name} signed-in sample`);
  app.commandsPerAnonymous = await per({ requests: [{ method: 'GET', path: '/me' }] }, app.keepsSessions ? sample : 0, `${app.name} anonymous sample`);
  app.commandsPerLogin = await per({ loginAs: 'sample-' }, 0, `${app.name} login sample`);
}

async function measureScaling(ctx) {
  const { settings, redis } = ctx;
  const { seed } = require('./apps/single-session');
  const where = (db) => ({ redisPort: redis.port, db });
  const levels = [
    { sessions: SMALL_SESSIONS, db: SCALE_DBS.small, runs: [] },
    { sessions: settings.sessions, db: SCALE_DBS.large, runs: [] },
  ];
  const client = new Redis({ host: '127.0.0.1', port: redis.port, db: SCALE_DBS.large });
  const before = await usedMemory(client);
  const started = process.hrtime.bigint();
  await seed(where(SCALE_DBS.large), settings.sessions);
  const fillSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytesPerSession = ((await usedMemory(client)) - before) / settings.sessions;
  client.disconnect();
  await seed(where(SCALE_DBS.small), SMALL_SESSIONS);
  for (const level of levels) {
    level.app = await startApp('single-session', redis.port, level.db);
    ctx.started.push(level.app);
    level.cookies = await signIn(level.app, 'scale-', settings.connections);
  }
  for (let round = 0; round < settings.scaleRounds; round++) {
    for (const level of levels) {
      const load = { url: level.app.url, connections: settings.connections, duration: settings.scaleSeconds, requests: protectedRoute(level.cookies) };
      level.runs.push(checked(await runLoad(load), `scaling with ${level.sessions} sessions`));
    }
  }
  const summary = levels.map((level) => ({
    sessions: level.sessions,
    rps: median(level.runs.map((r) => r.rps)),
    mean: median(level.runs.map((r) => r.mean)),
    p50: median(level.runs.map((r) => r.p50)),
    p99: median(level.runs.map((r) => r.p99)),
  }));
  return {
    rounds: settings.scaleRounds,
    seconds: settings.scaleSeconds,
    levels: summary,
    meanRatio: summary[1].mean / summary[0].mean,
    fillSeconds,
    fillRate: settings.sessions / fillSeconds,
    bytesPerSession,
  };
}

function machineFacts() {
  const load = () => os.loadavg().map((n) => n.toFixed(2)).join(' / ');
  const version = (name) => `${name} ${JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version}`;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.versions.node,
    loadBefore: load(),
    load,
    packages: ['express', 'express-session', 'connect-redis', 'redis', 'ioredis', 'autocannon'].map(version).join(', '),
  };
}

async function main() {
  const settings = parseArgs(process.argv.slice(2));
  const machine = machineFacts();
  if (settings.build) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const redis = await startRedis();
  const ctx = { settings, redis, started: [] };
  const stopAll = async () => {
    await Promise.all(ctx.started.map((app) => app.stop()));
    await redis.destroy();
  };
  process.once('SIGINT', () => stopAll().finally(() => process.exit(130)));
  try {
    const info = new Redis({ host: '127.0.0.1', port: redis.port });
    machine.redis = /redis_version:(\S+)/.exec(await info.info('server'))[1];
    info.disconnect();
    const apps = [];
    for (const spec of APPS.filter((app) => !ONLY || ONLY.has(app.key))) {
      const { label, keepsSessions, storesNothing } = require(`./apps/${spec.name}`);
      const app = { ...spec, label, keepsSessions, storesNothing, ...(await startApp(spec.name, redis.port, spec.db)), loginRuns: [], runs: [] };
      ctx.started.push(app);
      apps.push(app);
    }
    for (let sweep = 0; sweep < settings.loginRounds; sweep++) {
      for (const app of apps) await measureLogins(ctx, app, sweep);
    }
    for (const app of apps) app.cookies = app.keepsSessions ? await signIn(app, 'load-', settings.connections) : [];
    const control = new Redis({ host: '127.0.0.1', port: redis.port });
    for (let round = 0; round < settings.rounds; round++) {
      for (const app of apps) {
        const load = { url: app.url, connections: settings.connections, duration: settings.seconds, requests: protectedRoute(app.cookies) };
        const [appBefore, redisBefore] = [await app.cpuMicros(), await redisCpuMicros(control)];
        const result = checked(await runLoad(load), `${app.name} round ${round + 1}`);
        result.appCpu = ((await app.cpuMicros()) - appBefore) / result.requests;
        result.redisCpu = ((await redisCpuMicros(control)) - redisBefore) / result.requests;
        app.runs.push(result);
      }
    }
    control.disconnect();
    for (const app of apps) if (app.keepsSessions) await measureCommands(ctx, app);
    const [bare, session] = apps;
    const floor = apps.find((app) => app.key === 'F');
    for (const app of apps) {
      const runs = app.runs;
      Object.assign(app, {
        rps: median(runs.map((r) => r.rps)),
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
        appCpu: median(runs.map((r) => r.appCpu)),
        redisCpu: median(runs.map((r) => r.redisCpu)),
        loginRps: median(app.loginRuns),
        vsSession: median(runs.map((r, i) => r.rps / session.runs[i].rps)),
        vsBare: median(runs.map((r, i) => r.rps / bare.runs[i].rps)),
        vsFloor: median(runs.map((r, i) => r.rps / floor.runs[i].rps)),
      });
    }
    bare.commandsPerRequest = bare.commandsPerAnonymous = bare.commandsPerLogin = 0;
    const [onIoredis, onNodeRedis] = ['D-ioredis', 'D-node-redis'].map((key) => apps.find((app) => app.key === key));
    const clients = {
      rps: median(onNodeRedis.runs.map((r, i) => r.rps / onIoredis.runs[i].rps)),
      appCpu: median(onNodeRedis.runs.map((r, i) => r.appCpu / onIoredis.runs[i].appCpu)),
      p99: onNodeRedis.p99 / onIoredis.p99,
    };
    const scaling = await measureScaling(ctx);
    machine.loadAfter = machine.load();
    const report = renderReport({ machine, settings, apps, scaling, clients });
    const out = path.resolve(ROOT, settings.out);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${report.trimEnd()}\n${liveSectionOf(out)}`);
    console.log(report);
    console.log(`written to ${path.relative(ROOT, out)}`);
  } finally {
    await stopAll();
  }
}

/** Sections other scripts write into the results (`bench/live.js --write`, `bench/express-cost.js --write`). */
const KEPT_SECTIONS = ['## Live sign-out', '## Per-request CPU in one process'];

/** The sections of `file` that other scripts wrote (kept when this run rewrites it), or ''. */
function liveSectionOf(file) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return KEPT_SECTIONS.map((heading) => {
    const start = text.indexOf(heading);
    if (start === -1) return '';
    const end = text.indexOf('\n## ', start + 1);
    return `\n${text.slice(start, end === -1 ? undefined : end + 1).trimEnd()}\n`;
  }).join('');
}

if (process.argv.includes('--live')) {
  // The live sign-out benchmark is its own script: bench/live.js (its options pass through).
  require('node:child_process').fork(path.join(__dirname, 'live.js'), process.argv.slice(2).filter((arg) => arg !== '--live'), { stdio: 'inherit' })
    .on('exit', (code) => (process.exitCode = code ?? 1));
} else {
  main().catch((err) => {
    console.error(err.message);
    process.exitCode = 1;
  });
}
