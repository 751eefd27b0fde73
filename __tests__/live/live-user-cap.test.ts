/**
 * `maxStreamsPerUser`: a user with many sessions cannot hold unbounded live streams. Opening one more than
 * the cap closes the user's oldest stream, as the per-session cap does; the others and other users' streams
 * stay open. Bad values are refused when the manager is created.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createSessionManager, type SessionManagerOptions } from '../../lib';
import { buildApp } from '../helpers/app';
import { openStream, type SseStream } from '../helpers/sse';
import { sessionCookieOf } from '../helpers/suite';
import { TARGETS, uniquePrefix } from '../helpers/targets';

const redis = TARGETS[0].ioredis();
const { app } = buildApp(redis, { keyPrefix: uniquePrefix(), maxSessions: 10, maxStreamsPerUser: 3 });
let server: Server;
let base: string;
const streams: SseStream[] = [];

beforeAll(async () => {
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const stream of streams) stream.close();
  await new Promise((resolve) => server.close(resolve));
  await redis.quit();
});

async function signIn(userId: string): Promise<string> {
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId }) });
  expect(res.status).toBe(200);
  return sessionCookieOf(res.headers.getSetCookie());
}

async function live(cookie: string): Promise<SseStream> {
  const stream = await openStream(base, cookie);
  streams.push(stream);
  expect(stream.status).toBe(200);
  await stream.next('session');
  return stream;
}

test('one stream over the cap, across the user\'s sessions, closes the user\'s oldest stream only', async () => {
  const cookies = await Promise.all([signIn('many'), signIn('many'), signIn('many'), signIn('many')]);
  const other = await live(await signIn('someone-else'));
  const opened: SseStream[] = [];
  for (const cookie of cookies.slice(0, 3)) opened.push(await live(cookie));
  const fourth = await live(cookies[3]);

  await opened[0].closed();
  expect(opened[0].events.map((e) => e.event)).toEqual(['session']);
  expect(opened[0].raw).toContain('retry: 30000');
  // The check below is ordered after the close by the server: the fifth stream is registered after the fourth.
  const fifth = await live(cookies[1]);
  await opened[1].closed();
  for (const stream of [opened[2], fourth, fifth, other]) expect(stream.ended).toBe(false);
});

test.each([0, 1.5, 10_001, '5'])('maxStreamsPerUser %p is refused with INVALID_OPTIONS', (bad) => {
  expect(() => createSessionManager({ redis, maxStreamsPerUser: bad } as SessionManagerOptions))
    .toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/`maxStreamsPerUser` must be a whole number from 1 to 10000/) }));
});
