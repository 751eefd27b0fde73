/**
 * The chaos run's `devices` scenario (chaos/devices.ts), against a tiny in-memory stand-in for the
 * app (pure logic: one live token per user). What the waitForReplicas demonstration relies on: the
 * device put down keeps polling with the cookie a newer sign-in displaced, so when that sign-in is
 * lost (here: the stand-in goes back to the displaced token, as a promoted replica would) the device
 * put down is accepted again before the user, refused on the device in use, signs in again.
 */
import { deviceUser } from '../../chaos/devices';
import type { Operation } from '../../chaos/history';
import { seededRandom, type ClientContext } from '../../chaos/simulate';

interface Seen {
  device: number;
  kind: Operation['kind'];
  label: string | undefined;
  status: number;
  at: number;
}

/** The stand-in: `live` is the one token of user `u` that is accepted; every call is recorded. */
function standIn() {
  /** `displaced`: the token the latest sign-in replaced (what a replica without that sign-in still has live). */
  const state = { live: null as string | null, displaced: null as string | null, stopped: false, seen: [] as Seen[] };
  const waiters: Array<() => void> = [];
  const context = (device: number): ClientContext => {
    let count = 0;
    return {
      random: seededRandom(7000 + device),
      endpoints: [{ name: 'p0', base: '', features: [] }],
      stopped: () => state.stopped,
      nextLabel: (user) => `${user}#${device}.${++count}`,
      async call(kind, user, _path, _body, token, session) {
        await Promise.resolve();
        let status: number;
        if (kind === 'login') {
          state.displaced = state.live;
          state.live = session!;
          status = 200;
        } else if (kind === 'request' || kind === 'save') {
          status = token && token.label === state.live ? 200 : 401;
        } else if (kind === 'logout') {
          if (token && token.label === state.live) state.live = null;
          status = 204;
        } else {
          state.live = null;
          status = 200;
        }
        const at = performance.now();
        state.seen.push({ device, kind, label: kind === 'login' ? session : token?.label, status, at });
        for (const wake of waiters.splice(0)) wake();
        const op: Operation = { type: 'op', id: state.seen.length, kind, user, session, process: 'p0', start: at, end: at, status };
        return { op, json: {}, issued: kind === 'login' ? { label: session!, cookie: session!, sessionId: session! } : null };
      },
    };
  };
  /** Resolves with the first recorded call (from now on) that `match` accepts; rejects after `ms`. */
  const next = (match: (s: Seen) => boolean, ms = 20_000): Promise<Seen> => {
    const from = state.seen.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not seen in time')), ms);
      const look = () => {
        const hit = state.seen.slice(from).find(match);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else waiters.push(look);
      };
      look();
    });
  };
  return { state, context, next };
}

/** The device a token label was issued to (labels are `u#<device>.<n>`). */
const deviceOf = (label: string): number => Number(/#(\d+)\./.exec(label)![1]);

test('the device put down keeps polling with its displaced cookie and is accepted again when the sign-in that displaced it is lost', async () => {
  const { state, context, next } = standIn();
  const run = deviceUser('u', [context(0), context(1)]);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      // A switch: the device put down is refused with the cookie the other device's sign-in displaced.
      const refused = await next((s) => s.kind === 'request' && s.status === 401 && s.label === state.displaced && state.live !== null && deviceOf(state.live) !== s.device);
      const displaced = refused.label!;
      const lost = state.live!;
      const inUse = deviceOf(lost);
      // Failover: the replica never had the newer sign-in, so the displaced token is the live one again.
      const from = state.seen.length;
      state.live = displaced;
      const first = await next((s) => (s.device === refused.device && s.label === displaced && s.status === 200) || s.kind === 'login' || s.kind === 'logout' || s.kind === 'revoke');
      // The user happened to switch, sign out or be revoked at that very moment: wait for the next switch.
      if (first.kind !== 'request') continue;
      const relogin = await next((s) => s.kind === 'login');
      expect(relogin.device).toBe(inUse);
      // The user refused on the device in use took a human pause (1-3 s) before signing in again.
      const refusedInUse = state.seen.slice(from).find((s) => s.device === inUse && s.label === lost && s.status === 401)!;
      expect(refusedInUse).toBeDefined();
      expect(relogin.at - refusedInUse.at).toBeGreaterThanOrEqual(1000);
      expect(first.at).toBeLessThan(relogin.at);
      return;
    }
    throw new Error('no switch in 5 was followed by the displaced device polling first');
  } finally {
    state.stopped = true;
    await run;
  }
}, 60_000);
