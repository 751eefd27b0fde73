/**
 * The read barrier's ordering argument, step by step and without timing: the app reaches Redis through
 * a proxy that can hold what Redis sends on the cache's tracked connection. While it is held, a cached
 * session is not answered, even once the barrier's PING has reached Redis; released, the invalidation
 * of a revoke answered before the request arrives first, and the hit becomes a Redis read (401); with
 * no write in between, the same hit is answered from the cache.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { createClient } from 'redis';
import request from 'supertest';
import { createSessionManager } from '../lib';
import { buildApp } from './helpers/app';
import { startRedis, type RedisServer } from './helpers/redis-servers';
import { sessionCookieOf, sleep } from './helpers/suite';
import { closeClient, uniquePrefix, type AppRedis, type ClientName } from './helpers/targets';

let server: RedisServer;
let inspect: Redis;
beforeAll(async () => {
  server = await startRedis();
  inspect = new Redis(server.port, server.host);
});
afterAll(async () => {
  inspect.disconnect();
  await server.destroy();
});

/** A proxy to the server; `hold()` keeps what Redis sends on the cache's tracked connection until `release()`. */
async function startProxy() {
  let held: Buffer[] | null = null;
  const tracked: Socket[] = [];
  const sockets: Socket[] = [];
  const proxy: Server = createServer((downstream) => {
    const upstream = connect(server.port, server.host);
    sockets.push(downstream, upstream);
    let isTracked: boolean | null = null;
    downstream.on('data', (chunk: Buffer) => {
      // The cache's connection names itself first thing (HELLO 3 SETNAME ess-cache).
      if (isTracked === null) {
        isTracked = chunk.includes('ess-cache');
        if (isTracked) tracked.push(downstream);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (isTracked && held) held.push(chunk);
      else downstream.write(chunk);
    });
    downstream.on('error', () => upstream.destroy());
    upstream.on('error', () => downstream.destroy());
    downstream.on('close', () => upstream.destroy());
    upstream.on('close', () => downstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    hold: () => (held = []),
    release() {
      const chunks = held ?? [];
      held = null;
      for (const chunk of chunks) for (const socket of tracked) if (!socket.destroyed) socket.write(chunk);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

/** How many times Redis ran `name` (INFO commandstats). */
async function calls(name: string): Promise<number> {
  return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(await inspect.info('commandstats'))?.[1] ?? 0);
}

/** Waits until Redis has run one more `PING` than `before` (the barrier, or a heartbeat also held). */
async function pingReached(before: number): Promise<void> {
  for (const until = Date.now() + 5000; (await calls('ping')) <= before; await sleep(5)) {
    if (Date.now() > until) throw new Error('no PING reached Redis within 5 s');
  }
}

describe.each(['ioredis', 'node-redis'] as ClientName[])('the read barrier (%s)', (client) => {
  test('a hit waits for the barrier; an invalidation delivered before its reply turns it into a Redis read', async () => {
    const proxy = await startProxy();
    const prefix = uniquePrefix();
    const redis: AppRedis = client === 'ioredis' ? new Redis(proxy.port, '127.0.0.1') : createClient({ socket: { host: '127.0.0.1', port: proxy.port } });
    redis.on('error', () => undefined);
    const writerClient = new Redis(server.port, server.host);
    const writer = createSessionManager({ redis: writerClient, keyPrefix: prefix });
    const { app } = buildApp(redis, { keyPrefix: prefix, localCache: true, idleTimeout: 600, touchAfter: 300 });
    try {
      const cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'barrier' })).headers['set-cookie']);
      // Cached: a request answered with no session read in Redis.
      for (let hit = false, until = Date.now() + 5000; !hit; ) {
        const before = await calls('hgetall');
        expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
        hit = (await calls('hgetall')) === before;
        if (!hit && Date.now() > until) throw new Error('never a cache hit');
      }

      // No write: the hit waits for the barrier's reply, then is answered from the cache.
      // PINGs counted before holding: a heartbeat's reply then either came through or its PING is counted.
      let pings = await calls('ping');
      proxy.hold();
      const reads = await calls('hgetall');
      let answered = false;
      const hit = request(app).get('/me').set('Cookie', cookie).then((res) => ((answered = true), res));
      await pingReached(pings);
      expect(answered).toBe(false);
      proxy.release();
      expect((await hit).status).toBe(200);
      expect(await calls('hgetall')).toBe(reads);

      // A revoke answered (elsewhere) while the invalidation is held: the hit still waits, then reads Redis.
      pings = await calls('ping');
      proxy.hold();
      expect(await writer.revokeUser('barrier')).toBe(1);
      answered = false;
      const revoked = request(app).get('/me').set('Cookie', cookie).then((res) => ((answered = true), res));
      await pingReached(pings);
      expect(answered).toBe(false);
      proxy.release();
      const res = await revoked;
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('SESSION_REVOKED');
    } finally {
      proxy.release();
      writerClient.disconnect();
      await closeClient(redis);
      await proxy.close();
    }
  });
});
