/**
 * Child processes of the benchmark: each app runs in its own Node process (serve.js) and each
 * load run in another (load.js), so the load generator never shares an event loop with the app.
 */
'use strict';
const { fork } = require('node:child_process');
const path = require('node:path');

/** Starts app `name` (a file in bench/apps) on Redis `redisPort`, database `db`. */
function startApp(name, redisPort, db) {
  const child = fork(path.join(__dirname, 'serve.js'), [name, String(redisPort), String(db)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench app ${name} exited early with code ${code}`)));
    child.once('message', ({ port }) => {
      child.removeAllListeners('exit');
      resolve({
        name,
        /** CPU time (user + system, µs) the app process has used so far. */
        cpuMicros: () => new Promise((done) => {
          child.once('message', ({ cpu }) => done(cpu.user + cpu.system));
          child.send('cpu');
        }),
        url: `http://127.0.0.1:${port}`,
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
        }),
      });
    });
  });
}

/**
 * Runs autocannon in a fresh process with `options` (plain data: url, connections, duration or
 * amount, requests, and `loginAs: prefix` to sign in a new user `<prefix><n>` on every request).
 */
function runLoad(options) {
  const child = fork(path.join(__dirname, 'load.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let answered = false;
    child.once('error', reject);
    child.once('message', (summary) => {
      answered = true;
      if (summary.error) reject(new Error(`load generator failed: ${summary.error}`));
      else resolve(summary);
    });
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`load generator exited with code ${code} without a result`));
    });
    child.send(options);
  });
}

module.exports = { startApp, runLoad };
