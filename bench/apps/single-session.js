/**
 * App D-ioredis, this package with its defaults on an ioredis client, through its public API as
 * built by `npm run build` (the package's `main`, dist/index.js), or from lib/ through tsx with
 * `--from-source` (the quick test uses that so it never rebuilds dist/ under other tests). The
 * ioredis client is built as the README's quick start builds it: a URL, no options. `withClient()` builds
 * the same app on another client (single-session-node-redis.js).
 */
'use strict';
const cookieParser = require('cookie-parser');
const express = require('express');
const Redis = require('ioredis');
const { createSessionManager } = process.env.ESS_BENCH_FROM_SOURCE ? (require('tsx/cjs'), require('../../lib')) : require('../..');
const { SECRET } = require('./rules');

exports.label = 'express-single-session';
exports.keepsSessions = true;

/** The app's ioredis client on Redis database `db`, and how to close it. */
function connectIoredis({ redisPort, db }) {
  const redis = new Redis(`redis://127.0.0.1:${redisPort}/${db}`);
  return { redis, close: () => redis.quit() };
}

/** The key prefix of the app on database `db`: `es<db>:`, as long as the default `ess:` for db < 10. */
function keyPrefixFor(db) {
  return db < 10 ? `es${db}:` : `e${db}:`;
}

/** App D on the client `connect` makes: `createApp(where)` builds it on Redis database `where.db`. */
exports.withClient = (connect) => async function createApp(where, options = {}) {
  const { redis, close } = await connect(where);
  // A key prefix of its own (as long as the default 'ess:', so memory per user is the defaults'): Redis
  // tracks keys by name across databases, so apps sharing key names would invalidate each other's local cache.
  const sessions = createSessionManager({ redis, keyPrefix: keyPrefixFor(where.db), ...options });
  const app = express();
  app.use(cookieParser(SECRET));
  app.use(sessions.middleware());
  app.post('/login', async (req, res, next) => {
    try {
      const session = await sessions.login(req, res, String(req.query.user));
      res.json({ userId: session.userId });
    } catch (err) {
      next(err);
    }
  });
  app.get('/me', sessions.requireSession(), (req, res) => res.json({ userId: req.session.userId }));
  return { app, close };
};

exports.createApp = exports.withClient(connectIoredis);

/**
 * Signs `count` users in without HTTP, through `sessions.login()` with a minimal request and
 * response, `batch` at a time.
 */
exports.seed = async function seed(where, count, { batch = 2000, prefix = 'seed-' } = {}) {
  const { redis, close } = connectIoredis(where);
  const sessions = createSessionManager({ redis, keyPrefix: keyPrefixFor(where.db) });
  // What login() reads of an Express request: the cookies, and the client it records (no User-Agent, as autocannon sends).
  // A fresh request and response per sign-in (each a new browser): login() attaches its session to the request,
  // and a later login() on the same request would end that session first.
  const req = () => ({ secret: SECRET, secure: false, signedCookies: {}, cookies: {}, ip: '127.0.0.1', get: () => undefined });
  const res = () => ({ headersSent: false, cookie() {}, end() {} });
  for (let start = 0; start < count; start += batch) {
    const logins = [];
    for (let i = start; i < Math.min(count, start + batch); i++) logins.push(sessions.login(req(), res(), `${prefix}${i}`));
    await Promise.all(logins);
  }
  await close();
};
