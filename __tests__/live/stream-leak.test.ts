/**
 * Closed event streams release everything: 10,000 open/close cycles leave the heap where it was and
 * no channel subscribed.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Redis from 'ioredis';
import { keyNamer } from '../../lib/store/keys';
import { userTagOf } from '../../lib/token';
import { buildApp } from '../helpers/app';
import { openStream } from '../helpers/sse';
import { sessionCookieOf, sleep } from '../helpers/suite';
import { uniquePrefix } from '../helpers/targets';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const prefix = uniquePrefix();
let redis: Redis;
let server: Server;
let base: string;

beforeAll(async () => {
  redis = new Redis({ host: '127.0.0.1', port: Number(process.env.ESS_TEST_REDIS_PORT) });
  const { app } = buildApp(redis, { keyPrefix: prefix });
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await redis.quit();
});

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await sleep(20);
    gc();
  }
  return process.memoryUsage().heapUsed;
}

test('10,000 streams opened and closed by their clients leak nothing', async () => {
  const users = Array.from({ length: 25 }, (_, i) => `leak-${i}`);
  const cookies: string[] = [];
  for (const userId of users) {
    const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId }) });
    cookies.push(sessionCookieOf(res.headers.getSetCookie()));
  }
  // Each worker is one user: every cycle subscribes the user's channel and unsubscribes it again.
  const cycles = async (count: number): Promise<void> => {
    await Promise.all(cookies.map(async (cookie) => {
      for (let i = 0; i < count / cookies.length; i++) {
        const stream = await openStream(base, cookie);
        await stream.next('session');
        stream.close();
        await stream.closed();
      }
    }));
  };

  await cycles(1000);
  const before = await heapAfterGc();
  await cycles(Number(process.env.LEAK_CYCLES ?? 10_000));
  await sleep(200);
  const after = await heapAfterGc();
  process.stdout.write(`heap after 10,000 cycles: ${((after - before) / 1024).toFixed(0)} KB more\n`);
  // One leaked stream (its response, socket, timer) is several KB: 10,000 of them would be tens of MB.
  expect(after - before).toBeLessThan(4 * 1024 * 1024);
  for (const userId of users.slice(0, 3)) {
    const channel = keyNamer(prefix)(userTagOf(userId)).channel;
    expect(await redis.call('PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 0]);
  }
}, 120_000);
