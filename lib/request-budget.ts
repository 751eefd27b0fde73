/**
 * One store deadline per request: the store calls of one request (the middleware's lookup, then
 * `login()`, `logout()` or `reauthenticate()`) share `storeTimeoutMs` between them, so a request waits
 * for Redis at most that long in all, however many calls it makes. Time in the app's own handlers does
 * not count: only the time spent waiting for Redis.
 */
import type { Request } from 'express';
import { unavailable } from './store/calls';

/** Milliseconds each request has spent waiting for the store so far. */
const SPENT = new WeakMap<Request, number>();

/** Adds `ms` of store waiting to the request's account. */
export function spend(req: Request, ms: number): void {
  SPENT.set(req, (SPENT.get(req) ?? 0) + ms);
}

/**
 * Runs a store call of the request with what is left of its budget (`call` gets it, in ms, to pass on as
 * the write's deadline): rejects with `SESSION_STORE_UNAVAILABLE` at once when nothing is left, and when the
 * call is not answered within it.
 */
export async function withinBudget<T>(req: Request, storeTimeoutMs: number, call: (budgetMs: number) => Promise<T>): Promise<T> {
  const left = Math.floor(storeTimeoutMs - (SPENT.get(req) ?? 0));
  if (left <= 0) throw unavailable(new Error(`this request already waited storeTimeoutMs (${storeTimeoutMs} ms) for Redis`));
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call(left),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(unavailable(new Error(`Redis did not answer within what was left of storeTimeoutMs (${left} ms)`))), left);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
    spend(req, performance.now() - started);
  }
}
