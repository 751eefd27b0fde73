/**
 * Runs one benchmarked app in its own process: `node bench/serve.js <app> <redisPort> <db>`.
 * Listens on a free loopback port and reports it to the parent over IPC; exits when the parent
 * disconnects or sends SIGTERM. Answers the message 'cpu' with its CPU time so far.
 */
'use strict';
const path = require('node:path');

async function main() {
  const [name, redisPort, db] = process.argv.slice(2);
  const { createApp } = require(path.join(__dirname, 'apps', `${name}.js`));
  const { app, close } = await createApp({ redisPort: Number(redisPort), db: Number(db) });
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (message) => {
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => close().finally(() => process.exit(0)));
  };
  process.once('disconnect', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
