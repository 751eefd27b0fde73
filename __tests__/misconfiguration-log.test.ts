/**
 * A wiring mistake is said in the log by default, once, not once per request: an app that answers 500
 * MISCONFIGURED to everyone learns why without a handler of its own.
 */
import cookieParser from 'cookie-parser';
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import { createSessionManager } from '../lib';
import { TARGETS, uniquePrefix } from './helpers/targets';

const redis = TARGETS[0].ioredis();
afterAll(() => redis.quit());

/** The warnings with code ESS_MISCONFIGURED that process.emitWarning was given while `run` ran. */
async function warningsDuring(run: () => Promise<void>): Promise<string[]> {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    await run();
    return spy.mock.calls
      .filter((call) => (call[1] as { code?: string } | undefined)?.code === 'ESS_MISCONFIGURED')
      .map((call) => String(call[0]));
  } finally {
    spy.mockRestore();
  }
}

test.each<[string, RequestHandler | null, RegExp]>([
  ['without cookie-parser', null, /cookie-parser is not mounted/],
  ['with cookie-parser but no secret', cookieParser(), /cookie-parser is mounted without a secret/],
])('%s: 500 MISCONFIGURED to every request, and the cause logged exactly once', async (_name, parser, cause) => {
  const sessions = createSessionManager({ redis, keyPrefix: uniquePrefix() });
  const app = express();
  if (parser) app.use(parser);
  app.use(sessions.middleware());
  app.get('/me', sessions.requireSession(), (_req, res) => res.end());
  app.post('/login', (req, res, next) => {
    sessions.login(req, res, 'u').then(() => res.end(), next);
  });
  app.use(sessions.errorHandler());

  const warnings = await warningsDuring(async () => {
    for (let i = 0; i < 3; i++) {
      const res = await request(app).get('/me').set('Cookie', 'ess_sid=s%3Aanything');
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('MISCONFIGURED');
    }
    expect((await request(app).post('/login')).status).toBe(500);
  });
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/^express-single-session: /);
  expect(warnings[0]).toMatch(cause);
  expect(warnings[0]).toMatch(/app\.use\(cookieParser\(secret\)\)/);
});
