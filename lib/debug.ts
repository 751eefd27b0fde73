/**
 * Debug logging through `node:util` `debuglog`, switched on with `NODE_DEBUG=express-single-session`:
 * what each request's session resolved to, and how long the store took. It is given only codes,
 * public session ids and timings, never a cookie value or a token.
 */
import { performance } from 'node:perf_hooks';
import { debuglog } from 'node:util';

const log = debuglog('express-single-session');

/** A start time for `elapsed()`, or 0 when debugging is off (no clock read on the request path). */
export function startTimer(): number {
  return log.enabled ? performance.now() : 0;
}

/** `1.23 ms` since `started`. */
function elapsed(started: number): string {
  return `${(performance.now() - started).toFixed(2)} ms`;
}

/** Logs one event: `what` (e.g. `resolve`), its outcome, and the store time when `started` is given. */
export function debug(what: string, outcome: string, started?: number): void {
  if (!log.enabled) return;
  log('%s %s%s', what, outcome, started ? ` (store ${elapsed(started)})` : '');
}
