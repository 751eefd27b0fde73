/**
 * The history checker on hand-made histories: each promise broken on purpose is found (and
 * counted under the right fault kind, allowed only where the README names it), and histories
 * that keep every promise, including tricky concurrent ones, give no violation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkText } from '../../chaos/check';
import { check } from '../../chaos/checker';
import { parseHistory, type Fault, type History, type HistoryMeta, type Operation } from '../../chaos/history';
import { README_NAMED_VIOLATIONS } from '../../chaos/readme-allowances';
import { formatTable, summarize, unexpected } from '../../chaos/table';

const META: HistoryMeta = { type: 'meta', storeTimeoutMs: 500, marginMs: 500, idleMs: 60_000, absoluteMs: 0, maxSessions: 1 };

let nextId = 1;
/** An operation of `user` on session `session` from `start` to `end` ms. */
function op(kind: Operation['kind'], user: string, session: string | undefined, start: number, end: number, status: number, extra: Partial<Operation> = {}): Operation {
  const userId = status === 200 && kind !== 'revoke' ? user : undefined;
  return { type: 'op', id: nextId++, kind, user, session, process: 'p0', start, end, status, userId, ...extra };
}
const login = (user: string, session: string, start: number, end: number, status = 200) => op('login', user, session, start, end, status, status === 503 ? { code: 'SESSION_STORE_UNAVAILABLE' } : {});
const ok = (user: string, session: string, start: number, end: number, read: string | null = null) => op('request', user, session, start, end, 200, { read });
const refused = (user: string, session: string, start: number, end: number, code: string) => op('request', user, session, start, end, code === 'SESSION_STORE_UNAVAILABLE' ? 503 : 401, { code });
const save = (user: string, session: string, start: number, end: number, value: string, status = 200) => op('save', user, session, start, end, status, { value, read: status === 200 ? value : undefined });
const fault = (kind: string, start: number, end: number): Fault => ({ type: 'fault', kind, start, end });

function history(operations: Operation[], faults: Fault[] = [], meta: Partial<HistoryMeta> = {}): History {
  return { meta: { ...META, ...meta }, operations, faults };
}
const promisesOf = (h: History) => check(h).violations.map((v) => v.promise);

describe('histories that keep every promise', () => {
  test('sign-in, requests, saves, displacement, sign-out and revoke in order give no violation', () => {
    const h = history([
      login('ann', 'a1', 0, 10),
      ok('ann', 'a1', 20, 30, null),
      save('ann', 'a1', 40, 50, 'v1'),
      ok('ann', 'a1', 60, 70, 'v1'),
      login('ann', 'a2', 80, 90),
      refused('ann', 'a1', 100, 110, 'SESSION_DISPLACED'),
      ok('ann', 'a2', 120, 130, null),
      op('logout', 'ann', 'a2', 140, 150, 204),
      refused('ann', 'a2', 160, 170, 'SESSION_EXPIRED'),
      login('bob', 'b1', 0, 10),
      op('revoke', 'bob', undefined, 20, 30, 200),
      refused('bob', 'b1', 40, 50, 'SESSION_EXPIRED'),
      login('bob', 'b2', 60, 70),
      ok('bob', 'b2', 80, 90, null),
    ]);
    expect(check(h)).toEqual({ violations: [], unexplainedEndings: 0 });
  });

  test('operations that overlap are not ordered: an old token accepted while the new sign-in is still in flight is fine', () => {
    const h = history([
      login('ann', 'a1', 0, 10),
      login('ann', 'a2', 20, 100),
      ok('ann', 'a1', 50, 150),
      login('bob', 'b1', 0, 10),
      save('bob', 'b1', 200, 300, 'v1'),
      ok('bob', 'b1', 250, 260, null), // concurrent with the save: either value is right
      ok('bob', 'b1', 280, 320, 'v1'),
    ]);
    expect(promisesOf(h)).toEqual([]);
  });

  test('with maxSessions 2, one newer sign-in leaves the older token valid; two do not', () => {
    const ops = [login('ann', 'a1', 0, 10), login('ann', 'a2', 20, 30), ok('ann', 'a1', 40, 50)];
    expect(promisesOf(history(ops, [], { maxSessions: 2 }))).toEqual([]);
    expect(promisesOf(history([...ops, login('ann', 'a3', 60, 70), ok('ann', 'a1', 80, 90)], [], { maxSessions: 2 }))).toEqual([1]);
  });

  test('a failed save whose value shows up before any read saw otherwise took effect in time', () => {
    const h = history([login('ann', 'a1', 0, 10), save('ann', 'a1', 20, 600, 'v1', 503), ok('ann', 'a1', 700, 710, 'v1')]);
    expect(promisesOf(h)).toEqual([]);
  });

  test('an ending explained by the idle timeout is neither a violation nor unexplained', () => {
    const h = history([login('ann', 'a1', 0, 10), ok('ann', 'a1', 20, 30), refused('ann', 'a1', 2000, 2010, 'SESSION_EXPIRED')], [], { idleMs: 1000 });
    expect(check(h)).toEqual({ violations: [], unexplainedEndings: 0 });
  });
});

describe('each promise, broken on purpose, is found', () => {
  test('1: an older token accepted by a request that began after a newer sign-in was acknowledged', () => {
    const h = history([login('ann', 'a1', 0, 10), login('ann', 'a2', 20, 30), ok('ann', 'a1', 40, 50)]);
    const [v] = check(h).violations;
    expect(v).toMatchObject({ promise: 1, op: { session: 'a1' }, evidence: { session: 'a2' }, fault: 'none', allowed: false });
  });

  test('2: a token accepted again after it was refused as displaced, signed out or revoked', () => {
    expect(promisesOf(history([login('ann', 'a1', 0, 10), refused('ann', 'a1', 20, 30, 'SESSION_EXPIRED'), ok('ann', 'a1', 40, 50)]))).toEqual([2]);
    expect(promisesOf(history([login('ann', 'a1', 0, 10), op('logout', 'ann', 'a1', 20, 30, 204), ok('ann', 'a1', 40, 50)]))).toEqual([2]);
    expect(promisesOf(history([login('ann', 'a1', 0, 10), op('revoke', 'ann', undefined, 20, 30, 200), ok('ann', 'a1', 40, 50)]))).toEqual([2]);
    expect(promisesOf(history([login('ann', 'a1', 0, 10), op('revoke', 'ann', 'a1', 20, 30, 200), ok('ann', 'a1', 40, 50)]))).toEqual([2]);
    // A revoke of another session, or one before the token was issued, ends nothing of it.
    expect(promisesOf(history([login('ann', 'a1', 0, 10), op('revoke', 'ann', 'a0', 20, 30, 200), ok('ann', 'a1', 40, 50)]))).toEqual([]);
    expect(promisesOf(history([op('revoke', 'ann', undefined, 0, 5, 200), login('ann', 'a1', 10, 20), ok('ann', 'a1', 40, 50)]))).toEqual([]);
  });

  test('3: a request answered as another user', () => {
    const h = history([login('ann', 'a1', 0, 10), op('request', 'ann', 'a1', 20, 30, 200, { userId: 'bob', read: null })]);
    expect(promisesOf(h)).toEqual([3]);
  });

  test('4: an answer later than storeTimeoutMs plus the margin, or none at all', () => {
    const h = history([login('ann', 'a1', 0, 1001, 503), refused('ann', 'a1', 2000, 2999, 'SESSION_STORE_UNAVAILABLE'), op('request', 'ann', 'a1', 3000, 9000, 0)]);
    expect(check(h).violations.map((v) => [v.promise, v.op.start])).toEqual([[4, 0], [4, 3000]]);
  });

  test('5: an acknowledged save not read back by a later request of the session', () => {
    const lost = history([login('ann', 'a1', 0, 10), save('ann', 'a1', 20, 30, 'v1'), ok('ann', 'a1', 40, 50, null)]);
    const stale = history([login('ann', 'a1', 0, 10), save('ann', 'a1', 20, 30, 'v1'), save('ann', 'a1', 40, 50, 'v2'), ok('ann', 'a1', 60, 70, 'v1')]);
    const foreign = history([login('ann', 'a1', 0, 10), ok('ann', 'a1', 20, 30, 'never-written')]);
    const future = history([login('ann', 'a1', 0, 10), ok('ann', 'a1', 20, 30, 'v9'), save('ann', 'a1', 40, 50, 'v9')]);
    for (const h of [lost, stale, foreign, future]) expect(promisesOf(h)).toEqual([5]);
  });

  test('6: a sign-in answered 503 displaces the session after a later request was still accepted (the late write)', () => {
    const h = history([
      login('ann', 'a1', 0, 10),
      login('ann', 'a2', 20, 520, 503),
      ok('ann', 'a1', 600, 610),
      refused('ann', 'a1', 700, 710, 'SESSION_DISPLACED'),
    ]);
    const [v] = check(h).violations;
    expect(v).toMatchObject({ promise: 6, op: { start: 700 }, evidence: { session: 'a2', status: 503 } });
  });

  test('6: a sign-out answered 503 ends the session after a later request was accepted', () => {
    const h = history([login('ann', 'a1', 0, 10), op('logout', 'ann', 'a1', 20, 520, 503), ok('ann', 'a1', 600, 610), refused('ann', 'a1', 700, 710, 'SESSION_EXPIRED')]);
    expect(promisesOf(h)).toEqual([6]);
  });

  test('6: a save answered 503 shows up after a later request read the older value', () => {
    const h = history([login('ann', 'a1', 0, 10), save('ann', 'a1', 20, 520, 'v1', 503), ok('ann', 'a1', 600, 610, null), ok('ann', 'a1', 700, 710, 'v1')]);
    expect(promisesOf(h)).toEqual([6]);
  });

  test('6 is not claimed when a sign-in in flight explains the displacement, and an unexplained one is only counted', () => {
    const explained = history([login('ann', 'a1', 0, 10), ok('ann', 'a1', 600, 610), login('ann', 'a2', 650, 1200, 503), refused('ann', 'a1', 700, 710, 'SESSION_DISPLACED')]);
    expect(check(explained)).toEqual({ violations: [], unexplainedEndings: 0 });
    const unexplained = history([login('ann', 'a1', 0, 10), ok('ann', 'a1', 600, 610), refused('ann', 'a1', 700, 710, 'SESSION_DISPLACED')]);
    expect(check(unexplained)).toEqual({ violations: [], unexplainedEndings: 1 });
  });

  test('an answer outside 200/401/503 (a 500) is its own kind of violation', () => {
    expect(promisesOf(history([login('ann', 'a1', 0, 10, 500)]))).toEqual(['answer']);
  });
});

describe('fault kinds and the README allow-list', () => {
  const lostSignIn = [login('ann', 'a1', 0, 10), login('ann', 'a2', 20, 30), ok('ann', 'a1', 4000, 4010)];

  test('a displaced session coming back across a master kill is counted under kill-master, as named by the README', () => {
    const result = check(history(lostSignIn, [fault('kill-master', 35, 3000)]));
    expect(result.violations).toMatchObject([{ promise: 1, fault: 'kill-master', allowed: true }]);
    expect(unexpected(result)).toEqual([]);
  });

  test('the same break under SIGSTOP, or with no fault, fails the run', () => {
    expect(unexpected(check(history(lostSignIn, [fault('sigstop', 35, 3000)])))).toMatchObject([{ promise: 1, fault: 'sigstop' }]);
    expect(unexpected(check(history(lostSignIn)))).toMatchObject([{ promise: 1, fault: 'none' }]);
    // A fault that ended before the evidence began excuses nothing.
    expect(unexpected(check(history(lostSignIn, [fault('kill-master', -500, -100)])))).toHaveLength(1);
  });

  test('with waitForReplicas the lost acknowledged sign-in is no longer named: the option closes it', () => {
    const h = history(lostSignIn, [fault('kill-master', 35, 3000)], { waitForReplicas: { replicas: 1, timeoutMs: 200 } });
    expect(unexpected(check(h))).toMatchObject([{ promise: 1, fault: 'kill-master', allowed: false }]);
    const signedOut = [login('ann', 'a1', 0, 10), op('logout', 'ann', 'a1', 20, 30, 204), ok('ann', 'a1', 4000, 4010)];
    expect(unexpected(check(history(signedOut, [fault('kill-master', 35, 3000)], { waitForReplicas: { replicas: 1, timeoutMs: 200 } }))))
      .toMatchObject([{ promise: 2, afterFailedWrite: false }]);
    expect(unexpected(check(history(signedOut, [fault('kill-master', 35, 3000)])))).toEqual([]);
  });

  test('with waitForReplicas, a token refused only because of a sign-in answered 503 (WAIT timed out) may come back: named', () => {
    const ops = [login('ann', 'a1', 0, 10), ok('ann', 'a1', 20, 30), login('ann', 'a2', 40, 300, 503),
      refused('ann', 'a1', 100, 110, 'SESSION_DISPLACED'), ok('ann', 'a1', 4000, 4010)];
    const result = check(history(ops, [fault('kill-master', 200, 3000)], { waitForReplicas: { replicas: 1, timeoutMs: 200 } }));
    expect(result.violations).toMatchObject([{ promise: 2, afterFailedWrite: true, allowed: true }]);
    // The same refusal with an acknowledged sign-in overlapping it is not excused by the option's caveat.
    const acked = [...ops.slice(0, 2), login('ann', 'a2', 40, 300), ...ops.slice(3)];
    expect(unexpected(check(history(acked, [fault('kill-master', 200, 3000)], { waitForReplicas: { replicas: 1, timeoutMs: 200 } }))))
      .toMatchObject([{ promise: 1 }, { promise: 2, afterFailedWrite: false }]);
  });

  test('with waitForReplicas, sign-in, sign-out and revoke may take the WAIT timeout longer; requests may not', () => {
    const meta = { waitForReplicas: { replicas: 1, timeoutMs: 200 } };
    const slowLogin = [login('ann', 'a1', 0, 1150)];
    expect(promisesOf(history(slowLogin, [], meta))).toEqual([]);
    expect(promisesOf(history(slowLogin))).toEqual([4]);
    expect(promisesOf(history([login('ann', 'a1', 0, 10), ok('ann', 'a1', 20, 1170)], [], meta))).toEqual([4]);
  });

  test('a sign-in answered 503 that displaces the session later, under SIGSTOP, is not named by the README', () => {
    const h = history([login('ann', 'a1', 0, 10), login('ann', 'a2', 20, 520, 503), ok('ann', 'a1', 1600, 1610), refused('ann', 'a1', 1700, 1710, 'SESSION_DISPLACED')], [fault('sigstop', 15, 1500)]);
    expect(unexpected(check(h))).toMatchObject([{ promise: 6, fault: 'sigstop' }]);
  });

  test('no fault kind excuses answering as another user or answering too late', () => {
    for (const allowances of Object.values(README_NAMED_VIOLATIONS)) {
      for (const a of allowances) expect(a.promises).not.toEqual(expect.arrayContaining([3]));
      for (const a of allowances) expect(a.promises).not.toEqual(expect.arrayContaining([4]));
    }
  });

  test('every allowance quotes a sentence that is in the scaling guide (docs/scaling.md)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'scaling.md'), 'utf8').replace(/\s+/g, ' ');
    for (const allowances of Object.values(README_NAMED_VIOLATIONS)) for (const a of allowances) expect(readme).toContain(a.readme);
  });

  test('the table has a row per fault kind with operations, faults, violations by promise and worst answer time', () => {
    const h = history(lostSignIn, [fault('kill-master', 35, 5000)]);
    const table = formatTable(summarize(h, check(h)));
    expect(table.split('\n')[0]).toBe('| fault kind | faults | operations | P1 | P2 | P3 | P4 | P5 | P6 | bad answer | worst answer ms |');
    expect(table).toContain('| none | 0 | 2 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 10 |');
    expect(table).toContain('| kill-master | 1 | 1 | 1 (1 named) | 0 | 0 | 0 | 0 | 0 | 0 | 10 |');
  });
});

describe('the history file and the command', () => {
  const lines = (h: History) => [h.meta, ...h.faults, ...h.operations].map((e) => JSON.stringify(e)).join('\n');

  test('JSON lines parse back into the same history; a line of unknown type is refused', () => {
    const h = history([login('ann', 'a1', 0, 10)], [fault('client-kill', 0, 5)]);
    expect(parseHistory(lines(h))).toEqual(h);
    expect(() => parseHistory(`${lines(h)}\n{"type":"nope"}`)).toThrow(/line 4: unknown entry type "nope"/);
    expect(() => parseHistory('')).toThrow(/no meta line/);
  });

  test('checkText passes a clean history and fails one with an unnamed violation, naming it', () => {
    expect(checkText(lines(history([login('ann', 'a1', 0, 10), ok('ann', 'a1', 20, 30)]))).passed).toBe(true);
    const failed = checkText(lines(history([login('ann', 'a1', 0, 10), login('ann', 'a2', 20, 30), ok('ann', 'a1', 40, 50)])));
    expect(failed.passed).toBe(false);
    expect(failed.report).toMatch(/P1 \[none\] request #\d+ by ann .*newer acknowledged sign-in/);
  });
});

describe('counting', () => {
  test('a resurrected token accepted many times is one break; effects within settleMs after a fault count under it', () => {
    const ops = [login('ann', 'a1', 0, 10), login('ann', 'a2', 20, 520, 503), ok('ann', 'a1', 1600, 1610),
      refused('ann', 'a1', 1700, 1710, 'SESSION_DISPLACED'), refused('ann', 'a1', 1800, 1810, 'SESSION_DISPLACED')];
    expect(check(history(ops)).violations).toMatchObject([{ promise: 6, fault: 'none' }]);
    const stopped = [fault('sigstop', -2000, -1000)];
    expect(check(history(ops, stopped)).violations).toMatchObject([{ promise: 6, fault: 'none' }]);
    expect(check(history(ops, stopped, { settleMs: 1500 })).violations).toMatchObject([{ promise: 6, fault: 'sigstop' }]);
  });
});
