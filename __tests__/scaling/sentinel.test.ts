/**
 * Redis Sentinel, once per client library: the app's client finds its master through the sentinels
 * (built by the demo's clientFor: ioredis `new Redis({ sentinels, name })`, node-redis
 * `createSentinel()`). When the master is killed, the sentinels promote the replica and the client
 * follows it: replicated sessions still resolve and new logins work, with 503 (never a wrong user)
 * in between, every answer within the store timeout plus a margin, the 503 window under
 * FAILOVER_WINDOW_CEILING_MS and its end under FOLLOW_CEILING_MS after the promotion (both printed,
 * for the README's figures).
 */
import type { Server } from 'node:http';
import { parseRedisEnv } from '../../demo-app/redis-from-env';
import { loginOver, serveTestApp, startLoad, unavailableWindowMs, waitAllResolve } from '../helpers/load';
import { startSentinel, waitUntil, type RedisSentinelGroup } from '../helpers/redis-servers';
import { CLIENTS, closeClient, isNodeRedisClient, type AppRedis } from '../helpers/targets';
import { appClient, FAILOVER_WINDOW_CEILING_MS, firstLogin, FOLLOW_CEILING_MS, waitReplicated, watchStalls } from './failover';

const STORE_TIMEOUT_MS = 500;
const MARGIN_MS = 1000;

describe.each(CLIENTS)('%s', (library) => {
  let group: RedisSentinelGroup;
  let redis: AppRedis;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    group = await startSentinel({ replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000 });
    const sentinels = group.sentinelAddresses.map((a) => `${a.host}:${a.port}`).join(',');
    redis = appClient(parseRedisEnv({ REDIS_SENTINELS: sentinels, REDIS_SENTINEL_NAME: group.name })!, library);
    ({ server, base } = await serveTestApp(redis, STORE_TIMEOUT_MS));
  }, 60_000);

  afterAll(async () => {
    server?.close();
    if (redis) await closeClient(redis);
    await group?.destroy();
  });

  /** The port of the server the app's client sends its commands to now. */
  async function connectedPort(): Promise<number> {
    const args = ['CONFIG', 'GET', 'port'];
    const reply = isNodeRedisClient(redis)
      ? await (redis as unknown as { sendCommand(readonly: boolean, args: string[]): Promise<string[]> }).sendCommand(false, args)
      : ((await redis.call('CONFIG', 'GET', 'port')) as string[]);
    return Number(reply[1]);
  }

  test('after the master is killed, the client follows the promoted replica: sessions resolve and logins work', async () => {
    const cookies = new Map<string, string>();
    cookies.set('sn-0', await firstLogin(base, 'sn-0'));
    for (let i = 1; i < 20; i++) cookies.set(`sn-${i}`, await loginOver(base, `sn-${i}`));
    expect(await connectedPort()).toBe(group.master.port);
    // Every login is on the replica before the kill.
    await waitReplicated(group.master.port);

    const stalls = watchStalls();
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
    stalls.stop();

    const outage = unavailableWindowMs(samples, killedAt);
    const followMs = outage.endAt - promotedAt;
    console.log(`sentinel failover (${library}): replica promoted ${promotedAt - killedAt} ms after the kill; all sessions resolved after ` +
      `${recoveredAt - killedAt} ms; ${outage.count} of ${samples.length} requests answered 503 over a ${outage.windowMs} ms window, ` +
      `the last ending ${followMs} ms after the promotion; the test process lost ${stalls.lostMs()} ms to late timers, at most ${Math.max(0, ...stalls.stalls.map((x) => x.lost))} ms at once`);

    expect(samples.filter((s) => s.status !== 200 && s.status !== 503)).toEqual([]);
    expect(samples.filter((s) => s.status === 200 && s.userId !== s.user)).toEqual([]);
    // In time, leaving out only what this process itself lost (it serves the app too).
    expect(samples.filter((s) => s.ms - stalls.lostDuring(s.at, s.at + s.ms) > STORE_TIMEOUT_MS + MARGIN_MS)).toEqual([]);
    expect(outage.count).toBeGreaterThan(0);
    expect(outage.windowMs).toBeLessThanOrEqual(FAILOVER_WINDOW_CEILING_MS);
    expect(followMs).toBeLessThanOrEqual(FOLLOW_CEILING_MS);
    expect(await connectedPort()).toBe(replica);

    const again = await loginOver(base, 'sn-0');
    await waitAllResolve(base, new Map([['sn-0', again], ['sn-new', await loginOver(base, 'sn-new')]]));
    expect((await fetch(`${base}/me`, { headers: { cookie: cookies.get('sn-0')! } })).status).toBe(401);
  }, 120_000);
});
