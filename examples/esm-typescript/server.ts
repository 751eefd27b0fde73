/**
 * An ES module in strict TypeScript: typed session data (declaration merging), a typed session in
 * protected handlers (sessions.sessionOf), and one change saved automatically.
 * Run: SESSION_SECRET=... node --import tsx examples/esm-typescript/server.ts
 */
import type { AddressInfo } from 'node:net';
import cookieParser from 'cookie-parser';
import express from 'express';
import { Redis } from 'ioredis';
import { createSessionManager } from 'express-single-session';

declare module 'express-single-session' {
  interface SessionData {
    visits: number;
  }
}

const secret = process.env.SESSION_SECRET;
if (!secret || secret.length < 32) throw new Error('Set SESSION_SECRET to at least 32 random characters.');

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redis.on('error', (err) => console.error('redis:', err.message));
const sessions = createSessionManager({ redis, idleTimeout: 1800, absoluteTimeout: 28800 });

const app = express();
app.use(cookieParser(secret));
app.use(express.json());
app.use(sessions.middleware());

app.post('/login', async (req, res) => {
  const { username, password } = (req.body ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || password !== 'demo') { // your password check goes here
    res.status(401).json({ error: { code: 'BAD_CREDENTIALS', message: 'Wrong username or password.' } });
    return;
  }
  const session = await sessions.login(req, res, username, { visits: 0 });
  res.json(session);
});
app.get('/me', sessions.requireSession(), (req, res) => {
  const session = sessions.sessionOf(req);
  session.visits = (session.visits ?? 0) + 1; // saved before the response ends
  res.json({ userId: session.userId, visits: session.visits, expiresAt: session.expiresAt });
});
app.post('/logout', async (req, res) => {
  await sessions.logout(req, res);
  res.status(204).end();
});
app.use(sessions.errorHandler());

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
