/**
 * `node bench/cache-memory.js`: the local cache's memory per entry, measured by heap size (after GC)
 * before and after filling a `SessionCache` with 100,000 typical sessions (user id, session id, times,
 * two small data fields). Run with `node --expose-gc`.
 */
'use strict';
require('tsx/cjs');
const { randomUUID } = require('node:crypto');
const { SessionCache } = require('../lib/cache');

const COUNT = 100_000;
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc bench/cache-memory.js');
global.gc();
const before = process.memoryUsage().heapUsed;
const cache = new SessionCache(COUNT);
for (let i = 0; i < COUNT; i++) {
  const now = Date.now();
  cache.set(`tag${String(i).padStart(13, '0')}`, `hash${String(i).padStart(18, '0')}`, {
    userId: `user-${i}`, sessionId: randomUUID(), createdAt: now, lastActiveAt: now, observedAt: now, authenticatedAt: now,
    absoluteDeadline: now + 28_800_000, data: new Map([['theme', '"dark"'], ['cart', '["a","b"]']]),
  }, cache.epoch);
}
global.gc();
const after = process.memoryUsage().heapUsed;
console.log(`local cache: ${cache.size} entries, ${((after - before) / cache.size).toFixed(0)} bytes of heap per entry (two small data fields)`);
