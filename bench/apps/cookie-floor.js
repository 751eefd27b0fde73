/**
 * App F, the floor every signed-cookie session layer pays: cookie-parser with a secret and nothing else.
 * `POST /login` sets a signed cookie naming the user; `GET /me` answers 200 with it and 401 without.
 * No Redis: this is the ceiling a session package can reach once Redis is out of the request path.
 */
'use strict';
const cookieParser = require('cookie-parser');
const express = require('express');
const { SECRET } = require('./rules');

exports.label = 'cookie-parser floor (no session store)';
exports.keepsSessions = true; // signs in (a signed cookie) so the protected route answers 200
exports.storesNothing = true; // ... but keeps nothing in Redis

/** Builds the app; `redisPort` is unused. */
exports.createApp = async function createApp() {
  const app = express();
  app.use(cookieParser(SECRET));
  app.post('/login', (req, res) => {
    res.cookie('floor', String(req.query.user), { signed: true, httpOnly: true, sameSite: 'lax' });
    res.json({ userId: req.query.user });
  });
  app.get('/me', (req, res) => {
    const userId = req.signedCookies.floor;
    if (!userId) return res.status(401).json({ error: { code: 'SESSION_MISSING' } });
    res.json({ userId });
  });
  return { app, close: async () => undefined };
};
