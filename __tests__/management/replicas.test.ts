/**
 * `waitForReplicas`: after a write that creates or ends a session, WAIT until that many replicas
 * acknowledged it. On a private master with one replica: a sign-in that one replica acknowledged
 * succeeds (EVALSHA then WAIT); asking for two replicas fails within `timeoutMs` with
 * `SESSION_STORE_UNAVAILABLE` and hands out no cookie.
 */
import Redis from 'ioredis';
import request from 'supertest';
import { buildApp } from '../helpers/app';
import { parseInfo, startRedis, waitUntil, type RedisServer } from '../helpers/redis-servers';
import { sessionCookieOf, userKeys } from '../helpers/suite';

let master: RedisServer;
let replica: RedisServer;
let redis: Redis;
let replicaClient: Redis;

beforeAll(async () => {
  master = await startRedis(['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0']);
  replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  redis = new Redis(master.port, master.host);
  replicaClient = new Redis(replica.port, replica.host);
  await waitUntil('the replica to be in sync', async () => parseInfo(await replicaClient.info('replication')).get('master_link_status') === 'up');
  await waitUntil('the master to see its replica', async () => parseInfo(await redis.info('replication')).get('connected_slaves') === '1');
});

afterAll(async () => {
  redis?.disconnect();
  replicaClient?.disconnect();
  await Promise.all([replica?.destroy(), master?.destroy()]);
});

/** Calls of `command` the server has counted since the last CONFIG RESETSTAT. */
async function callsOf(command: string): Promise<number> {
  const line = parseInfo(await redis.info('commandstats')).get(`cmdstat_${command}`);
  return line ? Number(/calls=(\d+)/.exec(line)![1]) : 0;
}

test('with one replica to wait for, sign-in succeeds after the replica acknowledged it: EVALSHA then WAIT', async () => {
  const { app, sessions } = buildApp(redis, { keyPrefix: 'wr1:', waitForReplicas: { replicas: 1, timeoutMs: 2000 } });
  await request(app).post('/login').send({ userId: 'warm-up' });
  await redis.config('RESETSTAT');
  const res = await request(app).post('/login').send({ userId: 'durable' });
  expect(res.status).toBe(200);
  const cookie = sessionCookieOf(res.headers['set-cookie']);
  expect(await callsOf('evalsha')).toBe(1);
  expect(await callsOf('wait')).toBe(1);
  // Acknowledged means the replica holds it already.
  const index = await replicaClient.hgetall(userKeys('wr1:', 'durable').index);
  expect(Object.values(index)).toEqual(['']);
  expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
  expect(await sessions.revokeUser('durable')).toBe(1);
  expect(Object.values(await replicaClient.hgetall(userKeys('wr1:', 'durable').index))[0]).toMatch(/^R\d+$/);
});

test('asking for 2 replicas when 1 exists: login rejects SESSION_STORE_UNAVAILABLE within the timeout, sets no cookie', async () => {
  const { app } = buildApp(redis, { keyPrefix: 'wr2:', waitForReplicas: { replicas: 2, timeoutMs: 150 } });
  const started = Date.now();
  const res = await request(app).post('/login').send({ userId: 'not-durable' });
  // Redis's WAIT answers at its 150 ms timeout; 300 ms more for scheduling on a loaded machine.
  expect(Date.now() - started).toBeLessThan(150 + 300);
  expect(res.status).toBe(503);
  expect(res.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
  expect(res.headers['set-cookie']).toBeUndefined();
});

test('a sign-in refused for too few replicas leaves no session behind that would count against the limit', async () => {
  const strict = buildApp(redis, { keyPrefix: 'wr3:', onLimit: 'reject-new', waitForReplicas: { replicas: 2, timeoutMs: 100 } });
  expect((await request(strict.app).post('/login').send({ userId: 'left-over' })).status).toBe(503);
  expect(await strict.sessions.listSessions('left-over')).toEqual([]);
  const normal = buildApp(redis, { keyPrefix: 'wr3:', onLimit: 'reject-new', waitForReplicas: { replicas: 1, timeoutMs: 2000 } });
  expect((await request(normal.app).post('/login').send({ userId: 'left-over' })).status).toBe(200);
});
