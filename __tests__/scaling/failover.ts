/**
 * What the Cluster and Sentinel failover suites share: the app's client of either library for a
 * deployment (built by the demo's clientFor, as an app would), a client-independent wait until a
 * master's replicas hold everything written so far, and the asserted ceiling of the 503 window.
 */
import { clientFor, type RedisDeployment } from '../../demo-app/redis-from-env';
import type { AppRedis, ClientName } from '../helpers/targets';
import { loginOver } from '../helpers/load';
import { parseInfo, redisCommand, waitUntil } from '../helpers/redis-servers';

/**
 * The longest 503 window a killed master may cause (`cluster-node-timeout` 1000, sentinel
 * `down-after-milliseconds` 1000 and `failover-timeout` 3000, `storeTimeoutMs` 500), from the first
 * 503 to the end of the last. Generous: it covers a repeated Sentinel or Cluster election (the first
 * vote split, the next one seconds later) on a loaded 2-core machine. README: "What happens on
 * failover or outage", with the measured min/median/max.
 */
export const FAILOVER_WINDOW_CEILING_MS = 12_000;

/**
 * The longest the app's client may take to follow a promotion: from the moment the test saw the new
 * master (every sentinel naming it, or the cluster listing it as master) to the end of the last 503.
 */
export const FOLLOW_CEILING_MS = 5000;

/** Signs `userId` in once the app reaches Redis (a node-redis client is connected by the first request, which may time out). */
export async function firstLogin(base: string, userId: string): Promise<string> {
  return waitUntil('the app to reach Redis', () => loginOver(base, userId), 20_000, 200);
}

/** The app's client of `library` for `deployment`; connection errors during a failover are expected. */
export function appClient(deployment: RedisDeployment, library: ClientName): AppRedis {
  const redis = clientFor(deployment, { client: library }) as AppRedis;
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Resolves once every replica of the master on `port` has acknowledged the master's replication
 * offset as it was when called: every write acknowledged before is on the replicas. (WAIT would
 * have to run on the connection that wrote, which node-redis's pools do not expose.)
 */
export async function waitReplicated(port: number, timeoutMs = 5000): Promise<void> {
  const info = parseInfo(String(await redisCommand(port, 'INFO', 'replication')));
  const target = Number(info.get('master_repl_offset'));
  const replicas = Number(info.get('connected_slaves'));
  if (!(replicas > 0)) throw new Error(`the master on port ${port} has no connected replica`);
  await waitUntil(`the replicas of ${port} to reach offset ${target}`, async () => {
    const now = parseInfo(String(await redisCommand(port, 'INFO', 'replication')));
    const offsets = [...now].filter(([name]) => /^slave\d+$/.test(name)).map(([, value]) => Number(/offset=(\d+)/.exec(value)?.[1] ?? -1));
    return offsets.length === replicas && offsets.every((offset) => offset >= target);
  }, timeoutMs);
}

/** A stretch during which this process's timers fired late: `lost` ms of it the process could not run. */
interface Stall {
  from: number;
  to: number;
  lost: number;
}

const TICK_MS = 20;

/**
 * Watches this process's event loop with a 20 ms timer and records every tick that came over 50 ms
 * late, so a bound on answer times can leave out what the test process itself lost (the app under
 * test shares it with the load), and nothing else: a request that waits on a timer that never fires,
 * or on a call without a timeout, loses no event-loop time and still breaks the bound. A loaded
 * 2-core machine has been seen to hold it back for over a second.
 */
export function watchStalls(): { readonly stalls: Stall[]; stop(): void; lostDuring(from: number, to: number): number; lostMs(): number } {
  const stalls: Stall[] = [];
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last > TICK_MS + 50) stalls.push({ from: last, to: now, lost: now - last - TICK_MS });
    last = now;
  }, TICK_MS);
  timer.unref();
  return {
    stalls,
    stop: () => clearInterval(timer),
    lostMs: () => stalls.reduce((sum, s) => sum + s.lost, 0),
    // The part of each stall's lost time that falls inside [from, to], pro rata.
    lostDuring: (from, to) =>
      stalls.reduce((sum, s) => sum + (s.lost * Math.max(0, Math.min(to, s.to) - Math.max(from, s.from))) / (s.to - s.from), 0),
  };
}
