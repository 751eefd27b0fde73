/**
 * The soak verdict on made-up samples: a flat run passes, and each kind of leak (heap, RSS, handles,
 * listeners, Redis keys or memory left after expiry) is found and named.
 */
import { figures, leaks, slope, THRESHOLDS, type Sample } from '../../soak/verdict';

const MiB = 1024 * 1024;
function run(change: (s: Sample, i: number) => Partial<Sample> = () => ({})): Sample[] {
  return Array.from({ length: 20 }, (_, i) => {
    const base: Sample = { at: i * 3, heapUsed: 12 * MiB + (i % 2) * 100_000, rss: 150 * MiB, handles: 40, connections: 30, listeners: 12 };
    return { ...base, ...change(base, i) };
  });
}
const clean = { startBytes: 1.2 * MiB, endBytes: 1.3 * MiB, keysLeft: 0 };

test('slope is the least-squares fit', () => {
  expect(slope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }])).toBeCloseTo(2);
  expect(slope([{ x: 1, y: 1 }])).toBe(0);
});

test('a flat run has no leak', () => {
  expect(leaks(figures(run(), clean))).toEqual([]);
});

test('each kind of leak is found', () => {
  // 2 MiB per minute of heap: 0.1 MiB per 3 s sample.
  expect(leaks(figures(run((s, i) => ({ heapUsed: s.heapUsed + i * 0.1 * MiB })), clean))).toEqual([expect.stringMatching(/^heap grows 2\.\d\d MiB\/min/)]);
  expect(leaks(figures(run((s, i) => ({ rss: s.rss + i * MiB })), clean))).toEqual([expect.stringMatching(/^RSS grows/)]);
  // RSS is only judged in long runs: the allocator's warm-up looks like growth for a minute or two.
  expect(leaks(figures(run((s, i) => ({ rss: s.rss + i * MiB })), clean), 40)).toEqual([]);
  expect(leaks(figures(run((s, i) => ({ handles: s.handles + i })), clean))).toEqual([expect.stringMatching(/^handles grew/)]);
  expect(leaks(figures(run((s, i) => ({ listeners: s.listeners + i })), clean))).toEqual([expect.stringMatching(/^listeners grew/)]);
  expect(leaks(figures(run(), { ...clean, keysLeft: 3 }))).toEqual(['3 Redis key(s) left after every session expired']);
  expect(leaks(figures(run(), { ...clean, endBytes: clean.startBytes + THRESHOLDS.redisBytes + 1 }))).toEqual([expect.stringMatching(/^Redis used_memory/)]);
});
