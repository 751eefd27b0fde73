/**
 * User ids reach Redis exactly as given: ids that are not well-formed Unicode, blank or unusable
 * are refused with INVALID_ARGUMENT (400) by every method that takes one, so no two ids can share a slot.
 */
import request from 'supertest';
import { SessionError } from '../lib';
import { signIn, useApp } from './helpers/suite';
import { BEHAVIOUR_TARGETS } from './helpers/targets';

describe.each(BEHAVIOUR_TARGETS)('user ids ($name)', (target) => {
  const ctx = useApp(target, {}, (app, sessions) => {
    app.post('/revoke', async (req, res, next) => {
      try {
        res.json({ revoked: await sessions.revokeUser(req.body.userId) });
      } catch (err) {
        next(err);
      }
    });
  });

  test('an id with a lone surrogate is refused and cannot displace the id it would collide with', async () => {
    const victim = await signIn(ctx.app, 'eve\ufffd');
    const res = await request(ctx.app).post('/login').send({ userId: 'eve\ud800' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_ARGUMENT');
    expect(res.body.error.message).toMatch(/login\(\).*well-formed/);
    expect(res.headers['set-cookie']).toBeUndefined();
    const me = await request(ctx.app).get('/me').set('Cookie', victim);
    expect(me.status).toBe(200);
    expect(me.body.userId).toBe('eve\ufffd');
  });

  test('U+FFFD itself is an ordinary character: "eve\\ufffd" and "eve" are two users', async () => {
    const replacement = await signIn(ctx.app, 'eve\ufffd');
    const plain = await signIn(ctx.app, 'eve');
    expect((await request(ctx.app).get('/me').set('Cookie', replacement)).body.userId).toBe('eve\ufffd');
    expect((await request(ctx.app).get('/me').set('Cookie', plain)).body.userId).toBe('eve');
  });

  test.each([
    ['a lone high surrogate', 'eve\ud800'],
    ['a lone low surrogate', '\udc00eve'],
    ['an empty string', ''],
    ['only spaces', '   '],
    ['only tabs, newlines and no-break spaces', '\t\n\u00a0\u2003'],
    ['a number', 42],
    ['null', null],
    ['an object', { id: 'alice' }],
    ['1025 characters', 'x'.repeat(1025)],
  ])('login() and revokeUser() refuse %s with INVALID_ARGUMENT (400)', async (_what, userId) => {
    const login = await request(ctx.app).post('/login').send({ userId });
    expect(login.status).toBe(400);
    expect(login.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('login()') });
    const revoke = await request(ctx.app).post('/revoke').send({ userId });
    expect(revoke.status).toBe(400);
    expect(revoke.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('revokeUser()') });
  });

  test('every method that takes a user id refuses an ill-formed one; a well-formed id still works', async () => {
    await expect(ctx.sessions.revokeUser('eve\ud800')).rejects.toBeInstanceOf(SessionError);
    await expect(ctx.sessions.listSessions('eve\ud800')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('listSessions()') });
    await expect(ctx.sessions.revokeSession('   ', 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('revokeSession()') });
    const cookie = await signIn(ctx.app, 'revoke-me \u{1F600}');
    expect(await ctx.sessions.revokeUser('revoke-me \u{1F600}')).toBeTruthy();
    expect((await request(ctx.app).get('/me').set('Cookie', cookie)).status).toBe(401);
  });

  test('ids of 1024 characters, with inner spaces or astral characters are accepted', async () => {
    for (const userId of ['y'.repeat(1024), ' padded id ', '\u{1F600}']) {
      const cookie = await signIn(ctx.app, userId);
      expect((await request(ctx.app).get('/me').set('Cookie', cookie)).body.userId).toBe(userId);
    }
  });
});
