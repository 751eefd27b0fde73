/**
 * Redis going away under a running app process: every request is still answered (200 as the
 * right user, or 503) within the store timeout plus a margin, nothing crashes or rejects
 * unhandled, and traffic recovers on its own when Redis is back. With AOF (fsync always),
 * sessions Redis acknowledged survive even a hard kill and restart. Once per client library.
 */
import { startAppProcess, type AppProcess } from '../helpers/app-processes';
import { getMe, loginOver, startLoad, unavailableWindowMs, waitAllResolve } from '../helpers/load';
import { startRedis, waitUntil, type RedisServer } from '../helpers/redis-servers';
import { CLIENTS, uniquePrefix } from '../helpers/targets';

const STORE_TIMEOUT_MS = 300;
/** Scheduling noise on a busy 2-core machine; a hung request would take far longer. */
const MARGIN_MS = 1000;

describe.each(CLIENTS)('%s', (library) => {
  let server: RedisServer;
  let app: AppProcess;

  beforeAll(async () => {
    server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    app = await startAppProcess({ port: server.port }, { keyPrefix: uniquePrefix(), storeTimeoutMs: STORE_TIMEOUT_MS, env: { ESS_CLIENT: library } });
  });

  afterAll(async () => {
    await app?.stop();
    await server?.destroy();
  });

  async function signInUsers(name: string, count: number): Promise<Map<string, string>> {
    const cookies = new Map<string, string>();
    for (let i = 0; i < count; i++) cookies.set(`${name}-${i}`, await loginOver(app.base, `${name}-${i}`));
    return cookies;
  }

  test('with AOF on, sessions still resolve after Redis is killed and restarted', async () => {
    const cookies = await signInUsers('persisted', 20);
    await server.stop({ hard: true });
    await server.restart();
    await waitAllResolve(app.base, cookies);
  });

  test('Redis killed under load: every request answered 200 or 503 in time, then traffic recovers without restarting the app', async () => {
    const cookies = await signInUsers('under-load', 20);
    const load = startLoad(app.base, cookies, { concurrency: 8, maxMs: 40_000 });
    await waitUntil('traffic before the outage', async () => load.samples.filter((s) => s.status === 200).length >= 50);

    const killedAt = Date.now();
    await server.stop({ hard: true });
    // Keep Redis down for 2 s of real traffic, long enough for the client's reconnect back-off to grow.
    await waitUntil('2 s of 503s while Redis is down', async () => load.samples.some((s) => s.status === 503 && s.at > killedAt + 2000));
    const loginWhileDown = await fetch(`${app.base}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"late"}' });
    expect(loginWhileDown.status).toBe(503);

    await server.restart();
    const restartedAt = Date.now();
    await waitUntil('traffic to recover', async () => load.samples.some((s) => s.at > restartedAt && s.status === 200), 15_000);
    await waitAllResolve(app.base, cookies);
    const samples = await load.stop();

    const outage = unavailableWindowMs(samples, killedAt);
    const recoveryMs = Math.min(...samples.filter((s) => s.at > restartedAt && s.status === 200).map((s) => s.at + s.ms)) - restartedAt;
    console.log(`redis killed under load (${library}): ${samples.length} requests, ${outage.count} answered 503 over ${outage.windowMs} ms; ` +
    `first 200 ${recoveryMs} ms after restart; slowest answer ${Math.max(...samples.map((s) => s.ms))} ms`);

    expect(samples.filter((s) => s.status !== 200 && s.status !== 503)).toEqual([]);
    expect(samples.filter((s) => s.status === 200 && s.userId !== s.user)).toEqual([]);
    expect(samples.filter((s) => s.ms > STORE_TIMEOUT_MS + MARGIN_MS)).toEqual([]);
    expect((await getMe(app.base, 'under-load-0', cookies.get('under-load-0')!)).status).toBe(200);
    expect(await app.faults()).toMatchObject({ unhandledRejections: [], uncaughtExceptions: [] });
    expect(app.alive).toBe(true);
  });
});
