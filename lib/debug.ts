/**
 * Debug logging through `node:util` `debuglog`, switched on with `NODE_DEBUG=express-single-session`:
 * what each request's session resolved to, and how long the store took. It is given only codes,
 * public session ids and timings, never a cookie value or a token. Beside it, the warnings every app
 * gets by default (a wiring mistake, a change that could not be saved), each said once per cause.
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

/** Says a warning through `process.emitWarning`, once per `key` (default: the code) for one manager. */
export type Warn = (code: string, message: string, key?: string) => void;

/**
 * The warnings of one manager: each cause is said once, not once per request, with the package name and
 * what to fix. Never given a cookie value, a token or session data.
 */
export function createWarn(): Warn {
  const said = new Set<string>();
  return (code, message, key = code) => {
    if (said.has(key)) return;
    said.add(key);
    process.emitWarning(`express-single-session: ${message}`, { code });
  };
}
