/**
 * A request that was answered 503 must not take effect later. ioredis and node-redis both queue
 * commands sent while their connection is not ready and run them once it is; a login queued that
 * way would run after the user was told it failed and silently displace the session Redis kept.
 * Once per client library.
 */
import { createServer, type Server, type Socket } from 'node:net';
import request from 'supertest';
import { buildApp } from '../helpers/app';
import { startRedis, waitUntil, type RedisServer } from '../helpers/redis-servers';
import { CLIENTS, clientOn, closeClient, uniquePrefix } from '../helpers/targets';

let server: RedisServer;

beforeAll(async () => {
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
});

afterAll(async () => {
  await server.destroy();
});

/** Accepts TCP connections on `port` and never answers, so the client hangs while connecting. */
function silentServer(port: number): Promise<{ readonly accepted: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const silent: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    silent.listen(port, '127.0.0.1', () =>
      resolve({
        get accepted() {
          return sockets.size;
        },
        close: () => new Promise<void>((done) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => done());
        }),
      }),
    );
  });
}

test.each(CLIENTS)('a login answered 503 while the connection was not ready never runs later (%s)', async (library) => {
  const redis = clientOn(library, server.port, 50);
  try {
    const { app } = buildApp(redis, { keyPrefix: uniquePrefix(), storeTimeoutMs: 300 });
    const kept = (await request(app).post('/login').send({ userId: 'kept' })).headers['set-cookie'];

    await server.stop();
    const silent = await silentServer(server.port);
    await waitUntil('the client to hang connecting to the silent server', async () => silent.accepted > 0);
    const failed = await request(app).post('/login').send({ userId: 'kept' });
    expect(failed.status).toBe(503);

    await silent.close();
    await server.restart();
    await waitUntil('the app to reach Redis again', async () => (await request(app).get('/me').set('Cookie', kept)).status !== 503, 10_000);
    const after = await request(app).get('/me').set('Cookie', kept);
    expect(after.status).toBe(200);
    expect(after.body.userId).toBe('kept');
  } finally {
    await closeClient(redis);
  }
});
