/**
 * Simulated users of a chaos run: each client (a browser) of a user signs in, makes signed-in
 * requests, saves data, signs out, gets revoked by an admin and replays old cookies, over HTTP to
 * a random app process, and every operation is recorded with its start, end and result.
 */
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

interface Token {
  label: string;
  cookie: string;
  sessionId: string;
}

/** Options of {@link simulate}. */
export interface SimulationOptions {
  endpoints: Endpoint[];
  users: number;
  clientsPerUser: number;
  random: () => number;
  /** Recorder clock (ms). */
  now: () => number;
  /** A client gives up on an answer after this long (recorded as status 0). */
  clientTimeoutMs: number;
  /** Resolves when traffic must stop. */
  until: Promise<void>;
  record: (op: Operation) => void;
}

/** Runs the clients until `until` resolves and every operation in flight has its answer. */
export async function simulate(options: SimulationOptions): Promise<void> {
  const { endpoints, random, now, record } = options;
  let stopped = false;
  void options.until.then(() => (stopped = true));
  let nextId = 1;
  let nextLabel = 1;
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];

  async function call(kind: Operation['kind'], user: string, path: string, body: unknown, token: Token | null, session?: string): Promise<{ op: Operation; json: Record<string, unknown>; setCookie: string | null }> {
    const endpoint = pick(endpoints);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.cookie = `ess_sid=${token.cookie}`;
    const op: Operation = { type: 'op', id: nextId++, kind, user, session, process: endpoint.name, start: now(), end: 0, status: 0 };
    let json: Record<string, unknown> = {};
    let setCookie: string | null = null;
    try {
      const res = await fetch(endpoint.base + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.clientTimeoutMs),
      });
      const text = await res.text();
      op.status = res.status;
      setCookie = res.headers.get('set-cookie');
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      op.status = 0;
    }
    op.end = now();
    const error = json.error as { code?: string } | undefined;
    if (error?.code) op.code = error.code;
    if (op.status === 200 && typeof json.userId === 'string') op.userId = json.userId;
    record(op);
    return { op, json, setCookie };
  }

  async function client(user: string): Promise<void> {
    let current: Token | null = null;
    const old: Token[] = [];
    let saves = 0;
    while (!stopped) {
      const roll = random();
      if (!current || roll < 0.08) {
        const label = `${user}#${nextLabel++}`;
        const { op, json, setCookie } = await call('login', user, '/login', { userId: user }, current, label);
        const cookie = /ess_sid=([^;]*)/.exec(setCookie ?? '')?.[1];
        if (op.status === 200 && cookie) {
          if (current) old.push(current);
          current = { label, cookie, sessionId: String(json.sessionId) };
        }
      } else if (roll < 0.55) {
        const { op, json } = await call('request', user, '/me', undefined, current, current.label);
        if (op.status === 200) op.read = (json.note as string | null) ?? null;
      } else if (roll < 0.78) {
        const value = `${current.label}/v${++saves}`;
        const { op, json } = await call('save', user, '/save', { note: value }, current, current.label);
        op.value = value;
        if (op.status === 200) op.read = (json.note as string | null) ?? null;
      } else if (roll < 0.84) {
        await call('logout', user, '/logout', {}, current, current.label);
        old.push(current);
        current = null;
      } else if (roll < 0.87) {
        // An admin ends this user's sessions (or, where the package has revokeSession, this one).
        const one = pick(endpoints).features.includes('revokeSession') && random() < 0.5;
        await call('revoke', user, '/revoke', one ? { userId: user, sessionId: current.sessionId } : { userId: user }, null, one ? current.label : undefined);
      } else if (old.length > 0) {
        // A copied or stale cookie tried again: it must stay refused.
        const stale = pick(old);
        const { op, json } = await call('request', user, '/me', undefined, stale, stale.label);
        if (op.status === 200) op.read = (json.note as string | null) ?? null;
      }
      await new Promise((r) => setTimeout(r, random() * 20));
    }
  }

  const clients: Promise<void>[] = [];
  for (let u = 0; u < options.users; u++) {
    for (let c = 0; c < options.clientsPerUser; c++) clients.push(client(`user-${u}`));
  }
  await Promise.all(clients);
}
