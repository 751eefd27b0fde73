/**
 * Live sign-out on node-redis: the same notices reach a stream served by an app on a node-redis
 * client (a duplicate() connection for sharded pub/sub; a Sentinel client's own pub/sub connection), on a single
 * Redis, a Cluster and Sentinel.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Cluster } from 'ioredis';
import request from 'supertest';
import { keyNamer } from '../../lib/store/keys';
import { userTagOf } from '../../lib/token';
import { buildApp } from '../helpers/app';
import { openStream, type SseStream } from '../helpers/sse';
import { signIn, sleep, useApp } from '../helpers/suite';
import { closeClient, SENTINEL_TARGETS, TARGETS, uniquePrefix } from '../helpers/targets';

describe.each([...TARGETS, ...SENTINEL_TARGETS].filter((t) => t.client === 'node-redis'))('live sign-out on $name', (target) => {
  const ctx = useApp(target);
  let server: Server;
  let base = '';
  const streams: SseStream[] = [];

  beforeAll(async () => {
    server = await new Promise<Server>((resolve) => {
      const s = ctx.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const open = async (cookie: string, at = base): Promise<SseStream> => {
    const stream = await openStream(at, cookie);
    streams.push(stream);
    return stream;
  };

  test('a newer sign-in ends the stream with SESSION_DISPLACED', async () => {
    const first = await signIn(ctx.app, 'nr-displaced');
    const stream = await open(first);
    expect((await stream.next('session')).data.sessionId).toEqual(expect.any(String));
    await signIn(ctx.app, 'nr-displaced');
    expect((await stream.next('ended', 3000)).data).toEqual({ code: 'SESSION_DISPLACED' });
    await stream.closed();
  });

  test('revokeUser ends the stream with SESSION_REVOKED, sign-out with SESSION_LOGGED_OUT', async () => {
    const revoked = await signIn(ctx.app, 'nr-revoked');
    const one = await open(revoked);
    await one.next('session');
    expect(await ctx.sessions.revokeUser('nr-revoked')).toBe(1);
    expect((await one.next('ended', 3000)).data).toEqual({ code: 'SESSION_REVOKED' });

    const out = await signIn(ctx.app, 'nr-out');
    const two = await open(out);
    await two.next('session');
    expect((await request(ctx.app).post('/logout').set('Cookie', out)).status).toBe(204);
    expect((await two.next('ended', 3000)).data).toEqual({ code: 'SESSION_LOGGED_OUT' });
  });

  test('closing the app\'s client closes the subscriber too (nothing keeps the process alive)', async () => {
    // A client (or Cluster) of its own, so that closing it leaves the suite's app alone.
    const client = target.connect();
    const prefix = uniquePrefix();
    const { app } = buildApp(client, { keyPrefix: prefix });
    const own: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const ownBase = `http://127.0.0.1:${(own.address() as AddressInfo).port}`;
    try {
      const stream = await open(await signIn(app, 'nr-close'), ownBase);
      await stream.next('session');
      const channel = keyNamer(prefix)(userTagOf('nr-close')).channel;
      // Asked of every master (on a Cluster only the channel's own master counts it).
      const masters = ctx.redis instanceof Cluster ? ctx.redis.nodes('master') : [ctx.redis];
      const subscribed = async (): Promise<number> => {
        const counts = await Promise.all(masters.map(async (m) => ((await m.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1]));
        return counts.reduce((x, y) => x + y, 0);
      };
      expect(await subscribed()).toBe(1);
      await closeClient(client);
      for (let i = 0; i < 100 && (await subscribed()) !== 0; i++) await sleep(20);
      expect(await subscribed()).toBe(0);
    } finally {
      own.closeAllConnections();
      await new Promise((resolve) => own.close(resolve));
    }
  });
});
