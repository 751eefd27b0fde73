/**
 * Session data is bounded: `maxDataFields` and `maxDataBytes` (UTF-8 names plus JSON values, counted
 * after merging a change with the stored data). Over either, login() and save() reject with
 * INVALID_ARGUMENT naming the limit, auto-save reports it to onError, and nothing is written.
 */
import request from 'supertest';
import type { SaveErrorEvent, SessionError } from '../lib';
import { buildOn, signIn, useApp } from './helpers/suite';
import { BEHAVIOUR_TARGETS, TARGETS } from './helpers/targets';

/** `n` fields named f0, f1, ... each holding `value`. */
function fields(n: number, value: unknown = 1): Record<string, unknown> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, value]));
}

describe.each(BEHAVIOUR_TARGETS)('session data limits ($name)', (target) => {
  const reported: SessionError[] = [];
  const saveErrors: SaveErrorEvent[] = [];
  const limits = { maxDataBytes: 1000, maxDataFields: 5 };
  const ctx = useApp(target, { ...limits, onError: (err) => reported.push(err) }, (app, sessions) => {
    sessions.on('save-error', (event) => saveErrors.push(event));
    app.post('/merge', sessions.requireSession(), (req, res) => {
      Object.assign(req.session!, req.body);
      res.json({ ok: true });
    });
    /** Body: `{ set: {...}, drop: ['name'] }`. */
    app.post('/merge-and-save', sessions.requireSession(), async (req, res) => {
      const { set = {}, drop = [] } = req.body as { set?: object; drop?: string[] };
      Object.assign(req.session!, set);
      for (const name of drop) delete (req.session as unknown as Record<string, unknown>)[name];
      try {
        await req.session!.save();
        res.json({ outcome: 'saved' });
      } catch (err) {
        for (const name of Object.keys(set)) delete (req.session as unknown as Record<string, unknown>)[name];
        res.json({ outcome: (err as SessionError).code, message: (err as SessionError).message });
      }
    });
  });

  test('login() refuses more than maxDataFields fields, naming the limit', async () => {
    const res = await request(ctx.app).post('/login').send({ userId: 'many-fields', data: fields(6) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('`maxDataFields` (5)') });
    expect((await request(ctx.app).post('/login').send({ userId: 'many-fields', data: fields(5) })).status).toBe(200);
  });

  test('login() refuses data over maxDataBytes, counting UTF-8 bytes of names and JSON values', async () => {
    // 'note' (4) + JSON of 994 characters (996) = 1000 bytes: at the limit.
    expect((await request(ctx.app).post('/login').send({ userId: 'big', data: { note: 'x'.repeat(994) } })).status).toBe(200);
    const over = await request(ctx.app).post('/login').send({ userId: 'big', data: { note: 'x'.repeat(995) } });
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('`maxDataBytes` (1000)') });
    // 'é' is 2 bytes in UTF-8: 500 of them are 1000 bytes of JSON.
    const utf8 = await request(ctx.app).post('/login').send({ userId: 'big', data: { note: 'é'.repeat(500) } });
    expect(utf8.body.error.message).toContain('`maxDataBytes`');
  });

  test('save() rejects a change that is small alone but too big once merged with the stored data', async () => {
    const cookie = await signIn(ctx.app, 'merge-bytes', { left: 'x'.repeat(600) });
    const res = await request(ctx.app).post('/merge-and-save').set('Cookie', cookie).send({ set: { right: 'y'.repeat(400) } });
    expect(res.body).toEqual({ outcome: 'INVALID_ARGUMENT', message: expect.stringContaining('`maxDataBytes` (1000)') });
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body).not.toHaveProperty('right');
    // Replacing the big field with a small one is fine: only the merged total counts.
    const replaced = await request(ctx.app).post('/merge-and-save').set('Cookie', cookie).send({ set: { left: 'small', right: 'y'.repeat(400) } });
    expect(replaced.body).toEqual({ outcome: 'saved' });
  });

  test('save() rejects a field that would be one too many, naming maxDataFields', async () => {
    const cookie = await signIn(ctx.app, 'merge-fields', fields(5));
    const res = await request(ctx.app).post('/merge-and-save').set('Cookie', cookie).send({ set: { sixth: 6 } });
    expect(res.body).toEqual({ outcome: 'INVALID_ARGUMENT', message: expect.stringContaining('`maxDataFields` (5)') });
    const swap = await request(ctx.app).post('/merge-and-save').set('Cookie', cookie).send({ set: { sixth: 6 }, drop: ['f0'] });
    expect(swap.body).toEqual({ outcome: 'saved' });
  });

  test('auto-save over a limit is reported to onError and the save-error event, and writes nothing', async () => {
    const cookie = await signIn(ctx.app, 'auto-over', { note: 'kept' });
    const { sessionId } = (await request(ctx.app).get('/me').set('Cookie', cookie)).body;
    reported.length = 0;
    saveErrors.length = 0;
    const res = await request(ctx.app).post('/merge').set('Cookie', cookie).send({ note: 'changed', left: 'z'.repeat(2000) });
    expect(res.status).toBe(200);
    expect(reported.map((err) => err.code)).toEqual(['INVALID_ARGUMENT']);
    expect(reported[0]!.message).toContain('`maxDataBytes`');
    expect(saveErrors).toEqual([{ error: reported[0], userId: 'auto-over', sessionId }]);
    const many = await request(ctx.app).post('/merge').set('Cookie', cookie).send(fields(6));
    expect(many.status).toBe(200);
    expect(saveErrors.map((event) => [event.error.code, event.userId])).toEqual([['INVALID_ARGUMENT', 'auto-over'], ['INVALID_ARGUMENT', 'auto-over']]);
    expect(saveErrors[1]!.error.message).toContain('`maxDataFields` (5)');
    const me = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(me.body.note).toBe('kept');
    expect(me.body).not.toHaveProperty('left');
  });

  test('a session over a lowered limit can still shrink, though not grow', async () => {
    const roomy = buildOn(target, ctx.redis, { keyPrefix: ctx.prefix }).app;
    const cookie = await signIn(roomy, 'shrinking', { left: 'x'.repeat(800), right: 'y'.repeat(800) });
    const res = await request(ctx.app).post('/merge-and-save').set('Cookie', cookie).send({ set: { left: 'x'.repeat(1200) }, drop: ['right'] });
    expect(res.body).toEqual({ outcome: 'saved' });
    const grow = await request(ctx.app).post('/merge-and-save').set('Cookie', cookie).send({ set: { left: 'x'.repeat(1300) } });
    expect(grow.body.outcome).toBe('INVALID_ARGUMENT');
  });
});

describe.each(BEHAVIOUR_TARGETS)('default data limits ($name)', (target) => {
  const ctx = useApp(target);

  test('5,000 fields are refused with INVALID_ARGUMENT (400), not a 503 from Redis', async () => {
    const res = await request(ctx.app).post('/login').send({ userId: 'five-thousand', data: fields(5000) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('`maxDataFields` (256)');
    expect((await request(ctx.app).post('/login').send({ userId: 'two-five-six', data: fields(256) })).status).toBe(200);
  });

  test('a 40 kB session is refused; 30 kB is fine', async () => {
    const over = await request(ctx.app).post('/login').send({ userId: 'forty-kb', data: { blob: 'x'.repeat(40_000) } });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toContain('`maxDataBytes` (32768)');
    expect((await request(ctx.app).post('/login').send({ userId: 'thirty-kb', data: { blob: 'x'.repeat(30_000) } })).status).toBe(200);
  });
});

describe.each([TARGETS[0]])('limits raised far above the defaults ($name)', (target) => {
  // Redis's Lua `unpack` fails somewhere above a few thousand values: the scripts must write data in bounded batches.
  const ctx = useApp(target, { maxDataFields: 20_000, maxDataBytes: 1_000_000 }, (app, sessions) => {
    /** Body: `{ set: {...}, drop: ['name'] }`, saved with save(). */
    app.post('/change', sessions.requireSession(), async (req, res, next) => {
      const { set = {}, drop = [] } = req.body as { set?: object; drop?: string[] };
      Object.assign(req.session!, set);
      for (const name of drop) delete (req.session as unknown as Record<string, unknown>)[name];
      try {
        await req.session!.save();
        res.json({ fields: Object.keys(req.session!).length });
      } catch (err) {
        next(err);
      }
    });
  });

  test('8,000 fields are signed in, read, 6,000 more added and the 8,000 removed: no unbounded argument list reaches unpack', async () => {
    // 8,000 fields (16,000 values for HSET) stay under the app's 100 kB JSON body limit.
    const cookie = await signIn(ctx.app, 'eight-thousand', fields(8000, 'v'));
    const read = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(read.status).toBe(200);
    expect(read.body.f7999).toBe('v');
    expect(Object.keys(read.body).filter((name) => /^f\d+$/.test(name))).toHaveLength(8000);
    const added = Object.fromEntries(Array.from({ length: 6000 }, (_, i) => [`g${i}`, i]));
    expect((await request(ctx.app).post('/change').set('Cookie', cookie).send({ set: added })).body).toEqual({ fields: 14_000 });
    const drop = Array.from({ length: 8000 }, (_, i) => `f${i}`);
    expect((await request(ctx.app).post('/change').set('Cookie', cookie).send({ drop })).body).toEqual({ fields: 6000 });
    const after = await request(ctx.app).get('/me').set('Cookie', cookie);
    expect(after.body.g5999).toBe(5999);
    expect(after.body).not.toHaveProperty('f0');
    expect(Object.keys(after.body).filter((name) => /^[fg]\d+$/.test(name))).toHaveLength(6000);
  });
});
