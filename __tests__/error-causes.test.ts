/**
 * What errors carry: a failing Redis command reaches onError and thrown errors as
 * SESSION_STORE_UNAVAILABLE with the driver's message, but never the command's arguments
 * (key names, the token hash, the user id, session data).
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import Redis, { type Cluster } from 'ioredis';
import request from 'supertest';
import { SessionError } from '../lib';
import { publicCause } from '../lib/errors';
import { buildApp } from './helpers/app';
import { startRedis, type RedisServer } from './helpers/redis-servers';
import { keysWithPrefix, rawValueOf, sessionCookieOf, signIn, useApp } from './helpers/suite';
import { CACHED_TARGETS, TARGETS, uniquePrefix } from './helpers/targets';

/** Everything an app could see of an error: the whole cause chain with hidden properties, and its stacks. */
function everythingIn(error: unknown): string {
  const parts = [inspect(error, { showHidden: true, depth: Infinity })];
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const props = Object.getOwnPropertyNames(e).map((name) => [name, inspect((e as unknown as Record<string, unknown>)[name], { depth: Infinity })]);
    parts.push(String(e.stack), e.message, JSON.stringify(props));
  }
  return parts.join('\n');
}

/** Replaces the user's index key (the shortest key with the user's tag) with a value of another type. */
async function corruptIndex(redis: Redis | Cluster, prefix: string, tag: string): Promise<void> {
  const [index] = (await keysWithPrefix(redis, prefix)).filter((key) => key.includes(`{${tag}}`)).sort((a, b) => a.length - b.length);
  const type = await redis.type(index!);
  await redis.del(index!);
  if (type === 'string') await redis.hset(index!, 'not', 'a string');
  else await redis.set(index!, 'not a hash');
}

function tokenHashOf(cookie: string): string {
  return createHash('sha256').update(rawValueOf(cookie).split('.')[1]!).digest('base64url').slice(0, 21);
}

function expectNoSecrets(error: unknown, secrets: string[]): void {
  const text = everythingIn(error);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe.each([...TARGETS, ...CACHED_TARGETS])('errors handed to the app ($name)', (target) => {
  const reported: SessionError[] = [];
  const ctx = useApp(target, { onError: (err) => reported.push(err) }, (app, sessions) => {
    app.post('/corrupt-then-save', sessions.requireSession(), async (req, res) => {
      await corruptIndex(ctx.redis, ctx.prefix, req.body.tag);
      req.session!.note = req.body.note;
      res.json({ ok: true });
    });
  });

  test('a Redis error while resolving reaches onError with its message but without key names or the token hash', async () => {
    const userId = 'cause-resolve-user@example.com';
    const cookie = await signIn(ctx.app, userId);
    const tag = rawValueOf(cookie).split('.')[0]!;
    await corruptIndex(ctx.redis, ctx.prefix, tag);
    reported.length = 0;

    const res = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(res.status).toBe(503);
    expect(reported).toHaveLength(1);
    const error = reported[0]!;
    expect(error.code).toBe('SESSION_STORE_UNAVAILABLE');
    expect((error.cause as Error).message).toMatch(/WRONGTYPE/);
    expectNoSecrets(error, [ctx.prefix, tag, tokenHashOf(cookie), userId]);
  });

  test('a Redis error while auto-saving reaches onError without the session data or keys', async () => {
    const userId = 'cause-save-user';
    const cookie = await signIn(ctx.app, userId);
    const tag = rawValueOf(cookie).split('.')[0]!;
    reported.length = 0;

    const note = 'private-note-4f1c9b';
    const res = await request(ctx.app).post('/corrupt-then-save').set('Cookie', cookie).send({ tag, note });
    expect(res.status).toBe(200);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.code).toBe('SESSION_STORE_UNAVAILABLE');
    expect((reported[0]!.cause as Error).message).toMatch(/WRONGTYPE/);
    expectNoSecrets(reported[0], [ctx.prefix, tag, tokenHashOf(cookie), userId, note]);
  });
});

describe('errors thrown by login() and scanSessions() on a Redis that refuses commands', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis({ host: server.host, port: server.port });
  });
  afterAll(async () => {
    redis.disconnect();
    await server.destroy();
  });

  test('carry the driver message but not the user id, the data or key names', async () => {
    let thrown: unknown = null;
    const prefix = uniquePrefix();
    const { app } = buildApp(redis, { keyPrefix: prefix }, (routes, sessions) => {
      routes.post('/login-capture', async (req, res) => {
        try {
          await sessions.login(req, res, req.body.userId, req.body.data);
          res.json({ ok: true });
        } catch (err) {
          thrown = err;
          res.status(503).end();
        }
      });
    });
    await redis.call('ACL', 'SETUSER', 'default', '-hset');
    try {
      const userId = 'oom-user@example.com';
      const res = await request(app).post('/login-capture').send({ userId, data: { note: 'private-data-77e1' } });
      expect(res.status).toBe(503);
      expect(thrown).toBeInstanceOf(SessionError);
      expect((thrown as SessionError).code).toBe('SESSION_STORE_UNAVAILABLE');
      expect(((thrown as SessionError).cause as Error).message).toMatch(/can't run this command/);
      expectNoSecrets(thrown, [prefix, userId, 'private-data-77e1']);
    } finally {
      await redis.call('ACL', 'SETUSER', 'default', '+hset');
    }
    // The same server works again once it accepts writes.
    const cookie = sessionCookieOf((await request(app).post('/login').send({ userId: 'after-acl' })).headers['set-cookie']);
    expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(200);
  });

  test('scanSessions() on a Redis that refuses SCAN rejects with SESSION_STORE_UNAVAILABLE, the driver message kept, no key pattern', async () => {
    const prefix = uniquePrefix();
    const { app, sessions } = buildApp(redis, { keyPrefix: prefix });
    sessionCookieOf((await request(app).post('/login').send({ userId: 'scanned-user' })).headers['set-cookie']);
    await redis.call('ACL', 'SETUSER', 'default', '-scan');
    let thrown: unknown = null;
    try {
      for await (const session of sessions.scanSessions()) expect(session).toBeUndefined();
    } catch (err) {
      thrown = err;
    } finally {
      await redis.call('ACL', 'SETUSER', 'default', '+scan');
    }
    expect(thrown).toBeInstanceOf(SessionError);
    expect((thrown as SessionError).code).toBe('SESSION_STORE_UNAVAILABLE');
    expect(((thrown as SessionError).cause as Error).message).toMatch(/scan/i);
    expectNoSecrets(thrown, [prefix]);
    const listed = [];
    for await (const session of sessions.scanSessions()) listed.push(session.userId);
    expect(listed).toEqual(['scanned-user']);
  });
});

describe('publicCause', () => {
  test('drops what Redis echoes of a refused command and keeps the rest of the message and the code', () => {
    const error = Object.assign(new Error("ERR unknown command 'evalsha', with args beginning with: 'abc' '2' 'ess:{tag}:s' "), {
      command: { name: 'evalsha', args: ['abc', '2', 'ess:{tag}:s'] },
      code: 'ERR',
    });
    const safe = publicCause(error) as Error & { code?: string; command?: unknown };
    expect(safe.message).toBe("ERR unknown command 'evalsha'");
    expect(safe.code).toBe('ERR');
    expect(safe.command).toBeUndefined();
    expect(everythingIn(safe)).not.toContain('ess:{tag}');
  });
});
