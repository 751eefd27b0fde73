/**
 * App B, what most users would pick: express-session with connect-redis 9 on the node-redis
 * client (connect-redis 9+ does not take ioredis), `rolling: true`, `resave: false`,
 * `saveUninitialized: false`. It has no absolute timeout and no one-session-per-user rule.
 */
'use strict';
const express = require('express');
const session = require('express-session');
const { RedisStore } = require('connect-redis');
const { createClient } = require('redis');
const { SECRET, IDLE_MS } = require('./rules');

exports.label = 'express-session + connect-redis';
exports.keepsSessions = true;

/** Builds the app on Redis database `db`. */
exports.createApp = async function createApp({ redisPort, db }) {
  const client = createClient({ socket: { host: '127.0.0.1', port: redisPort }, database: db });
  client.on('error', (err) => console.error('express-session app: redis error', err.message));
  await client.connect();
  const app = express();
  app.use(
    session({
      store: new RedisStore({ client, prefix: 'sess:' }),
      secret: SECRET,
      name: 'sid',
      rolling: true,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: IDLE_MS, httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.post('/login', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = String(req.query.user);
      res.json({ userId: req.session.userId });
    });
  });
  app.get('/me', (req, res) => {
    if (!req.session.userId) return res.status(401).json({ error: { code: 'SESSION_MISSING' } });
    res.json({ userId: req.session.userId });
  });
  return { app, close: () => client.quit() };
};
