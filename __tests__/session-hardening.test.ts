/**
 * req.session against untrusted data copied into it: the facts and methods cannot be shadowed,
 * replaced or reached through `__proto__`, names of Object.prototype cannot be data, and a refused
 * field is reported (onError from auto-save, a rejection from save()) instead of dropped in silence.
 */
import request from 'supertest';
import type { SaveErrorEvent, SessionError } from '../lib';
import { keysWithPrefix, signIn, useApp } from './helpers/suite';
import { BEHAVIOUR_TARGETS } from './helpers/targets';

const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);
const FACTS = ['userId', 'sessionId', 'createdAt', 'authenticatedAt', 'lastActiveAt', 'expiresAt', 'idleExpiresAt', 'absoluteExpiresAt'];

describe.each(BEHAVIOUR_TARGETS)('req.session hardening ($name)', (target) => {
  const reported: SessionError[] = [];
  const saveErrors: SaveErrorEvent[] = [];
  const ctx = useApp(target, { onError: (err) => reported.push(err) }, (app, sessions) => {
    sessions.on('save-error', (event) => saveErrors.push(event));
    /** Tries every way to shadow or replace the facts and methods on the instance, then reports what the request sees. */
    app.post('/redefine', sessions.requireSession(), (req, res) => {
      const session = req.session as unknown as Record<string, unknown>;
      const survived: string[] = [];
      const descriptors: Record<string, unknown> = {};
      for (const name of [...FACTS, 'save', 'toJSON']) {
        const attempts = [
          () => Object.defineProperty(session, name, { value: 'admin', configurable: true, enumerable: true }),
          () => Object.defineProperty(session, name, { get: () => 'admin' }),
          () => delete session[name],
          () => { session[name] = 'admin'; },
        ];
        for (const [i, attempt] of attempts.entries()) {
          try {
            attempt();
            survived.push(`${name}#${i}`);
          } catch {
            // refused, as it must be
          }
        }
        const { configurable, enumerable, writable, set } = Object.getOwnPropertyDescriptor(session, name) ?? {};
        descriptors[name] = { own: Object.hasOwn(session, name), configurable, enumerable, writable: writable ?? false, setter: set !== undefined };
      }
      // A swapped prototype (the other way `__proto__` tricks work) must not change a fact or a method either.
      Object.setPrototypeOf(session, { userId: 'admin', sessionId: 'forged', save: () => Promise.resolve(), toJSON: () => ({ userId: 'admin' }) });
      res.json({ survived, descriptors, userId: session.userId, sessionId: session.sessionId, saveIsMethod: typeof session.save === 'function', json: req.session });
    });
    /** Copies the body into the session the careless way, then reports what the request sees. */
    app.post('/copy', sessions.requireSession(), (req, res) => {
      let threw = false;
      try {
        Object.assign(req.session!, req.body);
      } catch {
        threw = true;
      }
      const session = req.session as unknown as Record<string, unknown>;
      res.json({
        threw,
        userId: session.userId,
        sessionId: session.sessionId,
        createdAtIsDate: session.createdAt instanceof Date,
        saveIsMethod: typeof session.save === 'function' && session.save === Object.getPrototypeOf(session).save,
        json: req.session,
      });
    });
    app.post('/copy-and-save', sessions.requireSession(), async (req, res) => {
      try {
        Object.assign(req.session!, req.body);
      } catch (err) {
        res.json({ outcome: 'ASSIGNMENT_THREW', message: String(err) });
        return;
      }
      try {
        await req.session!.save();
        res.json({ outcome: 'saved' });
      } catch (err) {
        const { code, message } = err as SessionError;
        // The refused field stays on the object; drop it so auto-save does not report it a second time.
        for (const name of Object.keys(req.body)) delete (req.session as unknown as Record<string, unknown>)[name];
        res.json({ outcome: code, message });
      }
    });
  });

  const dataFieldsOf = async (userTagPart: string): Promise<string[]> => {
    const keys = await keysWithPrefix(ctx.redis, ctx.prefix);
    const hash = keys.find((key) => key.endsWith(':s') && key.includes(userTagPart));
    return hash ? (await ctx.redis.hkeys(hash)).filter((field) => field.startsWith('d:')) : [];
  };

  test('Object.assign of {"__proto__": {"userId": "admin"}} changes no fact, and the refused save is reported', async () => {
    const cookie = await signIn(ctx.app, 'proto-victim', { theme: 'light' });
    reported.length = 0;
    const body = '{"__proto__": {"userId": "admin", "sessionId": "forged", "save": 1, "toJSON": 2}, "theme": "dark"}';
    const res = await request(ctx.app).post('/copy').set('Cookie', cookie).set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ threw: false, userId: 'proto-victim', createdAtIsDate: true, saveIsMethod: true });
    expect(res.body.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.json.userId).toBe('proto-victim');
    expect(reported.map((err) => [err.code, err.message])).toEqual([['INVALID_ARGUMENT', expect.stringContaining('`__proto__`')]]);
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body).toMatchObject({ userId: 'proto-victim', theme: 'light' });
    expect(({} as Record<string, unknown>).userId).toBeUndefined();
  });

  test('the facts, save and toJSON are own, non-configurable, non-writable members: no defineProperty, delete, assignment or prototype swap changes them', async () => {
    const cookie = await signIn(ctx.app, 'redefine-victim', { theme: 'light' });
    const res = await request(ctx.app).post('/redefine').set('Cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.body.survived).toEqual([]);
    for (const name of [...FACTS, 'save', 'toJSON']) {
      expect([name, res.body.descriptors[name]]).toEqual([name, { own: true, configurable: false, enumerable: false, writable: false, setter: false }]);
    }
    expect(res.body.userId).toBe('redefine-victim');
    expect(res.body.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body.json).toMatchObject({ userId: 'redefine-victim', sessionId: res.body.sessionId, theme: 'light' });
    expect((await request(ctx.app).get('/me').set('Cookie', cookie)).body).toMatchObject({ userId: 'redefine-victim', theme: 'light' });
  });

  test('assigning userId, sessionId, save or toJSON throws and leaves them as they were', async () => {
    const cookie = await signIn(ctx.app, 'assign-victim');
    for (const name of ['userId', 'sessionId', 'createdAt', 'expiresAt', 'save', 'toJSON']) {
      const res = await request(ctx.app).post('/copy').set('Cookie', cookie).send({ [name]: 'admin' });
      expect(res.body).toMatchObject({ threw: true, userId: 'assign-victim', createdAtIsDate: true, saveIsMethod: true });
      expect(res.body.json.userId).toBe('assign-victim');
    }
  });

  test('save() rejects every Object.prototype member name and __proto__ as data, naming it, and stores nothing', async () => {
    // `constructor` is a read-only member of req.session itself, so already the assignment throws.
    const cookie = await signIn(ctx.app, 'names-user');
    expect(PROTOTYPE_NAMES).toEqual(expect.arrayContaining(['toString', 'valueOf', 'hasOwnProperty', 'constructor', '__proto__']));
    for (const name of [...PROTOTYPE_NAMES, 'prototype']) {
      const body = name === '__proto__' ? '{"__proto__": 1}' : JSON.stringify({ [name]: 'x' });
      const res = await request(ctx.app).post('/copy-and-save').set('Cookie', cookie).set('Content-Type', 'application/json').send(body);
      if (name === 'constructor') {
        expect(res.body.outcome).toBe('ASSIGNMENT_THREW');
        expect(res.body.message).toMatch(/TypeError.*read.only.*constructor/);
        continue;
      }
      expect([name, res.body.outcome]).toEqual([name, 'INVALID_ARGUMENT']);
      expect(res.body.message).toContain(`\`${name}\``);
    }
    expect((await request(ctx.app).get('/me').set('Cookie', cookie)).status).toBe(200);
    const tag = decodeURIComponent(cookie).slice('ess_sid=s:'.length, 'ess_sid=s:'.length + 16);
    expect(await dataFieldsOf(tag)).toEqual([]);
  });

  test('auto-save reports a refused name to onError and the save-error event instead of dropping the save silently', async () => {
    const cookie = await signIn(ctx.app, 'names-auto-user', { theme: 'light' });
    const { sessionId } = (await request(ctx.app).get('/me').set('Cookie', cookie)).body;
    for (const name of ['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__']) {
      reported.length = 0;
      saveErrors.length = 0;
      const res = await request(ctx.app).post('/copy').set('Cookie', cookie).send({ [name]: 'x', theme: 'dark' });
      expect(res.status).toBe(200);
      expect(reported.map((err) => err.code)).toEqual(['INVALID_ARGUMENT']);
      expect(reported[0]!.message).toContain(`\`${name}\``);
      expect(saveErrors).toEqual([{ error: reported[0], userId: 'names-auto-user', sessionId }]);
    }
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body.theme).toBe('light');
    expect(Object.keys(me.body)).not.toContain('toString');
  });

  test('login() refuses Object.prototype member names as data', async () => {
    for (const name of ['toString', 'valueOf', 'hasOwnProperty']) {
      const res = await request(ctx.app).post('/login').send({ userId: 'login-names', data: { [name]: 1 } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_ARGUMENT');
      expect(res.body.error.message).toContain(`\`${name}\``);
    }
  });
});
