/**
 * Live notices survive a Redis Cluster failover (the app's client built by the demo's clientFor): after a master is killed and its replica promoted, or after a manual
 * `CLUSTER FAILOVER` (the old master stays up as a replica), an end of a session whose stream was open
 * before still reaches that stream.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { slotOf } from '../../lib/clients/slot';
import { keyNamer } from '../../lib/store/keys';
import { userTagOf } from '../../lib/token';
import { parseRedisEnv } from '../../demo-app/redis-from-env';
import { buildApp } from '../helpers/app';
import { redisCommand, startCluster, waitUntil, type RedisCluster } from '../helpers/redis-servers';
import { openStream, type SseStream } from '../helpers/sse';
import { sessionCookieOf } from '../helpers/suite';
import { CLIENTS, closeClient, uniquePrefix, type AppRedis } from '../helpers/targets';
import { appClient, waitReplicated } from '../scaling/failover';

describe.each(CLIENTS)('%s', (library) => {
  const prefix = uniquePrefix();
  let cluster: RedisCluster;
  let redis: AppRedis;
  let server: Server;
  let base = '';
  const streams: SseStream[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000, args: ['--cluster-require-full-coverage', 'no'] });
    redis = appClient(parseRedisEnv({ REDIS_CLUSTER_NODES: cluster.seeds.map((a) => `${a.host}:${a.port}`).join(',') })!, library);
    const { app } = buildApp(redis, { keyPrefix: prefix });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    for (const stream of streams) stream.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    if (redis) await closeClient(redis);
    await cluster?.destroy();
  });

  /** The port of the master that owns the slot of `userId`'s notice channel now. */
  async function ownerOf(userId: string): Promise<number> {
    const slot = slotOf(keyNamer(prefix)(userTagOf(userId)).channel);
    const [asked] = await cluster.masterPorts();
    const ranges = (await redisCommand(asked, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = ranges.find(([start, end]) => start <= slot && slot <= end);
    if (!range) throw new Error(`no master owns slot ${slot}`);
    return Number(range[2][1]);
  }

  /** A user id whose keys (and channel) live on the master on `port`. */
  async function userOn(port: number, name: string): Promise<string> {
    for (let i = 0; ; i++) if ((await ownerOf(`${name}-${i}`)) === port) return `${name}-${i}`;
  }

  async function signIn(userId: string): Promise<string> {
    const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId }) });
    if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
    return sessionCookieOf(res.headers.getSetCookie());
  }

  /** Revokes the user through the app, retrying while the app's client still finds its way to the new master. */
  async function revoke(userId: string): Promise<void> {
    await waitUntil(`revokeUser(${userId}) to end a session`, async () => {
      const res = await fetch(`${base}/revoke`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId }) });
      return res.status === 200 && ((await res.json()) as { ended: number }).ended === 1;
    }, 20_000, 200);
  }

  /** A signed-in user on the master on `port` with an open stream, their session replicated. */
  async function streamOn(port: number, name: string): Promise<{ userId: string; stream: SseStream }> {
    const userId = await userOn(port, name);
    const stream = await openStream(base, await signIn(userId));
    streams.push(stream);
    await stream.next('session');
    await waitReplicated(port);
    return { userId, stream };
  }

  test('a master killed and its replica promoted: an end after the failover still reaches the stream', async () => {
    const [victim] = await cluster.masterPorts();
    const [heir] = await cluster.replicaPortsOf(victim);
    const { userId, stream } = await streamOn(victim, 'killed');
    await cluster.node(victim).stop({ hard: true });
    await waitUntil(`replica ${heir} to be promoted`, async () => (await cluster.masterPorts()).includes(heir), 30_000);
    expect(stream.ended).toBe(false);
    await revoke(userId);
    expect((await stream.next('ended', 5000)).data).toEqual({ code: 'SESSION_REVOKED' });
  }, 60_000);

  test('a manual CLUSTER FAILOVER (the old master stays up as a replica): an end after it still reaches the stream', async () => {
  // A master with a running replica (not the shard of the first test, whose old master is down).
    let master = 0;
    let replica = 0;
    for (const port of await cluster.masterPorts()) {
      const running = (await cluster.replicaPortsOf(port)).filter((r) => cluster.node(r).running);
      if (running.length > 0) [master, replica] = [port, running[0]];
    }
    expect(replica).toBeGreaterThan(0);
    const { userId, stream } = await streamOn(master, 'manual');
    await redisCommand(replica, 'CLUSTER', 'FAILOVER');
    await waitUntil(`replica ${replica} to take over`, async () => (await ownerOf(userId)) === replica, 30_000);
    expect(stream.ended).toBe(false);
    await revoke(userId);
    expect((await stream.next('ended', 5000)).data).toEqual({ code: 'SESSION_REVOKED' });
  }, 60_000);
});
