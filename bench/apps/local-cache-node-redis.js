/**
 * App E-node-redis: app E (`localCache: true`) on a node-redis v5 client from `createClient()`, as app
 * D-node-redis is app D on node-redis.
 */
'use strict';
const nodeRedis = require('./single-session-node-redis');

exports.label = 'express-single-session, localCache';
exports.keepsSessions = true;
exports.createApp = (where) => nodeRedis.createApp(where, { localCache: true });
