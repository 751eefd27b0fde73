/**
 * The adapter contract: what the package asks of a Redis client (lib/clients/adapter.ts), checked on
 * every client and deployment (ioredis and node-redis on a single Redis, a Cluster and Sentinel), plus
 * the sign-in basics through an app on each. Everything else that does not depend on the client runs on
 * one target (BEHAVIOUR_TARGETS in helpers/targets.ts), so this file is where a client or topology
 * difference must show.
 */
import { createHash } from 'node:crypto';
import request from 'supertest';
import type { RedisAdapter, Subscriber } from '../../lib/clients/adapter';
import { adapterFor } from '../../lib/clients/detect';
import { waitUntil } from '../helpers/redis-servers';
import { signIn, useApp } from '../helpers/suite';
import { closeClient, SENTINEL_TARGETS, TARGETS, uniquePrefix, type AppRedis } from '../helpers/targets';

const refuse = (message: string): never => {
  throw new Error(message);
};

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

describe.each([...TARGETS, ...SENTINEL_TARGETS])('the adapter on $name', (target) => {
  let client: AppRedis;
  let adapter: RedisAdapter;
  const prefix = uniquePrefix();
  /** A key of its own slot for each tag. */
  const key = (tag: string, rest = ''): string => `${prefix}{${tag}}${rest}`;

  beforeAll(async () => {
    client = target.connect();
    adapter = adapterFor(client, refuse);
    await adapter.whenReady();
  });
  afterAll(() => closeClient(client));

  test('is ready once whenReady() resolved, names its library and says whether it is a Cluster', () => {
    expect(adapter.state()).toBe('ready');
    expect(adapter.library).toBe(target.client);
    expect(adapter.isCluster).toBe(target.deployment === 'cluster');
  });

  test('a client the app never connected is connecting until whenReady(), then ready; offline once the app closed it', async () => {
    const own = target.connect();
    const ownAdapter = adapterFor(own, refuse);
    // ioredis connects at once (it may already be ready); node-redis waits for the package.
    if (target.client === 'node-redis') expect(ownAdapter.state()).toBe('connecting');
    else expect(['connecting', 'ready']).toContain(ownAdapter.state());
    await ownAdapter.whenReady();
    expect(ownAdapter.state()).toBe('ready');
    await closeClient(own);
    await waitUntil('the closed client to be offline', async () => ownAdapter.state() === 'offline', 5000, 10);
  });

  test('evalsha rejects with NOSCRIPT for a script Redis does not hold; eval runs it, then evalsha does', async () => {
    const source = `return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])} -- ${prefix}`;
    const keys = [key('script')];
    await expect(adapter.evalsha(sha1(source), keys, ['a'])).rejects.toThrow(/NOSCRIPT/);
    expect(await adapter.eval(source, keys, ['a'])).toEqual([keys[0], 'a', 1]);
    expect(await adapter.evalsha(sha1(source), keys, ['b'])).toEqual([keys[0], 'b', 2]);
  });

  test('a pipeline of plain reads answers in RESP2 shapes: strings, null, numbers, HGETALL as a flat array', async () => {
    const index = key('reads', ':v1');
    const record = key('reads', 'record');
    const big = 'x'.repeat(1_000_000);
    await adapter.pipeline([['HSET', index, 'h1', '', 'h2', 'L5'], ['SET', record, big, 'PX', '60000']]);
    const replies = await adapter.pipeline([['HGETALL', index], ['GET', record], ['GET', key('reads', 'none')], ['PTTL', record], ['EXISTS', record]]);
    expect(replies[0]).toEqual(['h1', '', 'h2', 'L5']);
    expect(replies[1]).toBe(big);
    expect(replies[2]).toBeNull();
    expect(typeof replies[3]).toBe('number');
    expect(replies[3]).toBeGreaterThan(0);
    expect(replies[3]).toBeLessThanOrEqual(60_000);
    expect(replies[4]).toBe(1);
  });

  test('an error reply rejects the whole pipeline', async () => {
    await adapter.pipeline([['SET', key('wrong'), 'a string']]);
    await expect(adapter.pipeline([['HGETALL', key('wrong')]])).rejects.toThrow(/WRONGTYPE/);
  });

  test('wait reports the replicas that acknowledged: none on a deployment without replicas, the one replica on Sentinel', async () => {
    const routing = key('wait');
    await adapter.pipeline([['SET', routing, '1']]);
    // WAIT returns as soon as the count is reached; the timeout only bounds a missing replica.
    const acknowledged = await adapter.wait(routing, 1, target.deployment === 'sentinel' ? 10_000 : 1);
    expect(acknowledged).toBe(target.deployment === 'sentinel' ? 1 : 0);
  });

  test('scan finds every matching key on every master, in batches', async () => {
    const written = Array.from({ length: 40 }, (_, i) => key(`scan${i}`, ':k'));
    for (const k of written) await adapter.pipeline([['SET', k, '1']]);
    const found: string[] = [];
    for await (const batch of adapter.scan(`${prefix}{scan*`, 5)) found.push(...batch);
    expect(found.sort()).toEqual([...written].sort());
  });

  describe('the subscriber', () => {
    let subscriber: Subscriber;
    const heard: [string, string][] = [];
    beforeAll(() => {
      subscriber = adapter.subscriber({ message: (channel, message) => heard.push([channel, message]), resubscribed: () => undefined });
    });
    afterAll(() => subscriber.close());

    test('hears a sharded message on each subscribed channel, on its own connections, until it unsubscribes or closes', async () => {
      const channels = [key('sub-a', ':n'), key('sub-b', ':n'), key('sub-c', ':n')];
      for (const channel of channels) await subscriber.subscribe(channel);
      await subscriber.subscribe(channels[0]!); // twice is harmless
      expect(subscriber.connections()).toBeGreaterThanOrEqual(1);
      for (const channel of channels) await adapter.pipeline([['SPUBLISH', channel, `to ${channel}`]]);
      await waitUntil('every message to arrive', async () => heard.length >= channels.length, 5000, 10);
      expect(heard.sort()).toEqual(channels.map((channel) => [channel, `to ${channel}`]).sort());

      await subscriber.unsubscribe(channels[0]!);
      // SPUBLISH answers how many subscribers got the message: Redis's own count, no timing involved.
      expect(await adapter.pipeline([['SPUBLISH', channels[0]!, 'after']])).toEqual([0]);
      expect(await adapter.pipeline([['SPUBLISH', channels[1]!, 'still']])).toEqual([1]);
      subscriber.close();
      expect(subscriber.connections()).toBe(0);
      await expect(subscriber.subscribe(channels[2]!)).rejects.toThrow();
    });
  });

  describe('through an app', () => {
    const ctx = useApp(target);

    test('sign-in, displacement, a read, a save, revocation and logout', async () => {
      const first = await signIn(ctx.app, 'contract');
      const second = await signIn(ctx.app, 'contract', { theme: 'dark' });
      const displaced = await request(ctx.app).get('/me').set('Cookie', first);
      expect(displaced.status).toBe(401);
      expect(displaced.body.error.code).toBe('SESSION_DISPLACED');
      expect(String(displaced.headers['set-cookie'])).toMatch(/ess_sid=;/);

      const me = await request(ctx.app).get('/me').set('Cookie', second);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ userId: 'contract', theme: 'dark' });
      expect((await request(ctx.app).post('/data').set('Cookie', second).send({ cart: ['book'] })).status).toBe(200);
      expect((await request(ctx.app).get('/me').set('Cookie', second)).body).toMatchObject({ theme: 'dark', cart: ['book'] });

      const out = await request(ctx.app).post('/logout').set('Cookie', second);
      expect(out.status).toBe(204);
      expect((await request(ctx.app).get('/me').set('Cookie', second)).body.error.code).toBe('SESSION_EXPIRED');

      const third = await signIn(ctx.app, 'contract');
      expect(await ctx.sessions.revokeUser('contract')).toBe(1);
      expect((await request(ctx.app).get('/me').set('Cookie', third)).body.error.code).toBe('SESSION_REVOKED');
    });

    test('20 parallel sign-ins of one user leave exactly one live session', async () => {
      const cookies = await Promise.all(Array.from({ length: 20 }, () => signIn(ctx.app, 'parallel')));
      const codes = await Promise.all(cookies.map(async (c) => {
        const res = await request(ctx.app).get('/me').set('Cookie', c);
        return res.status === 200 ? 'OK' : res.body.error.code;
      }));
      expect(codes.filter((code) => code === 'OK')).toHaveLength(1);
      expect(codes.filter((code) => code === 'SESSION_DISPLACED')).toHaveLength(19);
    });
  });
});
