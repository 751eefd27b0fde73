/**
 * A request that was answered 503 must not take effect later. ioredis queues commands sent while
 * its connection is not ready and runs them once it is; a login queued that way would run after
 * the user was told it failed and silently displace the session Redis kept.
 */
import { createServer, type Server, type Socket } from 'node:net';
import Redis from 'ioredis';
import request from 'supertest';
import { buildApp } from '../helpers/app';
import { startRedis, waitUntil, type RedisServer } from '../helpers/redis-servers';
import { uniquePrefix } from '../helpers/targets';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
  redis = new Redis({ host: '127.0.0.1', port: server.port, retryStrategy: () => 50 });
  redis.on('error', () => undefined);
});

afterAll(async () => {
  redis.disconnect();
  await server.destroy();
});

/** Accepts TCP connections on `port` and never answers, so the client hangs in status 'connect'. */
function silentServer(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const silent: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    silent.listen(port, '127.0.0.1', () =>
      resolve({
        close: () => new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => done());
        }),
      }),
    );
  });
}

test('a login answered 503 while the connection was not ready never runs later', async () => {
  const { app } = buildApp(redis, { keyPrefix: uniquePrefix(), storeTimeoutMs: 300 });
  const kept = (await request(app).post('/login').send({ userId: 'kept' })).headers['set-cookie'];

  await server.stop();
  const silent = await silentServer(server.port);
  await waitUntil('the client to hang in status connect', async () => redis.status === 'connect');
  const failed = await request(app).post('/login').send({ userId: 'kept' });
  expect(failed.status).toBe(503);

  await silent.close();
  await server.restart();
  await waitUntil('the client to be ready again', async () => redis.status === 'ready');
  await redis.ping();
  const after = await request(app).get('/me').set('Cookie', kept);
  expect(after.status).toBe(200);
  expect(after.body.userId).toBe('kept');
});
