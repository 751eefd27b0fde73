/**
 * The live sign-out benchmark (`npm run bench:live`, or `npm run bench -- --live`):
 * 1. two app processes on one Redis: a sign-in through one, `ended` received on a stream held by the
 *    other; p50 / p99 over --trials trials (default 300);
 * 2. one process holding --streams open streams (default 10,000): Redis subscriber connections, memory
 *    per open stream, and the fan-out time of one notice to every stream;
 * 3. the cross-process check of 1 on a private 3-master Redis Cluster;
 * 4. the heap of the process that held the streams after --cycles streams (default 10,000) were opened
 *    and closed by their clients, against before them (after 1,000 warm-up cycles; GC before each reading).
 * Each app runs in its own Node process (this file with `serve`), on the TypeScript sources.
 * Prints a Markdown section; --write puts it into bench/RESULTS.md under "## Live sign-out".
 */
'use strict';
require('tsx/cjs');
const { fork } = require('node:child_process');
const { putSection } = require('./report');
const path = require('node:path');

if (process.argv[2] === 'serve') serve();
else main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/** Child mode: the test app with liveEvents on its own Redis client; GET /memory reports its heap. */
function serve() {
  const Redis = require('ioredis');
  const { buildApp } = require('../__tests__/helpers/app.ts');
  const target = JSON.parse(process.argv[3]);
  const redis = target.cluster ? new Redis.Cluster(target.cluster.map((port) => ({ host: '127.0.0.1', port }))) : new Redis({ host: '127.0.0.1', port: target.port });
  // The fan-out users hold up to 1000 sessions each (one stream each); everyone else one. A long store
  // timeout: seeding 10,000 sessions on a loaded machine must not fail with 503 (it times nothing measured).
  const { app } = buildApp(redis, { keyPrefix: process.argv[4], storeTimeoutMs: 10_000, maxSessions: (userId) => (userId.startsWith('fan-') ? 1000 : 1) });
  app.get('/memory', (_req, res) => {
    for (let i = 0; i < 3; i++) global.gc?.();
    res.json(process.memoryUsage());
  });
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  server.maxConnections = 30_000;
  process.on('SIGTERM', () => {
    server.closeAllConnections?.();
    server.close();
    redis.disconnect();
    process.exit(0);
  });
}

function startServer(target, prefix) {
  const child = fork(__filename, ['serve', JSON.stringify(target), prefix], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`live bench app exited with ${code}`)));
    child.once('message', ({ port }) => {
      child.removeAllListeners('exit');
      resolve({ base: `http://127.0.0.1:${port}`, stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', done), child.kill('SIGTERM')))) });
    });
  });
}

const { openStream } = require('../__tests__/helpers/sse.ts');
const { sessionCookieOf } = require('../__tests__/helpers/suite.ts');

async function signIn(base, userId) {
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId }) });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
  return sessionCookieOf(res.headers.getSetCookie());
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Sign-in through `through`, `ended` on a stream held by `holder`: ms from sending the sign-in to the event. */
async function crossProcess(holder, through, trials, tag) {
  const times = [];
  for (let i = 0; i < trials; i++) {
    const userId = `${tag}-${i}`;
    const stream = await openStream(holder.base, await signIn(through.base, userId));
    await stream.next('session');
    const started = performance.now();
    const [, ended] = await Promise.all([signIn(through.base, userId), stream.next('ended', 5000)]);
    if (ended.data.code !== 'SESSION_DISPLACED') throw new Error(`unexpected ${JSON.stringify(ended.data)}`);
    times.push(ended.at - started);
    await stream.closed();
  }
  times.sort((a, b) => a - b);
  return { trials, p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] };
}

/** Opens `count` streams on `holder`, then revokes every user through `through` and times the fan-out. */
async function manyStreams(holder, through, count, redisPort) {
  const Redis = require('ioredis');
  const redis = new Redis({ host: '127.0.0.1', port: redisPort });
  const users = Math.max(1, Math.ceil(count / 1000));
  const cookies = [];
  for (let u = 0; u < users; u++) {
    const batch = Math.min(1000, count - u * 1000);
    for (let i = 0; i < batch; i += 100) {
      cookies.push(...(await Promise.all(Array.from({ length: Math.min(100, batch - i) }, () => signIn(through.base, `fan-${u}`)))));
    }
  }
  const before = await (await fetch(`${holder.base}/memory`)).json();
  const streams = [];
  for (let i = 0; i < cookies.length; i += 200) {
    const opened = await Promise.all(cookies.slice(i, i + 200).map((cookie) => openStream(holder.base, cookie)));
    await Promise.all(opened.map((s) => s.next('session', 20_000)));
    streams.push(...opened);
  }
  const after = await (await fetch(`${holder.base}/memory`)).json();
  const clients = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter(Boolean).length;
  const started = performance.now();
  await Promise.all(Array.from({ length: users }, (_, u) =>
    fetch(`${through.base}/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId: `fan-${u}` }) })));
  const ended = await Promise.all(streams.map((s) => s.next('ended', 30_000)));
  const last = Math.max(...ended.map((e) => e.at)) - started;
  for (const s of streams) s.close();
  await redis.quit();
  return {
    streams: streams.length,
    users,
    subscriberConnections: clients,
    heapPerStream: (after.heapUsed - before.heapUsed) / streams.length,
    rssPerStream: (after.rss - before.rss) / streams.length,
    fanOutMs: last,
  };
}

/** `count` streams opened and closed by the client on `holder` (25 users at once): its heap before and after. */
async function openCloseCycles(holder, through, count) {
  const cookies = await Promise.all(Array.from({ length: 25 }, (_, i) => signIn(through.base, `cycle-${i}`)));
  const cycles = (n) => Promise.all(cookies.map(async (cookie) => {
    for (let i = 0; i < n / cookies.length; i++) {
      const stream = await openStream(holder.base, cookie);
      await stream.next('session', 20_000);
      stream.close();
      await stream.closed(20_000);
    }
  }));
  await cycles(1000);
  const before = await (await fetch(`${holder.base}/memory`)).json();
  await cycles(count);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = await (await fetch(`${holder.base}/memory`)).json();
  return { cycles: count, heapBefore: before.heapUsed, heapAfter: after.heapUsed };
}

const signedKb = (bytes) => `${bytes >= 0 ? '+' : '-'}${Math.abs(bytes / 1024).toFixed(0)} KB`;

function report(facts) {
  const { single, many, cluster, cycled, machine } = facts;
  const ms = (x) => x.toFixed(1);
  return `## Live sign-out

\`npm run bench:live\` (${machine}; loopback; each app its own Node process; the client in a third):

| Check | Result |
| --- | --- |
| Sign-in through process B, \`ended\` on a stream held by process A, one Redis (${single.trials} trials) | p50 ${ms(single.p50)} ms, p99 ${ms(single.p99)} ms, max ${ms(single.max)} ms |
| The same on a 3-master Redis Cluster (${cluster.trials} trials) | p50 ${ms(cluster.p50)} ms, p99 ${ms(cluster.p99)} ms, max ${ms(cluster.max)} ms |
| One process holding ${many.streams.toLocaleString('en')} open streams (${many.users} users) | ${many.subscriberConnections} Redis subscriber connection${many.subscriberConnections === 1 ? '' : 's'} |
| Memory per open stream (after GC) | ${(many.heapPerStream / 1024).toFixed(1)} KB of heap, ${(many.rssPerStream / 1024).toFixed(1)} KB of RSS (HTTP socket and response included) |
| Fan-out: all ${many.users} users revoked at once, \`ended\` on all ${many.streams.toLocaleString('en')} streams | ${ms(many.fanOutMs)} ms until the last one |
| Heap of that process after ${cycled.cycles.toLocaleString('en')} streams opened and closed by their clients (after GC) | ${signedKb(cycled.heapAfter - cycled.heapBefore)} against before them (${(cycled.heapBefore / 1048576).toFixed(1)} MB, then ${(cycled.heapAfter / 1048576).toFixed(1)} MB) |

The times run from sending the sign-in request (or the revocations) to the event's arrival at the client,
so they include the sign-in itself: its HTTP round trip and its script, which publishes the notice.
`;
}

async function main() {
  const args = process.argv.slice(2);
  const value = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
  const trials = value('--trials', 300);
  const count = value('--streams', 10_000);
  const cycleCount = value('--cycles', 10_000);
  const os = require('node:os');
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' / ');
  const { startRedis, startCluster } = require('../__tests__/helpers/redis-servers.ts');
  const [server, cluster] = await Promise.all([startRedis(), startCluster({ masters: 3 })]);
  const apps = [];
  try {
    const prefix = `bench-live-${Date.now()}:`;
    const [a, b] = await Promise.all([startServer({ port: server.port }, prefix), startServer({ port: server.port }, prefix)]);
    apps.push(a, b);
    await crossProcess(a, b, 20, 'warm');
    const single = await crossProcess(a, b, trials, 'single');
    console.error(`single Redis: p50 ${single.p50.toFixed(1)} ms, p99 ${single.p99.toFixed(1)} ms`);
    const many = await manyStreams(a, b, count, server.port);
    console.error(`${many.streams} streams: ${many.subscriberConnections} subscriber connection(s), fan-out ${many.fanOutMs.toFixed(0)} ms`);
    const cycled = await openCloseCycles(a, b, cycleCount);
    console.error(`${cycled.cycles} open/close cycles: heap ${signedKb(cycled.heapAfter - cycled.heapBefore)}`);
    const ports = cluster.seeds.map((seed) => seed.port);
    const [ca, cb] = await Promise.all([startServer({ cluster: ports }, prefix), startServer({ cluster: ports }, prefix)]);
    apps.push(ca, cb);
    await crossProcess(ca, cb, 20, 'cwarm');
    const clustered = await crossProcess(ca, cb, trials, 'cluster');
    const loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' / ');
    const machine = `measured ${new Date().toISOString().slice(0, 19)}Z; ${os.cpus().length} CPUs, load average ${loadBefore} before and ${loadAfter} after (1 / 5 / 15 min; other work shared the CPUs when above 2), Node ${process.versions.node}, Redis ${require('node:child_process').execFileSync('redis-server', ['--version']).toString().match(/v=(\S+)/)[1]}`;
    const section = report({ single, many, cluster: clustered, cycled, machine });
    process.stdout.write(section);
    if (args.includes('--write')) putSection(path.join(__dirname, 'RESULTS.md'), '## Live sign-out', section);
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([server.destroy(), cluster.destroy()]);
  }
}
