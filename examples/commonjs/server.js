// @ts-check
/**
 * The smallest app: CommonJS, plain JavaScript (type-checked through JSDoc). Sign in with any
 * username and the password "demo" (a stand-in for your own password check).
 * Run: SESSION_SECRET=... node examples/commonjs/server.js
 */
'use strict';
const express = require('express');
const cookieParser = require('cookie-parser');
const { Redis } = require('ioredis');
const { createSessionManager } = require('express-single-session');

const secret = process.env.SESSION_SECRET;
if (!secret || secret.length < 32) throw new Error('Set SESSION_SECRET to at least 32 random characters.');

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redis.on('error', (err) => console.error('redis:', err.message));
const sessions = createSessionManager({ redis });

const app = express();
app.use(cookieParser(secret));
app.use(express.json());
app.use(sessions.middleware());

app.post('/login', async (req, res) => {
  const { username, password } = req.body ?? {};
  if (typeof username !== 'string' || password !== 'demo') {
    res.status(401).json({ error: { code: 'BAD_CREDENTIALS', message: 'Wrong username or password.' } });
    return;
  }
  const session = await sessions.login(req, res, username);
  res.json({ userId: session.userId });
});
app.get('/me', sessions.requireSession(), (req, res) => {
  res.json({ userId: sessions.sessionOf(req).userId });
});
app.post('/logout', async (req, res) => {
  await sessions.logout(req, res);
  res.status(204).end();
});
app.use(sessions.errorHandler());

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : ''}`);
});
