/**
 * App D-node-redis: app D (single-session.js) on a node-redis v5 client from `createClient()`,
 * connected before serving. node-redis pipelines the commands of one tick by itself.
 */
'use strict';
const { createClient } = require('redis');
const { withClient } = require('./single-session');

exports.label = 'express-single-session';
exports.keepsSessions = true;

exports.createApp = withClient(async ({ redisPort, db }) => {
  const redis = createClient({ url: `redis://127.0.0.1:${redisPort}/${db}` });
  redis.on('error', (err) => console.error(err.message));
  await redis.connect();
  return { redis, close: () => redis.close() };
});
