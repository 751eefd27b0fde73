/**
 * The app a user would write with express-session, passport and passport-local, whose only change is the
 * store: `createSessionStore()` in place of MemoryStore (or connect-redis). Shared by the adoption suites.
 */
import { createRequire } from 'node:module';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import request from 'supertest';
import { createSessionStore, type ExpressSessionStore, type SessionStoreOptions } from '../../lib/express-session';
import type { AppRedis } from '../helpers/targets';

// Loaded without its types: @types/express-session declares req.session its own way (see the package tests).
const expressSession = createRequire(__filename)('express-session') as (options: object) => RequestHandler;

export const SECRET = 'adoption-test-secret-0123456789-abcdef';
/** The password every test user has. */
export const PASSWORD = 'pw';

/** express-session's req.session, as the routes use it. */
type Session = Record<string, unknown> & { save(cb: (err?: unknown) => void): void };
const sessionOf = (req: express.Request): Session => (req as unknown as { session: Session }).session;

/** Hooks a test can hold a route on: `/slow` waits for `release()` after telling `reached()`. */
export interface Gate {
  reached(): void;
  wait(): Promise<void>;
}

/** The app and its store. */
export interface StoreApp {
  app: Express;
  store: ExpressSessionStore;
}

/** Builds the app on `redis` with store options `options`; `gate` holds `/slow`. */
export function buildStoreApp(redis: AppRedis, options: Omit<SessionStoreOptions, 'redis'>, gate?: Gate): StoreApp {
  const store = createSessionStore({ redis, ...options });
  const passport = new Passport();
  passport.use(new LocalStrategy((username, password, done) => done(null, password === PASSWORD ? { id: username } : false)));
  passport.serializeUser((user, done) => done(null, (user as { id: string }).id));
  passport.deserializeUser((id: string, done) => done(null, { id }));

  const app = express();
  app.use(express.json());
  app.use(expressSession({ store, secret: SECRET, resave: false, saveUninitialized: false }));
  app.use(store.endedReason());
  app.use(passport.session());
  app.post('/login', passport.authenticate('local'), (req, res) => {
    res.json({ user: (req.user as { id: string }).id });
  });
  app.get('/me', (req, res) => {
    const ended = (req as unknown as { sessionEndedCode: unknown }).sessionEndedCode;
    res.json({ user: (req.user as { id: string } | undefined)?.id ?? null, ended, note: sessionOf(req).note ?? null });
  });
  app.post('/note', (req, res) => {
    sessionOf(req).note = req.body.note;
    res.json({ note: req.body.note });
  });
  app.post('/slow', async (req, res) => {
    gate?.reached();
    await gate?.wait();
    sessionOf(req).note = 'written late';
    res.json({ done: true });
  });
  app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.status(204).end())));
  const errors: ErrorRequestHandler = (err, _req, res, _next) => {
    res.status(Number(err?.status) || 500).json({ code: err?.code ?? null });
  };
  app.use(errors);
  return { app, store };
}

/** The `connect.sid=...` cookie pair of a response. */
export function cookieOf(res: request.Response): string {
  const all = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const line = all.find((c) => c.startsWith('connect.sid='));
  if (!line) throw new Error(`no connect.sid cookie in ${JSON.stringify(res.headers['set-cookie'])}`);
  return line.split(';')[0]!;
}

/** The express-session id inside a signed cookie pair. */
export function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  return value.slice(2, value.lastIndexOf('.'));
}

/** Signs `username` in through passport-local; the session cookie. */
export async function logIn(app: Express, username: string): Promise<string> {
  const res = await request(app).post('/login').send({ username, password: PASSWORD });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return cookieOf(res);
}

/** What `/me` answers for `cookie`. */
export async function me(app: Express, cookie: string): Promise<{ user: string | null; ended: string | null; note: string | null }> {
  return (await request(app).get('/me').set('Cookie', cookie).expect(200)).body;
}

/** The store's callback method as a promise. */
export function call<T>(method: (callback: (err?: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => method((err, value) => (err ? reject(err) : resolve(value as T))));
}
