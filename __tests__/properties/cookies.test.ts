/**
 * Property: whatever the Cookie header holds (any text, any bytes, well-formed names with
 * malformed values, signed garbage), the middleware never throws, answers SESSION_MISSING or
 * SESSION_INVALID, and never sends Redis a command for a malformed value (counted on a proxy of
 * the client the manager uses).
 */
import cookieParser from 'cookie-parser';
import express from 'express';
import fc from 'fast-check';
import type Redis from 'ioredis';
import request from 'supertest';
import { createSessionManager } from '../../lib';
import { TEST_SECRET } from '../helpers/app';
import { signCookieValue } from '../helpers/suite';
import { TARGETS, uniquePrefix } from '../helpers/targets';

const client = TARGETS[0].connect() as Redis;
afterAll(() => client.quit());

/** Every command method the store could use, counted. */
const COMMANDS = new Set(['evalsha', 'eval', 'del', 'call', 'sendCommand', 'get', 'hgetall', 'multi', 'pipeline']);
let commands = 0;
const counted = new Proxy(client, {
  get(target, name, receiver) {
    const value = Reflect.get(target, name, receiver);
    if (typeof value === 'function' && COMMANDS.has(String(name))) {
      return (...args: unknown[]) => {
        commands++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    }
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

const sessions = createSessionManager({ redis: counted, keyPrefix: uniquePrefix() });
const app = express();
app.use(cookieParser(TEST_SECRET));
app.use(sessions.middleware());
app.get('/public', (req, res) => res.json({ signedIn: req.session !== null, code: req.sessionErrorCode }));
app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => res.status(599).json({ thrown: err.message }));

/** What HTTP lets a header hold: no control characters but tab. */
const headerSafe = (text: string) => [...text].filter((c) => c === '\t' || (c >= ' ' && c !== '\x7f')).join('');

/** Cookie header values: arbitrary strings, raw bytes, and ess_sid= with malformed (signed or unsigned) values. */
const header = fc.oneof(
  fc.string({ maxLength: 200 }).map(headerSafe),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => headerSafe(Buffer.from(bytes).toString('latin1'))),
  fc.string({ maxLength: 120 }).map((v) => `ess_sid=${encodeURIComponent(v)}`),
  fc.string({ maxLength: 120 }).map((v) => `ess_sid=${signCookieValue(v)}`),
  fc.tuple(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ maxLength: 60 })).map(([tag, token]) => `a=1; ess_sid=${signCookieValue(`${tag}.${token}`)}; b=2`),
);

test('any Cookie header: never a throw, SESSION_MISSING or SESSION_INVALID, and no Redis command', async () => {
  await fc.assert(
    fc.asyncProperty(header, async (cookie) => {
      commands = 0;
      const res = await request(app).get('/public').set('Cookie', headerSafe(cookie));
      expect(res.status).toBe(200);
      expect(res.body.signedIn).toBe(false);
      expect(['SESSION_MISSING', 'SESSION_INVALID']).toContain(res.body.code);
      expect(commands).toBe(0);
    }),
    { numRuns: 300, seed: 14 },
  );
});

test('the counting proxy does see commands: a well-formed cookie costs the plain read (one pipeline, one round trip)', async () => {
  const cookie = `ess_sid=${signCookieValue(`${'A'.repeat(16)}.${'B'.repeat(43)}`)}`;
  await request(app).get('/public').set('Cookie', cookie); // loads the script (NOSCRIPT, then EVAL) if needed
  commands = 0;
  const res = await request(app).get('/public').set('Cookie', cookie);
  expect(res.body.code).toMatch(/SESSION_(EXPIRED|DISPLACED)/);
  // With touchAfter above 0 (the default) a request reads with two plain commands in one ioredis pipeline() call.
  expect(commands).toBe(1);
});
