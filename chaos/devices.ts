/**
 * The `devices` scenario of a chaos run: each user has two devices (a laptop and a phone) and uses
 * one at a time. The device in use signs in when the user picks it up, which displaces the other
 * one, then makes requests and saves; after a while the user switches devices; now and then signs out or has an
 * admin revoke them, and after a refusal takes a few seconds (a human) to sign in again. The device
 * put down keeps its old cookie and keeps polling with it in the background, as a native app, a
 * second tab holding its copy, or a copied cookie would; sometimes it replays an older one.
 *
 * This is the population that shows a sign-in lost on failover: the switch was acknowledged, then
 * its master died before the replica had it, and the device it displaced is accepted again.
 */
import type { ClientContext, Token } from './simulate';

/**
 * The user puts a device down after 15-60 accepted requests and saves on it (about 1-2 s here) and
 * picks up the other, whose sign-in displaces this one. Counted in accepted operations, so nobody
 * switches while the store is down.
 */
const STRETCH = [15, 60] as const;
const LOGOUT = 0.01;
const REVOKE = 0.01;
const REQUEST = 0.6;
/** A human reads "you were signed out" and signs in again after 1-3 s; after a 503, retries after 0.3-1 s. */
const THINK_MS = [1000, 3000] as const;
const RETRY_MS = [300, 1000] as const;
/** The put-down device polls every 150-400 ms. */
const POLL_MS = [150, 400] as const;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (random: () => number, [low, high]: readonly [number, number]) => low + random() * (high - low);

/** Runs one user's two devices until the run stops. */
export async function deviceUser(user: string, contexts: [ClientContext, ClientContext]): Promise<void> {
  /** Which device the user holds, and how many times they switched (a device signs in once per pick-up). */
  const shared = { active: 0, pickUps: 0 };
  await Promise.all(contexts.map((ctx, index) => device(user, index, ctx, shared)));
}

async function device(user: string, index: number, ctx: ClientContext, shared: { active: number; pickUps: number }): Promise<void> {
  const { random, call } = ctx;
  let token: Token | null = null;
  const old: Token[] = [];
  /** The pick-up this device last signed in for; -1: never. */
  let signedInFor = -1;
  let saves = 0;
  let stretch = Math.round(between(random, STRETCH));
  const drop = () => {
    if (token) old.push(token);
    token = null;
  };
  while (!ctx.stopped()) {
    if (shared.active !== index) {
      // Put down: keep polling with whatever cookie this device has, refused or not.
      const replay = old.length > 0 && random() < 0.1 ? old[Math.floor(random() * old.length)] : token;
      if (replay) await call('request', user, '/me', undefined, replay, replay.label);
      await pause(between(random, POLL_MS));
      continue;
    }
    if (!token || signedInFor !== shared.pickUps) {
      const pickUp = shared.pickUps;
      const { op, issued } = await call('login', user, '/login', { userId: user }, token, ctx.nextLabel(user));
      if (issued) {
        drop();
        token = issued;
        signedInFor = pickUp;
        stretch = Math.round(between(random, STRETCH));
      } else if (op.status !== 200) {
        await pause(between(random, RETRY_MS));
      }
      continue;
    }
    const roll = random();
    const current: Token = token;
    if (stretch <= 0) {
      // The user picks up the other device; this one keeps its cookie.
      shared.active = 1 - index;
      shared.pickUps++;
      continue;
    } else if (roll < LOGOUT) {
      await call('logout', user, '/logout', {}, current, current.label);
      drop();
      await pause(between(random, THINK_MS));
    } else if (roll < LOGOUT + REVOKE) {
      const one = ctx.endpoints[0].features.includes('revokeSession') && random() < 0.5;
      await call('revoke', user, '/revoke', one ? { userId: user, sessionId: current.sessionId } : { userId: user }, null, one ? current.label : undefined);
    } else {
      const save = roll >= LOGOUT + REVOKE + REQUEST;
      const value = save ? `${current.label}/v${++saves}` : undefined;
      const { op } = save
        ? await call('save', user, '/save', { note: value }, current, current.label)
        : await call('request', user, '/me', undefined, current, current.label);
      if (value) op.value = value;
      if (op.status === 200) stretch--;
      if (op.status === 401) {
        // Refused while in use (revoked, or a sign-in lost on failover): the user signs in again.
        drop();
        await pause(between(random, THINK_MS));
      }
    }
    await pause(random() * 20);
  }
}
