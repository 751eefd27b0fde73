/**
 * Passport on express-single-session, without express-session: `sessions.passport()` gives Passport the
 * `req.session` it needs, so `req.login()` signs in through the package (one session per user, a new
 * cookie), `passport.session()` deserializes `req.user`, and `req.logout()` ends the session in Redis.
 * Sign in as alice / wonderland. Run: SESSION_SECRET=... node --import tsx examples/passport/server.ts
 */
import type { AddressInfo } from 'node:net';
import cookieParser from 'cookie-parser';
import express from 'express';
import { Redis } from 'ioredis';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { createSessionManager } from 'express-single-session';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User { id: string; name: string }
  }
}

/** A stand-in user table; keep password hashes (argon2, bcrypt), never passwords, in yours. */
const USERS = new Map([['alice', { id: 'user-1', name: 'alice', password: 'wonderland' }]]);

passport.use(new LocalStrategy((username, password, done) => {
  const user = USERS.get(username);
  if (!user || user.password !== password) return done(null, false);
  return done(null, { id: user.id, name: user.name });
}));
// The serialized user is the package's user id.
passport.serializeUser((user, done) => done(null, user.id));
passport.deserializeUser((id: string, done) => {
  const user = [...USERS.values()].find((candidate) => candidate.id === id);
  done(null, user ? { id: user.id, name: user.name } : false);
});

const secret = process.env.SESSION_SECRET;
if (!secret || secret.length < 32) throw new Error('Set SESSION_SECRET to at least 32 random characters.');

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redis.on('error', (err) => console.error('redis:', err.message));
const sessions = createSessionManager({ redis });

const app = express();
app.use(cookieParser(secret));
app.use(express.json());
app.use(sessions.middleware(), sessions.passport(), passport.session());

app.post('/login', (req, res, next) => {
  passport.authenticate('local', (err: unknown, user: Express.User | false) => {
    if (err) return next(err);
    if (!user) return res.status(401).json({ error: { code: 'BAD_CREDENTIALS', message: 'Wrong username or password.' } });
    // A 409 SESSION_LIMIT_REACHED (onLimit 'reject-new') or a 503 reaches errorHandler() through next.
    return req.login(user, (loginErr) => (loginErr ? next(loginErr) : res.json({ userId: user.id })));
  })(req, res, next);
});
app.get('/me', sessions.requireSession(), (req, res) => {
  res.json({ userId: sessions.sessionOf(req).userId, name: req.user?.name });
});
app.post('/logout', (req, res, next) => {
  req.logout((err) => (err ? next(err) : res.status(204).end()));
});
app.use(sessions.errorHandler());

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
