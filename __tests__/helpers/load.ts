/**
 * Bounded HTTP traffic for the fault tests: workers loop `GET /me` with each user's cookie
 * against a running app until stopped, recording every answer, so a test can check that each
 * request got 200 (as the right user) or 503 in time, and measure how long 503s lasted.
 */
import type { Server } from 'node:http';
import { buildApp } from './app';
import { uniquePrefix, type AppRedis } from './targets';

/** One answered (or failed) request. `status` 0 means no HTTP answer at all. */
export interface Sample {
  /** When the request started, ms since the epoch. */
  at: number;
  /** How long it took to answer. */
  ms: number;
  user: string;
  status: number;
  /** The user id the app answered with on 200. */
  userId?: string;
  /** The error code on 4xx/5xx. */
  code?: string;
}

/** Requests `GET base + /me` as one user, with `cookie`; never throws. */
export async function getMe(base: string, user: string, cookie: string, timeoutMs = 10_000): Promise<Sample> {
  const at = Date.now();
  try {
    const res = await fetch(`${base}/me`, { headers: { cookie }, signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as { userId?: string; error?: { code?: string } };
    return { at, ms: Date.now() - at, user, status: res.status, userId: body.userId, code: body.error?.code };
  } catch {
    return { at, ms: Date.now() - at, user, status: 0 };
  }
}

/** Signs `userId` in through `POST base + /login` and returns the cookie pair, or throws with the answer. */
export async function loginOver(base: string, userId: string): Promise<string> {
  const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ess_sid='));
  if (res.status !== 200 || !cookie) throw new Error(`login of ${userId} failed: ${res.status} ${await res.text()}`);
  return cookie.split(';')[0];
}

/** Traffic that runs until `stop()`, which resolves with every sample. Hard limit: `maxMs`. */
export interface Load {
  readonly samples: Sample[];
  stop(): Promise<Sample[]>;
}

/** Starts `concurrency` workers cycling through `cookies` (user id to cookie pair). */
export function startLoad(base: string, cookies: Map<string, string>, { concurrency = 8, maxMs = 60_000 } = {}): Load {
  const samples: Sample[] = [];
  const users = [...cookies.keys()];
  const until = Date.now() + maxMs;
  let running = true;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (running && Date.now() < until) {
      const user = users[next++ % users.length];
      samples.push(await getMe(base, user, cookies.get(user)!));
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(workers);
      return samples;
    },
  };
}

/**
 * Time from the first to the end of the last 503 at or after `since` (0 if there was none), how many
 * there were, and when the last one ended (`since` if none).
 */
export function unavailableWindowMs(samples: Sample[], since: number): { windowMs: number; count: number; endAt: number } {
  const failed = samples.filter((s) => s.status === 503 && s.at >= since);
  if (failed.length === 0) return { windowMs: 0, count: 0, endAt: since };
  const first = Math.min(...failed.map((s) => s.at));
  const last = Math.max(...failed.map((s) => s.at + s.ms));
  return { windowMs: last - first, count: failed.length, endAt: last };
}

/** Polls `GET /me` for every user until all answer 200 as themselves; throws after `timeoutMs`. */
export async function waitAllResolve(base: string, cookies: Map<string, string>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const results = await Promise.all([...cookies].map(([user, cookie]) => getMe(base, user, cookie)));
    const bad = results.filter((r) => r.status !== 200 || r.userId !== r.user);
    if (bad.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${bad.length} of ${results.length} sessions still do not resolve: ${JSON.stringify(bad.slice(0, 3))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The test app on `redis`, served over real HTTP on a free loopback port (for load through fetch). */
export async function serveTestApp(redis: AppRedis, storeTimeoutMs: number): Promise<{ server: Server; base: string }> {
  const { app } = buildApp(redis, { keyPrefix: uniquePrefix(), storeTimeoutMs });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}
