/**
 * The promise "no request is answered as signed in after revokeUser() resolved", made deterministic:
 * with Redis frozen (SIGSTOP), signed-in requests send their reads, then a revoke is sent behind them
 * on the same connection; Redis, thawed, answers the reads (live) and then the revoke in one burst.
 * No handler runs after the revoke resolved, whether the revoke went through the app's manager or
 * another manager of the same process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { buildApp } from '../helpers/app';
import { redisCommand, startCluster, startRedis, type RedisCluster, type RedisServer } from '../helpers/redis-servers';
import { sessionCookieOf } from '../helpers/suite';
import { closeClient, uniquePrefix, type AppRedis } from '../helpers/targets';
import { createSessionManager } from '../../lib';

type Seeds = { host: string; port: number }[];
const CLIENTS: [string, (seeds: Seeds, cluster: boolean) => AppRedis][] = [
  ['ioredis', (seeds, cluster) => (cluster ? new Cluster(seeds) : new Redis(seeds[0]))],
  [
    'node-redis',
    (seeds, cluster) => {
      const client = cluster
        ? createCluster({ rootNodes: seeds.map((socket) => ({ socket })) })
        : createClient({ socket: seeds[0] });
      client.on('error', () => undefined);
      return client;
    },
  ],
];
const CASES = CLIENTS.flatMap(([name, connect]) => [
  { name: `single Redis, ${name}`, connect, cluster: false },
  { name: `Redis Cluster, ${name}`, connect, cluster: true },
]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One GET with a cookie; resolves to the status (no agent pooling surprises: a new connection each). */
function get(port: number, path: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { cookie }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

describe.each(CASES)('revoke while reads are on their way ($name)', ({ connect, cluster }) => {
  let single: RedisServer | null = null;
  let nodes: RedisCluster | null = null;
  let client: AppRedis;
  beforeAll(async () => {
    if (cluster) nodes = await startCluster({ masters: 3, nodeTimeoutMs: 15_000 });
    else single = await startRedis();
    client = connect(nodes ? nodes.seeds : [{ host: '127.0.0.1', port: single!.port }], cluster);
  });
  afterAll(async () => {
    for (const server of nodes ? nodes.nodes : single ? [single] : []) if (server.running) server.thaw();
    if (client) await closeClient(client);
    await (nodes ? nodes.destroy() : single?.destroy());
  });

  /** The server holding the keys under `prefix`. */
  async function ownerOf(prefix: string): Promise<RedisServer> {
    if (!nodes) return single!;
    for (const port of await nodes.masterPorts()) {
      const [, keys] = (await redisCommand(port, 'SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '1000')) as [string, string[]];
      if (keys.length > 0) return nodes.node(port);
    }
    throw new Error(`no master holds keys under ${prefix}`);
  }

  test.each([
    ['the app\'s own manager', true],
    ['another manager of the process', false],
  ])('through %s: reads answered live in the same burst as the revoke never reach a handler after it resolved', async (_how, own) => {
    const prefix = uniquePrefix();
    // A store timeout far above the freeze: the reads must be answered by Redis, not by the timer.
    const options = { keyPrefix: prefix, maxSessions: 10, storeTimeoutMs: 10_000 };
    let revoked = false;
    let handledAfterRevoke = 0;
    let handled = 0;
    const { app, sessions } = buildApp(client, options, (routes, appSessions) => {
      routes.get('/probe', appSessions.requireSession(), (_req, res) => {
        handled++;
        if (revoked) handledAfterRevoke++;
        res.json({ ok: true });
      });
    });
    const other = createSessionManager({ redis: client, ...options });
    const listener = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    const port = (listener.address() as AddressInfo).port;
    try {
      const cookies: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, path: '/login', method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, resolve);
          req.on('error', reject);
          req.end(JSON.stringify({ userId: 'burst' }));
        });
        res.resume();
        cookies.push(sessionCookieOf(res.headers['set-cookie']));
      }
      expect(await Promise.all(cookies.map((cookie) => get(port, '/probe', cookie)))).toEqual(cookies.map(() => 200));
      handled = 0;

      const server = await ownerOf(prefix);
      server.freeze();
      const probes = Promise.all(cookies.map((cookie) => get(port, '/probe', cookie)));
      await sleep(300); // the requests reach the middleware and send their reads to the frozen Redis
      const revoke = (own ? sessions : other).revokeUser('burst').then((ended) => {
        revoked = true;
        return ended;
      });
      await sleep(100);
      server.thaw();
      expect(await revoke).toBe(10);
      const statuses = await probes;
      expect(handledAfterRevoke).toBe(0);
      // Every probe was answered: live before the revoke, or refused as revoked.
      expect(statuses.every((status) => status === 200 || status === 401)).toBe(true);
      expect(handled).toBe(statuses.filter((status) => status === 200).length);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
