/**
 * Simulated users of a chaos run. The `mixed` scenario: each client (a browser) of a user signs in,
 * makes signed-in requests, saves data, signs out, gets revoked by an admin and replays old cookies.
 * The `devices` scenario lives in chaos/devices.ts. Every operation goes over HTTP to a random app
 * process and is recorded with its start, end and result. Each client draws from its own seeded
 * random stream, so a seed gives every client the same sequence of choices in every run.
 */
import { deviceUser } from './devices';
import type { Operation } from './history';

/** A seeded random source (mulberry32): same seed, same choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An app process as the simulation sees it. */
export interface Endpoint {
  name: string;
  base: string;
  features: string[];
}

/** A session cookie a client holds, with the label the history knows it by. */
export interface Token {
  label: string;
  cookie: string;
  sessionId: string;
}

/** Which population of users a run simulates. */
export type Scenario = 'mixed' | 'devices';

/** Options of {@link simulate}. */
export interface SimulationOptions {
  scenario?: Scenario;
  endpoints: Endpoint[];
  users: number;
  /** Clients per user in the `mixed` scenario (the `devices` scenario always has two). */
  clientsPerUser: number;
  /** The run's seed: client `i` draws from `seededRandom(seed * 1000 + i)`. */
  seed: number;
  /** Recorder clock (ms). */
  now: () => number;
  /** A client gives up on an answer after this long (recorded as status 0). */
  clientTimeoutMs: number;
  /** Resolves when traffic must stop. */
  until: Promise<void>;
  record: (op: Operation) => void;
}

/** One answered (or abandoned) HTTP call. */
export interface Answer {
  op: Operation;
  json: Record<string, unknown>;
  /** The token a successful sign-in handed out. */
  issued: Token | null;
}

/** What a scenario's client needs: its random stream, the HTTP caller, and whether to stop. */
export interface ClientContext {
  random: () => number;
  call(kind: Operation['kind'], user: string, path: string, body: unknown, token: Token | null, session?: string): Promise<Answer>;
  /** A fresh label for a sign-in's token. */
  nextLabel(user: string): string;
  stopped(): boolean;
  endpoints: Endpoint[];
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the clients until `until` resolves and every operation in flight has its answer. */
export async function simulate(options: SimulationOptions): Promise<void> {
  const { endpoints, now, record } = options;
  let stopped = false;
  void options.until.then(() => (stopped = true));
  let nextId = 1;
  let nextLabel = 1;

  const contextFor = (index: number): ClientContext => {
    const random = seededRandom(options.seed * 1000 + index);
    return {
      random,
      endpoints,
      stopped: () => stopped,
      nextLabel: (user) => `${user}#${nextLabel++}`,
      async call(kind, user, path, body, token, session) {
        const endpoint = endpoints[Math.floor(random() * endpoints.length)];
        const headers: Record<string, string> = {};
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (token) headers.cookie = `ess_sid=${token.cookie}`;
        const op: Operation = { type: 'op', id: nextId++, kind, user, session, process: endpoint.name, start: now(), end: 0, status: 0 };
        let json: Record<string, unknown> = {};
        let setCookies: string[] = [];
        try {
          const res = await fetch(endpoint.base + path, {
            method: body === undefined ? 'GET' : 'POST',
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(options.clientTimeoutMs),
          });
          const text = await res.text();
          op.status = res.status;
          setCookies = res.headers.getSetCookie();
          json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          op.status = 0;
        }
        op.end = now();
        const error = json.error as { code?: string } | undefined;
        if (error?.code) op.code = error.code;
        if (op.status === 200 && typeof json.userId === 'string') op.userId = json.userId;
        if (op.status === 200 && (op.kind === 'request' || op.kind === 'save')) op.read = (json.note as string | null) ?? null;
        record(op);
        // A sign-in sent with a refused cookie gets two: the middleware clears the old one, login() sets the new one.
        const cookie = setCookies.map((c) => /^ess_sid=([^;]*)/.exec(c)?.[1]).filter(Boolean).pop();
        const issued = kind === 'login' && op.status === 200 && cookie && session ? { label: session, cookie, sessionId: String(json.sessionId) } : null;
        return { op, json, issued };
      },
    };
  };

  const clients: Promise<void>[] = [];
  if (options.scenario === 'devices') {
    for (let u = 0; u < options.users; u++) clients.push(deviceUser(`user-${u}`, [contextFor(2 * u), contextFor(2 * u + 1)]));
  } else {
    for (let u = 0; u < options.users; u++) {
      for (let c = 0; c < options.clientsPerUser; c++) clients.push(mixedClient(`user-${u}`, contextFor(u * options.clientsPerUser + c)));
    }
  }
  await Promise.all(clients);
}

/** A client of the `mixed` scenario: every kind of operation, old cookies replayed. */
async function mixedClient(user: string, ctx: ClientContext): Promise<void> {
  const { random, call } = ctx;
  let current: Token | null = null;
  const old: Token[] = [];
  let saves = 0;
  while (!ctx.stopped()) {
    const roll = random();
    if (!current || roll < 0.08) {
      const { issued } = await call('login', user, '/login', { userId: user }, current, ctx.nextLabel(user));
      if (issued) {
        if (current) old.push(current);
        current = issued;
      }
    } else if (roll < 0.55) {
      await call('request', user, '/me', undefined, current, current.label);
    } else if (roll < 0.78) {
      const value = `${current.label}/v${++saves}`;
      const { op } = await call('save', user, '/save', { note: value }, current, current.label);
      op.value = value;
    } else if (roll < 0.84) {
      await call('logout', user, '/logout', {}, current, current.label);
      old.push(current);
      current = null;
    } else if (roll < 0.87) {
      // An admin ends this user's sessions (or, where the package has revokeSession, this one).
      const one = ctx.endpoints[0].features.includes('revokeSession') && random() < 0.5;
      await call('revoke', user, '/revoke', one ? { userId: user, sessionId: current.sessionId } : { userId: user }, null, one ? current.label : undefined);
    } else if (old.length > 0) {
      // A copied or stale cookie tried again: it must stay refused.
      const stale = old[Math.floor(random() * old.length)];
      await call('request', user, '/me', undefined, stale, stale.label);
    }
    await pause(random() * 20);
  }
}
