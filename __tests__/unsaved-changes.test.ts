/**
 * No session change is dropped silently: a change made after the response ended, and a change
 * whose save was refused because the session ended during the request, both reach onError and
 * the manager's save-error event.
 */
import request from 'supertest';
import type { SaveErrorEvent, SessionError } from '../lib';
import { signIn, sleep, useApp } from './helpers/suite';
import { CACHED_TARGETS, TARGETS } from './helpers/targets';

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(10);
}

// ioredis on the single server, without and with the local cache.
describe.each([TARGETS[0], ...CACHED_TARGETS])('unsaved changes ($name)', (target) => {
  const reported: SessionError[] = [];
  const saveErrors: SaveErrorEvent[] = [];
  let release: (() => void) | null = null;

  const ctx = useApp(target, { onError: (err) => reported.push(err) }, (app, sessions) => {
    sessions.on('save-error', (event) => saveErrors.push(event));
    app.post('/late-change', sessions.requireSession(), (req, res) => {
      res.json({ ok: true });
      req.session!.note = 'after the response';
    });
    app.post('/late-async-change', sessions.requireSession(), async (req, res) => {
      res.json({ ok: true });
      await Promise.resolve();
      req.session!.cart = ['late'];
    });
    app.post('/change-then-revoke', sessions.requireSession(), async (req, res) => {
      req.session!.note = 'lost';
      await sessions.revokeUser(req.session!.userId);
      res.json({ ok: true });
    });
    app.post('/change-then-wait', sessions.requireSession(), async (req, res) => {
      req.session!.note = 'lost';
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      res.json({ ok: true });
    });
  });

  beforeEach(() => {
    reported.length = 0;
    saveErrors.length = 0;
  });

  /** The save-error events match what onError got, one for one, with the session's user and id. */
  function expectSaveErrors(userId: string): void {
    expect(saveErrors).toEqual(reported.map((error) => ({ error, userId, sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) })));
  }

  test('a change saved before the response ends reports nothing', async () => {
    const cookie = await signIn(ctx.app, 'quiet');
    expect((await request(ctx.app).post('/data').set('Cookie', cookie).send({ note: 'kept' })).status).toBe(200);
    await sleep(50);
    expect(reported).toEqual([]);
    expect(saveErrors).toEqual([]);
    expect((await request(ctx.app).get('/me').set('Cookie', cookie)).body.note).toBe('kept');
  });

  test.each(['/late-change', '/late-async-change'])('a change made after the response ended (%s) is reported, not saved', async (path) => {
    const cookie = await signIn(ctx.app, `late${path}`);
    expect((await request(ctx.app).post(path).set('Cookie', cookie)).status).toBe(200);
    await until(() => reported.length > 0);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.code).toBe('HEADERS_SENT');
    expect(reported[0]!.message).toMatch(/req\.session was changed after the response ended \((note|cart)\); the change was not saved/);
    expectSaveErrors(`late${path}`);
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body.note).toBeUndefined();
    expect(me.body.cart).toBeUndefined();
  });

  test('a change whose session was revoked during the request is reported as not saved (SESSION_REVOKED)', async () => {
    const cookie = await signIn(ctx.app, 'revoked-mid-request');
    expect((await request(ctx.app).post('/change-then-revoke').set('Cookie', cookie)).status).toBe(200);
    expect(reported.map((err) => err.code)).toEqual(['SESSION_REVOKED']);
    expect(reported[0]!.message).toMatch(/changes to req\.session were not saved: the session was revoked/);
    expect((reported[0]!.cause as SessionError).code).toBe('SESSION_REVOKED');
    expectSaveErrors('revoked-mid-request');
  });

  test('a change whose session was displaced during the request is reported as not saved (SESSION_DISPLACED)', async () => {
    const cookie = await signIn(ctx.app, 'displaced-mid-request');
    const pending = request(ctx.app).post('/change-then-wait').set('Cookie', cookie).then((res) => res);
    await until(() => release !== null);
    await signIn(ctx.app, 'displaced-mid-request');
    release!();
    expect((await pending).status).toBe(200);
    expect(reported.map((err) => err.code)).toEqual(['SESSION_DISPLACED']);
    expect(reported[0]!.message).toMatch(/changes to req\.session were not saved: a newer sign-in of the user displaced the session/);
    expectSaveErrors('displaced-mid-request');
  });
});
