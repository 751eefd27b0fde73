/**
 * App S, what any session middleware on Express does before any session work: app F (cookie-parser
 * floor) plus one middleware that puts a session object and a reason on the request and wraps
 * `res.end` (to save at the end of the response), and a route guard before the handler. No Redis,
 * no token, no session: the cost of the Express contract alone (`npm run bench:express`).
 */
'use strict';
const cookieParser = require('cookie-parser');
const express = require('express');
const { SECRET } = require('./rules');

exports.label = 'skeleton: F + an empty session layer, guard and res.end hook';
exports.keepsSessions = true;
exports.storesNothing = true;

exports.createApp = async function createApp() {
  const app = express();
  app.use(cookieParser(SECRET));
  app.use((req, res, next) => {
    const userId = req.signedCookies.floor;
    req.session = userId ? { userId } : null;
    req.sessionErrorCode = userId ? null : 'SESSION_MISSING';
    const end = res.end;
    res.end = function endAfterSave(...args) {
      res.end = end;
      return end.apply(this, args);
    };
    next();
  });
  const guard = (req, res, next) => (req.session ? next() : res.status(401).json({ error: { code: req.sessionErrorCode } }));
  app.post('/login', (req, res) => {
    res.cookie('floor', String(req.query.user), { signed: true, httpOnly: true, sameSite: 'lax' });
    res.json({ userId: req.query.user });
  });
  app.get('/me', guard, (req, res) => res.json({ userId: req.session.userId }));
  return { app, close: async () => undefined };
};
