/**
 * A single-page app: static files from public/ and a JSON API under /api. The page (public/app.js)
 * signs in with fetch and handles each 401 code: SESSION_MISSING shows the sign-in form,
 * SESSION_EXPIRED and SESSION_DISPLACED say why the user was signed out, 503 retries later.
 * Run: SESSION_SECRET=... node --import tsx examples/spa/server.ts
 */
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import cookieParser from 'cookie-parser';
import express from 'express';
import { Redis } from 'ioredis';
import { createSessionManager } from 'express-single-session';

const secret = process.env.SESSION_SECRET;
if (!secret || secret.length < 32) throw new Error('Set SESSION_SECRET to at least 32 random characters.');

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redis.on('error', (err) => console.error('redis:', err.message));
const sessions = createSessionManager({ redis });

const app = express();
app.use(express.static(fileURLToPath(new URL('./public', import.meta.url))));
app.use(cookieParser(secret));
app.use(sessions.middleware());

const api = express.Router();
// JSON bodies only: a cross-site HTML form cannot send application/json, which (with SameSite=Lax) guards against CSRF.
api.use(express.json({ type: 'application/json' }));
api.post('/login', async (req, res) => {
  const { username, password } = (req.body ?? {}) as { username?: unknown; password?: unknown };
  if (!req.is('application/json') || typeof username !== 'string' || password !== 'demo') { // your password check goes here
    res.status(401).json({ error: { code: 'BAD_CREDENTIALS', message: 'Wrong username or password.' } });
    return;
  }
  const session = await sessions.login(req, res, username);
  res.json({ userId: session.userId, expiresAt: session.expiresAt });
});
api.get('/me', sessions.requireSession(), (req, res) => {
  const session = sessions.sessionOf(req);
  res.json({ userId: session.userId, expiresAt: session.expiresAt });
});
api.post('/logout', async (req, res) => {
  await sessions.logout(req, res);
  res.status(204).end();
});
app.use('/api', api);
app.use(sessions.errorHandler());

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
