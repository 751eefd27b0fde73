/**
 * The load generator, in its own process so it does not share an event loop with the app it
 * measures. The parent sends one autocannon configuration over IPC and gets back a summary:
 * requests/s, p50 and p99 latency (ms), and the count of non-2xx answers and errors.
 */
'use strict';
const autocannon = require('autocannon');

/** Turns the plain-data options into autocannon's: `loginAs` becomes a fresh user per request. */
function toAutocannon({ loginAs, ...options }) {
  if (loginAs === undefined) return options;
  let next = 0;
  const setupRequest = (request) => ({ ...request, path: `/login?user=${loginAs}${next++}` });
  return { ...options, requests: [{ method: 'POST', setupRequest }] };
}

process.once('message', (options) => {
  autocannon(toAutocannon(options), (err, result) => {
    if (err) {
      process.send({ error: String(err.stack || err) });
    } else {
      process.send({
        requests: result.requests.total,
        seconds: result.duration,
        rps: result.requests.total / result.duration,
        p50: result.latency.p50,
        p99: result.latency.p99,
        mean: result.latency.average,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      });
    }
    process.disconnect();
  });
});
