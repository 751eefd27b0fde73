/**
 * App E, this package with `localCache: true`: repeat requests of a session are answered from the
 * process's LRU, kept exact by Redis client tracking; everything else as app D.
 */
'use strict';
const singleSession = require('./single-session');

exports.label = 'express-single-session, localCache';
exports.keepsSessions = true;
exports.createApp = (where) => singleSession.createApp(where, { localCache: true });
exports.seed = singleSession.seed;
