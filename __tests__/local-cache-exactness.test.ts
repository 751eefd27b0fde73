/**
 * The local cache is exact whatever Redis is doing (issue 20): app A (this process, localCache) has a
 * session cached; another process revokes it while Redis is busy (a third connection runs
 * `DEBUG SLEEP`) and another session of A is saved in the same moment; once `revokeSession()` resolved,
 * A refuses the revoked cookie, every trial, with or without a local cache in the writer. On the old
 * reply-order design this served the revoked session in a few percent of trials.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { buildApp } from './helpers/app';
import { startRedis, type RedisServer } from './helpers/redis-servers';
import { sleep } from './helpers/suite';
import { closeClient, uniquePrefix, type AppRedis, type ClientName } from './helpers/targets';

const TRIALS = 150;

let server: RedisServer;
let busy: Redis;
beforeAll(async () => {
  server = await startRedis(['--enable-debug-command', 'yes']);
  busy = new Redis(server.port, server.host);
});
afterAll(async () => {
  busy.disconnect();
  await server.destroy();
});

/** The revoking process, and a way to ask it to revoke one session. */
async function startRevoker(client: ClientName, prefix: string, localCache: boolean) {
  const child: ChildProcess = fork(join(__dirname, 'fixtures', 'revoker-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ESS_CLIENT: client, ESS_REDIS_PORT: String(server.port), ESS_KEY_PREFIX: prefix, ESS_LOCAL_CACHE: localCache ? '1' : '0' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the revoker exited with ${code}`)));
  });
  return {
    revoke: (userId: string, sessionId: string) =>
      new Promise<{ ended?: boolean; error?: string }>((resolve) => {
        child.once('message', (answer) => resolve(answer as { ended?: boolean; error?: string }));
        child.send({ userId, sessionId });
      }),
    stop: () => child.disconnect(),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** One request to A; resolves to the status, the cookie it set (if any) and the JSON body. */
function send(port: number, method: string, path: string, cookie = '', body?: object): Promise<{ status: number; cookie: string; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { cookie, 'content-type': 'application/json' };
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        const set = res.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
        resolve({ status: res.statusCode ?? 0, cookie: set, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      });
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** Session reads (HGETALL) Redis has run so far: a cache hit runs none. */
async function sessionReads(): Promise<number> {
  return Number(/cmdstat_hgetall:calls=(\d+)/.exec(await busy.info('commandstats'))?.[1] ?? 0);
}

const CASES: [ClientName, boolean][] = [
  ['ioredis', true],
  ['ioredis', false],
  ['node-redis', true],
  ['node-redis', false],
];

describe.each(CASES)('A on %s; the revoking process with localCache %s', (client, writerCaches) => {
  test(`after revokeSession() resolved in another process, A never answers the revoked cookie (${TRIALS} trials, Redis busy, another key written)`, async () => {
    const prefix = uniquePrefix();
    const redis: AppRedis = client === 'ioredis' ? new Redis(server.port, server.host) : createClient({ socket: { host: server.host, port: server.port } });
    redis.on('error', () => undefined);
    const { app } = buildApp(redis, { keyPrefix: prefix, localCache: true, idleTimeout: 600, touchAfter: 300 });
    const listener = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    const port = (listener.address() as AddressInfo).port;
    const revoker = await startRevoker(client, prefix, writerCaches);
    try {
      const other = (await send(port, 'POST', '/login', '', { userId: 'bystander' })).cookie;
      // Wait until A serves hits (its tracked connection is up).
      for (let hit = false, until = Date.now() + 5000; !hit; ) {
        const before = await sessionReads();
        expect((await send(port, 'GET', '/me', other)).status).toBe(200);
        hit = (await sessionReads()) === before;
        if (!hit && Date.now() > until) throw new Error('A never served a cache hit');
      }
      let served = 0;
      for (let i = 0; i < TRIALS; i++) {
        const login = await send(port, 'POST', '/login', '', { userId: `victim-${i}` });
        const sessionId = String(login.json.sessionId);
        expect((await send(port, 'GET', '/me', login.cookie)).status).toBe(200);
        expect((await send(port, 'GET', '/me', login.cookie)).status).toBe(200);
        // Redis busy for 20 ms; meanwhile A saves another session and, a few ms later (so that Redis
        // usually runs the save first), the other process revokes this one.
        const sleeping = busy.call('DEBUG', 'SLEEP', '0.02');
        const saved = send(port, 'POST', '/data', other, { note: `n${i}` });
        await sleep(3);
        const revoked = await revoker.revoke(`victim-${i}`, sessionId);
        expect(revoked).toEqual({ ended: true });
        const after = await send(port, 'GET', '/me', login.cookie);
        if (after.status !== 401) served++;
        await Promise.all([sleeping, saved]);
      }
      expect(served).toBe(0);
    } finally {
      revoker.stop();
      await new Promise((resolve) => listener.close(resolve));
      await closeClient(redis);
    }
  }, 60_000);
});
