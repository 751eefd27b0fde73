/**
 * App A, the ceiling: bare Express, no session and no cookie parsing. `GET /me` answers a fixed
 * user id as JSON, so this measures what Express itself costs per request.
 */
'use strict';
const express = require('express');

/** Label in the results table. */
exports.label = 'bare Express (no session)';
exports.keepsSessions = false;

/** Builds the app; `redisPort` is unused. */
exports.createApp = async function createApp() {
  const app = express();
  app.get('/me', (req, res) => res.json({ userId: 'user-1' }));
  app.post('/login', (req, res) => res.json({ userId: req.query.user }));
  return { app, close: async () => undefined };
};
