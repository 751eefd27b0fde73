/**
 * `npm run bench:memory [-- --users N]`: Redis memory per signed-in user, on a private Redis, for the
 * layouts docs/benchmarks.md's Sizing section quotes: express-session + connect-redis as bench/apps/express-session.js
 * stores a signed-in user (its RedisStore, the session JSON express-session writes after regenerate), and this package (from lib/, through tsx) with maxSessions 1 and 5 (5 sessions each), with and
 * without client details. Two measures: `used_memory` growth per user (what a deployment pays, the
 * bench's measure; steps of table resizes average out over many users) and MEMORY USAGE (exact,
 * SAMPLES 0) of the user's keys, over every user. User ids as the bench's (`user-0-<n>`).
 */
'use strict';
require('tsx/cjs'); // the shared TypeScript redis-server starter and lib/ from source
const { randomBytes } = require('node:crypto');
const Redis = require('ioredis');
const { startRedis } = require('../__tests__/helpers/redis-servers.ts');
const { createSessionManager } = require('../lib');
const { usedMemory } = require('./redis-probe');

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IP = '::ffff:127.0.0.1';
const users = Number(process.argv[process.argv.indexOf('--users') + 1]) || 20_000;
if (process.argv.includes('--users') && !(users > 0)) throw new Error('usage: node bench/redis-memory.js [--users N]');

/** Signs every user in `perUser` times through `sessions.login()` with a minimal request and response. */
async function signIn(redis, options, perUser, userAgent) {
  // A long store timeout: this measures memory, and a loaded machine must not fail a sign-in.
  const sessions = createSessionManager({ redis, keyPrefix: 'ess:', storeTimeoutMs: 30_000, ...options });
  // A fresh request and response per sign-in, each a new browser: login() ends the session a request already holds.
  const req = () => ({ secret: 's', secure: false, signedCookies: {}, cookies: {}, ip: IP, get: (name) => (name === 'user-agent' ? userAgent : undefined) });
  const res = () => ({ headersSent: false, cookie() {}, end() {} });
  for (let start = 0; start < users; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(users, start + 500); i++) {
      batch.push((async () => {
        for (let s = 0; s < perUser; s++) await sessions.login(req(), res(), `user-0-${i}`);
      })());
    }
    await Promise.all(batch);
  }
}

/** express-session + connect-redis: what bench app B's sign-in stores (regenerate, userId, saved as JSON). */
async function expressSession(port) {
  const { createClient } = require('redis');
  const { Cookie } = require('express-session');
  const { RedisStore } = require('connect-redis');
  const { IDLE_MS } = require('./apps/rules');
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  const store = new RedisStore({ client, prefix: 'sess:' });
  const set = (sid, session) => new Promise((resolve, reject) => store.set(sid, session, (err) => (err ? reject(err) : resolve())));
  try {
    for (let start = 0; start < users; start += 500) {
      const batch = [];
      for (let i = start; i < Math.min(users, start + 500); i++) {
        const cookie = new Cookie({ maxAge: IDLE_MS, httpOnly: true, sameSite: 'lax' });
        // express-session's ids: uid-safe, 24 random bytes as 32 base64url characters.
        batch.push(set(randomBytes(24).toString('base64url'), JSON.parse(JSON.stringify({ cookie, userId: `user-0-${i}` }))));
      }
      await Promise.all(batch);
    }
  } finally {
    await client.quit();
  }
}

/** MEMORY USAGE of every key, summed. */
async function memoryUsage(redis) {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    for (const [, bytes] of await pipeline.exec()) total += Number(bytes);
  } while (cursor !== '0');
  return total;
}

const CASES = [
  ['express-session + connect-redis (bench app B)', (redis, port) => expressSession(port)],
  ['maxSessions 1, recordClient false', (redis) => signIn(redis, { recordClient: false }, 1)],
  ['maxSessions 1, IP only (no User-Agent, as the bench)', (redis) => signIn(redis, {}, 1)],
  ['maxSessions 1, Chrome User-Agent (111 chars) and IP', (redis) => signIn(redis, {}, 1, CHROME)],
  ['maxSessions 5, 5 sessions, recordClient false', (redis) => signIn(redis, { maxSessions: 5, recordClient: false }, 5)],
  ['maxSessions 5, 5 sessions, Chrome User-Agent and IP', (redis) => signIn(redis, { maxSessions: 5 }, 5, CHROME)],
];

async function main() {
  const server = await startRedis();
  const redis = new Redis(`redis://127.0.0.1:${server.port}`);
  try {
    console.log(`Redis bytes per user, ${users.toLocaleString('en-US')} users (redis-server ${(await redis.info('server')).match(/redis_version:(\S+)/)[1]}):`);
    console.log('| Layout | used_memory growth | MEMORY USAGE |\n| --- | ---: | ---: |');
    for (const [name, fill] of CASES) {
      await redis.flushall();
      const before = await usedMemory(redis);
      await fill(redis, server.port);
      const growth = ((await usedMemory(redis)) - before) / users;
      const usage = (await memoryUsage(redis)) / users;
      console.log(`| ${name} | ${growth.toFixed(0)} B | ${usage.toFixed(0)} B |`);
    }
  } finally {
    redis.disconnect();
    await server.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
