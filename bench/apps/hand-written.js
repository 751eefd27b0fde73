/**
 * App C, the same rules written by hand: ioredis + cookie-parser + crypto.randomUUID. The session is
 * a JSON string under `hw:s:<sessionId>`, the user index `hw:u:<userId>` names the user's one
 * live session, and each request reads and refreshes them with separate commands
 * (GET session, GET index, then both PEXPIREs, which auto-pipelining sends together).
 */
'use strict';
const { randomUUID } = require('node:crypto');
const cookieParser = require('cookie-parser');
const express = require('express');
const Redis = require('ioredis');
const { SECRET, IDLE_MS, ABSOLUTE_MS, INDEX_TTL_MS } = require('./rules');

exports.label = 'hand-written (ioredis, separate commands)';
exports.keepsSessions = true;

const COOKIE = 'hw_sid';
const sessionKey = (sessionId) => `hw:s:${sessionId}`;
const indexKey = (userId) => `hw:u:${userId}`;

/** Builds the app on Redis database `db`. */
exports.createApp = async function createApp({ redisPort, db }) {
  const redis = new Redis({ host: '127.0.0.1', port: redisPort, db, enableAutoPipelining: true });

  async function resolveSession(req) {
    const sessionId = req.signedCookies[COOKIE];
    if (typeof sessionId !== 'string') return null;
    const json = await redis.get(sessionKey(sessionId));
    if (json === null) return null;
    const session = JSON.parse(json);
    if ((await redis.get(indexKey(session.userId))) !== sessionId) return null; // displaced by a newer login
    const left = session.createdAt + ABSOLUTE_MS - Date.now();
    if (left <= 0) {
      await redis.del(sessionKey(sessionId));
      return null;
    }
    await Promise.all([
      redis.pexpire(sessionKey(sessionId), Math.min(IDLE_MS, left)),
      redis.pexpire(indexKey(session.userId), INDEX_TTL_MS),
    ]);
    return session;
  }

  const app = express();
  app.use(cookieParser(SECRET));
  app.post('/login', async (req, res, next) => {
    try {
      const userId = String(req.query.user);
      const sessionId = randomUUID();
      const createdAt = Date.now();
      const previous = await redis.set(indexKey(userId), sessionId, 'PX', INDEX_TTL_MS, 'GET');
      await Promise.all([
        redis.set(sessionKey(sessionId), JSON.stringify({ userId, createdAt }), 'PX', IDLE_MS),
        previous ? redis.del(sessionKey(previous)) : null,
      ]);
      res.cookie(COOKIE, sessionId, { signed: true, httpOnly: true, sameSite: 'lax', expires: new Date(createdAt + ABSOLUTE_MS) });
      res.json({ userId });
    } catch (err) {
      next(err);
    }
  });
  app.get('/me', async (req, res, next) => {
    try {
      const session = await resolveSession(req);
      if (!session) return res.status(401).json({ error: { code: 'SESSION_MISSING' } });
      res.json({ userId: session.userId });
    } catch (err) {
      next(err);
    }
  });
  return { app, close: () => redis.quit() };
};
