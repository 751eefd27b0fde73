/**
 * The demo's choice of Redis deployment from environment variables: REDIS_URL, or
 * REDIS_CLUSTER_NODES, or REDIS_SENTINELS + REDIS_SENTINEL_NAME. Bad values are refused with
 * INVALID_REDIS_ENV and a message naming the variable. (The cluster and sentinel failover tests
 * connect through clientFor too.)
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import Redis, { Cluster } from 'ioredis';
import type { createClient, createCluster } from 'redis';
import request from 'supertest';
import { DemoConfigError } from '../../demo-app/config';
import { redisFromEnv, waitUntilReady } from '../../demo-app/redis';
import { clientFor, DEFAULT_REDIS_CLIENT, describeDeployment, parseRedisClient, parseRedisEnv, RedisEnvError } from '../../demo-app/redis-from-env';
import { buildApp } from '../helpers/app';
import { uniquePrefix } from '../helpers/targets';

describe('parseRedisEnv', () => {
  test('nothing set means no deployment chosen (the demo then starts its own redis-server)', () => {
    expect(parseRedisEnv({})).toBeNull();
    expect(parseRedisEnv({ REDIS_URL: '  ', REDIS_CLUSTER_NODES: '' })).toBeNull();
  });

  test('descriptions for logs name the addresses but never a password', () => {
    expect(describeDeployment(parseRedisEnv({ REDIS_URL: 'redis://user:pw@cache:6379' })!)).toBe('redis://user:***@cache:6379');
    expect(describeDeployment(parseRedisEnv({ REDIS_CLUSTER_NODES: 'a:1,b:2', REDIS_PASSWORD: 'pw' })!)).toBe('Redis Cluster a:1,b:2');
    expect(describeDeployment(parseRedisEnv({ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' })!)).toBe('Sentinel master "m" via s:26379');
  });

  test('REDIS_URL picks one server', () => {
    expect(parseRedisEnv({ REDIS_URL: 'rediss://:pw@cache.internal:6380/2' })).toEqual({ kind: 'single', url: 'rediss://:pw@cache.internal:6380/2' });
  });

  test('REDIS_CLUSTER_NODES picks a Cluster with every seed, IPv6 included', () => {
    expect(parseRedisEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002', REDIS_PASSWORD: 's3cret' })).toEqual({
      kind: 'cluster',
      nodes: [{ host: '10.0.0.1', port: 7000 }, { host: 'redis-b', port: 7001 }, { host: '::1', port: 7002 }],
      password: 's3cret',
    });
  });

  test('REDIS_SENTINELS with REDIS_SENTINEL_NAME picks Sentinel', () => {
    expect(parseRedisEnv({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster' })).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }],
      name: 'mymaster',
    });
  });

  test.each([
    [{ REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'b:2' }, /set only one of .*REDIS_URL and REDIS_CLUSTER_NODES/],
    [{ REDIS_CLUSTER_NODES: 'b:2', REDIS_SENTINELS: 'c:3', REDIS_SENTINEL_NAME: 'm' }, /set only one of/],
    [{ REDIS_SENTINELS: 's1:26379' }, /REDIS_SENTINELS needs REDIS_SENTINEL_NAME/],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, /REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not/],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1' }, /REDIS_CLUSTER_NODES has a bad entry "10.0.0.1"/],
    [{ REDIS_CLUSTER_NODES: 'a:7000,,b:7001' }, /REDIS_CLUSTER_NODES has a bad entry ""/],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, /bad entry "a:70000"/],
    [{ REDIS_CLUSTER_NODES: 'a:0' }, /bad entry "a:0"/],
    [{ REDIS_SENTINELS: 'redis://s1:26379', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS has a bad entry/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must start with redis:\/\/ or rediss:\/\//],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL is not a URL/],
    [{ REDIS_URL: 'http://cache:6379' }, /REDIS_URL must start with redis:\/\//],
    [{ REDIS_PASSWORD: 'pw' }, /REDIS_PASSWORD is for REDIS_CLUSTER_NODES or REDIS_SENTINELS/],
  ])('refuses %j', (env, message) => {
    let error: unknown;
    try {
      parseRedisEnv(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RedisEnvError);
    expect(error).toMatchObject({ code: 'INVALID_REDIS_ENV', message: expect.stringMatching(message) });
  });
});

describe('parseRedisClient', () => {
  test('REDIS_CLIENT picks ioredis or node-redis; unset means the recommended default', () => {
    expect(parseRedisClient({ REDIS_CLIENT: 'ioredis' })).toBe('ioredis');
    expect(parseRedisClient({ REDIS_CLIENT: ' node-redis ' })).toBe('node-redis');
    expect(parseRedisClient({})).toBe(DEFAULT_REDIS_CLIENT);
  });

  test('any other REDIS_CLIENT is refused with INVALID_REDIS_ENV', () => {
    expect(() => parseRedisClient({ REDIS_CLIENT: 'redis' })).toThrow(/REDIS_CLIENT must be ioredis or node-redis; received "redis"/);
  });
});

const clusterNodes = (): string => (process.env.ESS_TEST_CLUSTER_PORTS ?? '').split(',').map((p) => `127.0.0.1:${p}`).join(',');

describe('clientFor', () => {
  test('REDIS_URL connects a Redis client to that server', async () => {
    const redis = clientFor(parseRedisEnv({ REDIS_URL: `redis://127.0.0.1:${process.env.ESS_TEST_REDIS_PORT}` })!) as Redis;
    try {
      expect(redis).toBeInstanceOf(Redis);
      expect(Number(((await redis.config('GET', 'port')) as string[])[1])).toBe(Number(process.env.ESS_TEST_REDIS_PORT));
    } finally {
      redis.disconnect();
    }
  });

  test('REDIS_CLUSTER_NODES connects a Cluster client that sees every master', async () => {
    const redis = clientFor(parseRedisEnv({ REDIS_CLUSTER_NODES: clusterNodes() })!) as Cluster;
    try {
      expect(redis).toBeInstanceOf(Cluster);
      expect(await redis.ping()).toBe('PONG');
      expect(redis.nodes('master')).toHaveLength(3);
    } finally {
      redis.disconnect();
    }
  });

  test('REDIS_CLIENT=node-redis builds an unconnected node-redis client or Cluster that the package connects', async () => {
    const deployments = [
      parseRedisEnv({ REDIS_URL: `redis://127.0.0.1:${process.env.ESS_TEST_REDIS_PORT}` })!,
      parseRedisEnv({ REDIS_CLUSTER_NODES: clusterNodes() })!,
    ];
    for (const deployment of deployments) {
      const redis = clientFor(deployment, { client: 'node-redis' }) as ReturnType<typeof createClient> | ReturnType<typeof createCluster>;
      redis.on('error', () => undefined);
      try {
        expect(redis.isOpen).toBe(false);
        expect('nodeClient' in redis).toBe(deployment.kind === 'cluster');
        const { app } = buildApp(redis, { keyPrefix: uniquePrefix() });
        expect((await request(app).post('/login').send({ userId: 'from-env' })).status).toBe(200);
      } finally {
        redis.destroy();
      }
    }
  });

  test('a bad value throws before any connection is made: a listener on the good seed sees none, and does see the good value connect', async () => {
    const connections: Socket[] = [];
    const server = createServer((socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(() => redisFromEnv({ REDIS_CLUSTER_NODES: `127.0.0.1:${port},nope` })).toThrow(DemoConfigError);
      expect(() => parseRedisEnv({ REDIS_CLUSTER_NODES: 'nope' })).toThrow(RedisEnvError);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(connections).toHaveLength(0);

      // The control: the same seed without the bad one does connect (the listener is not Redis, so it never gets ready).
      const good = redisFromEnv({ REDIS_URL: `redis://127.0.0.1:${port}` })!;
      good.client.on('error', () => undefined);
      await expect(waitUntilReady(good, 300)).rejects.toThrow();
      await Promise.resolve(good.client.disconnect()).catch(() => undefined);
      expect(connections.length).toBeGreaterThan(0);
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
