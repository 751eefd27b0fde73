/**
 * The soak run's judgement, pure: a least-squares slope per series, and the verdict on the samples
 * (heap and RSS slopes, open handles, connections and listeners over time, Redis memory after
 * expiry) against the stated leak thresholds. No I/O, so it is tested on made-up samples.
 */

/** One sample of the app process and Redis, `at` seconds into the load. */
export interface Sample {
  at: number;
  heapUsed: number;
  rss: number;
  /** Open handles of every kind (sockets, timers, ...), from process.getActiveResourcesInfo(). */
  handles: number;
  /** Open HTTP connections to the app. */
  connections: number;
  /** Event listeners on the Redis client, the manager, the HTTP server and the process. */
  listeners: number;
}

/** What counts as a clear leak (stated in docs/benchmarks.md and in the report). */
export const THRESHOLDS = {
  /** Heap after a forced GC may not grow faster than this over the steady part of the run. */
  heapBytesPerMinute: 1024 * 1024,
  /**
   * RSS is noisier (the allocator and V8 grow their pools for minutes); only a steep climb fails, and
   * only in runs of at least `rssJudgedAfterSeconds` (the short form reports it).
   */
  rssBytesPerMinute: 16 * 1024 * 1024,
  rssJudgedAfterSeconds: 300,
  /** Open handles, connections and listeners in the last quarter may exceed the first quarter's most by this many. */
  extraHandles: 5,
  /** Redis used_memory after every session expired may exceed its starting level by this much (script cache, allocator). */
  redisBytes: 512 * 1024,
} as const;

/** Least-squares slope of y over x (units of y per unit of x); 0 with fewer than two points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The figures a soak run reports. */
export interface Figures {
  heapSlopePerMinute: number;
  rssSlopePerMinute: number;
  handles: { first: number; last: number };
  connections: { first: number; last: number };
  listeners: { first: number; last: number };
  redis: { startBytes: number; endBytes: number; keysLeft: number };
}

/** Computes the figures: slopes over the steady part (after the first quarter), maxima of the first and last quarters. */
export function figures(samples: readonly Sample[], redis: Figures['redis']): Figures {
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const steady = samples.slice(quarter);
  const perMinute = (key: 'heapUsed' | 'rss') => slope(steady.map((s) => ({ x: s.at / 60, y: s[key] })));
  const span = (key: 'handles' | 'connections' | 'listeners') => ({
    first: Math.max(...samples.slice(0, quarter).map((s) => s[key])),
    last: Math.max(...samples.slice(-quarter).map((s) => s[key])),
  });
  return {
    heapSlopePerMinute: perMinute('heapUsed'),
    rssSlopePerMinute: perMinute('rss'),
    handles: span('handles'),
    connections: span('connections'),
    listeners: span('listeners'),
    redis,
  };
}

/** The broken thresholds, as sentences; empty when the run shows no leak. `runSeconds` decides whether RSS is judged. */
export function leaks(f: Figures, runSeconds = Infinity): string[] {
  const found: string[] = [];
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  if (f.heapSlopePerMinute > THRESHOLDS.heapBytesPerMinute) found.push(`heap grows ${mib(f.heapSlopePerMinute)}/min (limit ${mib(THRESHOLDS.heapBytesPerMinute)}/min)`);
  if (runSeconds >= THRESHOLDS.rssJudgedAfterSeconds && f.rssSlopePerMinute > THRESHOLDS.rssBytesPerMinute) found.push(`RSS grows ${mib(f.rssSlopePerMinute)}/min (limit ${mib(THRESHOLDS.rssBytesPerMinute)}/min)`);
  for (const key of ['handles', 'connections', 'listeners'] as const) {
    if (f[key].last > f[key].first + THRESHOLDS.extraHandles) found.push(`${key} grew from at most ${f[key].first} to ${f[key].last} (limit +${THRESHOLDS.extraHandles})`);
  }
  if (f.redis.keysLeft > 0) found.push(`${f.redis.keysLeft} Redis key(s) left after every session expired`);
  if (f.redis.endBytes > f.redis.startBytes + THRESHOLDS.redisBytes) {
    found.push(`Redis used_memory ${mib(f.redis.endBytes)} after expiry, above its start ${mib(f.redis.startBytes)} by more than ${mib(THRESHOLDS.redisBytes)}`);
  }
  return found;
}
