/**
 * What the benchmark reads from Redis itself: the commands clients send (through MONITOR, which
 * shows a script's inner calls with source "lua", so a script counts as one) and used memory.
 */
'use strict';
const Redis = require('ioredis');

/**
 * Runs `action` while MONITOR watches and returns the number of commands clients sent to
 * database `db` meanwhile (script-internal calls excluded). A marker command ends the count,
 * so nothing is waited for by sleeping.
 */
async function countCommands(port, db, action) {
  const monitor = await new Redis({ host: '127.0.0.1', port, lazyConnect: true }).monitor();
  const marker = `bench-marker-${process.pid}-${Date.now()}`;
  let count = 0;
  const seenMarker = new Promise((resolve) => {
    monitor.on('monitor', (_time, args, source, database) => {
      if (String(args[0]).toLowerCase() === 'echo' && args[1] === marker) return resolve();
      if (source !== 'lua' && Number(database) === db) count++;
    });
  });
  const control = new Redis({ host: '127.0.0.1', port, db: 15 });
  try {
    await action();
    await control.echo(marker);
    await seenMarker;
    return count;
  } finally {
    monitor.disconnect();
    control.disconnect();
  }
}

/** Bytes Redis has allocated (INFO memory `used_memory`). */
async function usedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

/** CPU time (user + system, µs) the Redis server has used so far (INFO cpu). */
async function redisCpuMicros(redis) {
  const info = await redis.info('cpu');
  const seconds = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)[1]);
  return Math.round((seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6);
}

module.exports = { countCommands, redisCpuMicros, usedMemory };
