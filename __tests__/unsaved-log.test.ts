/**
 * With neither `onError` nor a `save-error` listener, a change the automatic save could not store is said
 * in the log, once per error code: "nothing is dropped silently" holds for an app that set nothing up.
 */
import request from 'supertest';
import { signIn, useApp } from './helpers/suite';
import { TARGETS } from './helpers/targets';

/** The ESS_SESSION_NOT_SAVED warnings process.emitWarning was given while `run` ran. */
async function warningsDuring(run: () => Promise<void>): Promise<string[]> {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    await run();
    return spy.mock.calls
      .filter((call) => (call[1] as { code?: string } | undefined)?.code === 'ESS_SESSION_NOT_SAVED')
      .map((call) => String(call[0]));
  } finally {
    spy.mockRestore();
  }
}

const routes = (app: import('express').Express, sessions: import('../lib').SessionManager): void => {
  app.post('/bigint', sessions.requireSession(), (req, res) => {
    (req.session as unknown as Record<string, unknown>).big = BigInt(1);
    res.json({ ok: true });
  });
  app.post('/cycle', sessions.requireSession(), (req, res) => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    (req.session as unknown as Record<string, unknown>).cycle = cycle;
    res.json({ ok: true });
  });
  app.post('/change-then-revoke', sessions.requireSession(), async (req, res) => {
    (req.session as unknown as Record<string, unknown>).note = 'lost';
    await sessions.revokeUser(req.session!.userId);
    res.json({ ok: true });
  });
};

describe('without onError or a save-error listener', () => {
  const ctx = useApp(TARGETS[0], {}, routes);

  test('a change that could not be saved is logged once per error code, never with its data', async () => {
    const cookie = await signIn(ctx.app, 'unheard');
    const warnings = await warningsDuring(async () => {
      for (const path of ['/bigint', '/cycle', '/bigint']) {
        expect((await request(ctx.app).post(path).set('Cookie', cookie)).status).toBe(200);
      }
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^express-single-session: a change to the session was not saved .*\(INVALID_ARGUMENT\)/);
    expect(warnings[0]).toMatch(/onError/);

    const more = await warningsDuring(async () => {
      for (const user of ['revoked-1', 'revoked-2']) {
        const other = await signIn(ctx.app, user);
        expect((await request(ctx.app).post('/change-then-revoke').set('Cookie', other)).status).toBe(200);
      }
    });
    expect(more).toHaveLength(1);
    expect(more[0]).toMatch(/\(SESSION_REVOKED\)/);
    expect(more[0]).not.toMatch(/lost/);
  });
});

describe('with onError set', () => {
  const heard: string[] = [];
  const ctx = useApp(TARGETS[0], { onError: (err) => heard.push(err.code) }, routes);

  test('the app hears of it and the log stays quiet', async () => {
    const cookie = await signIn(ctx.app, 'heard');
    const warnings = await warningsDuring(async () => {
      expect((await request(ctx.app).post('/bigint').set('Cookie', cookie)).status).toBe(200);
    });
    expect(heard).toEqual(['INVALID_ARGUMENT']);
    expect(warnings).toEqual([]);
  });
});
