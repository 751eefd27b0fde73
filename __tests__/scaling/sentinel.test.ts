/**
 * Redis Sentinel: the app connects with `new Redis({ sentinels, name })`, built by the demo's
 * clientFor. When the master is killed, the sentinels promote the replica and the client
 * follows it: replicated sessions still resolve and new logins work, with 503 (never a wrong
 * user) in between. Prints the 503 window.
 */
import type { Server } from 'node:http';
import type Redis from 'ioredis';
import { clientFor, parseRedisEnv } from '../../demo-app/redis-from-env';
import { loginOver, serveTestApp, startLoad, unavailableWindowMs, waitAllResolve } from '../helpers/load';
import { startSentinel, waitUntil, type RedisSentinelGroup } from '../helpers/redis-servers';

const STORE_TIMEOUT_MS = 500;
const MARGIN_MS = 1000;

let group: RedisSentinelGroup;
let redis: Redis;
let server: Server;
let base: string;

beforeAll(async () => {
  group = await startSentinel({ replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
  const sentinels = group.sentinelAddresses.map((a) => `${a.host}:${a.port}`).join(',');
  redis = clientFor(parseRedisEnv({ REDIS_SENTINELS: sentinels, REDIS_SENTINEL_NAME: group.name })!) as Redis;
  redis.on('error', () => undefined); // connection errors during the failover are expected
  ({ server, base } = await serveTestApp(redis, STORE_TIMEOUT_MS));
}, 60_000);

afterAll(async () => {
  server?.close();
  redis?.disconnect();
  await group?.destroy();
});

/** The port of the server the app's client is connected to now. */
async function connectedPort(): Promise<number> {
  return Number(((await redis.config('GET', 'port')) as string[])[1]);
}

test('after the master is killed, the client follows the promoted replica: sessions resolve and logins work', async () => {
  const cookies = new Map<string, string>();
  for (let i = 0; i < 20; i++) cookies.set(`sn-${i}`, await loginOver(base, `sn-${i}`));
  expect(await connectedPort()).toBe(group.master.port);
  // WAIT on the app's own connection: every login is on the replica before the kill.
  expect(await redis.wait(1, 5000)).toBe(1);

  const load = startLoad(base, cookies, { concurrency: 6, maxMs: 60_000 });
  await waitUntil('traffic before the failover', async () => load.samples.filter((s) => s.status === 200).length >= 30);
  const killedAt = Date.now();
  await group.master.stop({ hard: true });

  const replica = group.replicas[0].port;
  await waitUntil('the sentinels to name the replica as master', async () => (await group.masterPort()) === replica, 30_000);
  const promotedAt = Date.now();
  await waitAllResolve(base, cookies, 30_000);
  const recoveredAt = Date.now();
  const samples = await load.stop();

  const outage = unavailableWindowMs(samples, killedAt);
  console.log(`sentinel failover: replica promoted ${promotedAt - killedAt} ms after the kill; all sessions resolved after ` +
    `${recoveredAt - killedAt} ms; ${outage.count} of ${samples.length} requests answered 503 over a ${outage.windowMs} ms window`);

  expect(samples.filter((s) => s.status !== 200 && s.status !== 503)).toEqual([]);
  expect(samples.filter((s) => s.status === 200 && s.userId !== s.user)).toEqual([]);
  expect(samples.filter((s) => s.ms > STORE_TIMEOUT_MS + MARGIN_MS)).toEqual([]);
  expect(await connectedPort()).toBe(replica);

  const again = await loginOver(base, 'sn-0');
  await waitAllResolve(base, new Map([['sn-0', again], ['sn-new', await loginOver(base, 'sn-new')]]));
  expect((await fetch(`${base}/me`, { headers: { cookie: cookies.get('sn-0')! } })).status).toBe(401);
}, 120_000);
