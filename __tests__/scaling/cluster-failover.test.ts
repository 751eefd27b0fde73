/**
 * Redis Cluster failover: with sessions live and replicated (WAIT), a master is killed. Until its
 * replica is promoted, requests for its users answer 503 (never someone else's session); after,
 * every replicated session still resolves and new logins work, and users on the other masters
 * never notice (with cluster-require-full-coverage no). Prints the 503 window.
 */
import type { Server } from 'node:http';
import type { Cluster } from 'ioredis';
import { clientFor, parseRedisEnv } from '../../demo-app/redis-from-env';
import { loginOver, serveTestApp, startLoad, unavailableWindowMs, waitAllResolve } from '../helpers/load';
import { startCluster, waitUntil, type RedisCluster } from '../helpers/redis-servers';

const STORE_TIMEOUT_MS = 500;
const MARGIN_MS = 1000;

let cluster: RedisCluster;
let redis: Cluster;
let server: Server;
let base: string;

beforeAll(async () => {
  cluster = await startCluster({
    masters: 3,
    replicas: 1,
    nodeTimeoutMs: 1000,
    // As the README recommends: masters whose slots are fine keep serving while another shard fails over.
    args: ['--cluster-require-full-coverage', 'no'],
  });
  redis = clientFor(parseRedisEnv({ REDIS_CLUSTER_NODES: cluster.seeds.map((a) => `${a.host}:${a.port}`).join(',') })!) as Cluster;
  redis.on('error', () => undefined); // connection errors during the failover are expected
  ({ server, base } = await serveTestApp(redis, STORE_TIMEOUT_MS));
}, 60_000);

afterAll(async () => {
  server?.close();
  redis?.disconnect();
  await cluster?.destroy();
});

/** The port of the master that owns the keys behind `cookie`, as the client's slot table says. */
async function masterPortOf(cookie: string): Promise<number> {
  const tag = decodeURIComponent(cookie.slice('ess_sid='.length)).slice(2, 18);
  const slot = (await redis.cluster('KEYSLOT', `{${tag}}`)) as number;
  return Number(redis.slots[slot][0].split(':')[1]);
}

test('killing a master: its users get 503 until the replica takes over, then every replicated session resolves', async () => {
  const cookies = new Map<string, string>();
  for (let i = 0; i < 60; i++) cookies.set(`fo-${i}`, await loginOver(base, `fo-${i}`));
  for (const master of redis.nodes('master')) {
    // WAIT on the connection that wrote the sessions: every login is on the replica before the kill.
    expect(await master.wait(1, 5000)).toBeGreaterThanOrEqual(1);
  }

  const owner = new Map<string, number>();
  for (const [user, cookie] of cookies) owner.set(user, await masterPortOf(cookie));
  const victim = owner.get('fo-0')!;
  const [heir] = await cluster.replicaPortsOf(victim);
  const victimUsers = [...owner].filter(([, port]) => port === victim).map(([user]) => user);

  const load = startLoad(base, cookies, { concurrency: 8, maxMs: 60_000 });
  await waitUntil('traffic before the failover', async () => load.samples.filter((s) => s.status === 200).length >= 50);
  const killedAt = Date.now();
  await cluster.node(victim).stop({ hard: true });

  await waitUntil(`replica ${heir} to be promoted`, async () => (await cluster.masterPorts()).includes(heir), 30_000);
  const promotedAt = Date.now();
  await cluster.waitHealthy();
  await waitAllResolve(base, cookies, 30_000);
  const recoveredAt = Date.now();
  const samples = await load.stop();

  const outage = unavailableWindowMs(samples, killedAt);
  const others = samples.filter((s) => s.at >= killedAt && !victimUsers.includes(s.user));
  console.log(`cluster failover: ${victimUsers.length}/${cookies.size} users on the killed master; replica promoted ` +
    `${promotedAt - killedAt} ms after the kill; all sessions resolved after ${recoveredAt - killedAt} ms; ` +
    `${outage.count} of ${samples.length} requests answered 503 over a ${outage.windowMs} ms window; ` +
    `${others.filter((s) => s.status === 503).length} of ${others.length} requests for users on healthy masters answered 503`);

  expect(samples.filter((s) => s.status !== 200 && s.status !== 503)).toEqual([]);
  expect(samples.filter((s) => s.status === 200 && s.userId !== s.user)).toEqual([]);
  expect(samples.filter((s) => s.ms > STORE_TIMEOUT_MS + MARGIN_MS)).toEqual([]);
  expect(others.filter((s) => s.status !== 200)).toEqual([]);

  const fresh = await loginOver(base, 'fo-0');
  await waitAllResolve(base, new Map([['fo-0', fresh], ['fo-new', await loginOver(base, 'fo-new')]]));
  const displaced = await fetch(`${base}/me`, { headers: { cookie: cookies.get('fo-0')! } });
  expect(displaced.status).toBe(401);
}, 120_000);
