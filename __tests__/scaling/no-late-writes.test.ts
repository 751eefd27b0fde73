/**
 * No late writes: with the Redis node that owns a user's slot frozen (SIGSTOP) for longer than
 * `storeTimeoutMs`, every write is answered SESSION_STORE_UNAVAILABLE by the timer, and when the node
 * resumes and finally runs the script (proved by its command statistics), the script does nothing:
 * sign-in displaces nobody and creates no session, save leaves the data, sign-out, revokeSession()
 * and revokeUser() leave the session live. On a single Redis, on a Cluster (the owning master frozen)
 * and behind Sentinel (the master frozen).
 */
import type { Express } from 'express';
import { Cluster, Redis } from 'ioredis';
import request from 'supertest';
import type { SessionManager } from '../../lib';
import { buildApp } from '../helpers/app';
import { parseInfo, redisCommand, startCluster, startRedis, startSentinel, type RedisCluster, type RedisServer } from '../helpers/redis-servers';
import { uniquePrefix } from '../helpers/targets';
import { userTagOf } from '../../lib/token';

const STORE_TIMEOUT_MS = 500;
/** What may come on top of `storeTimeoutMs` before the timer's answer arrives on a loaded 2-core machine. */
const ANSWER_MARGIN_MS = 700;

/** A deployment whose nodes the test may freeze. */
interface Frozen {
  readonly client: Redis | Cluster;
  /** The server holding keys under `prefix`. */
  ownerOf(prefix: string): Promise<RedisServer>;
  /** Resolves once `server` has answered a PING sent on the app's own connection to it, i.e. after all it had queued. */
  drain(server: RedisServer): Promise<void>;
  destroy(): Promise<void>;
}

async function singleRedis(): Promise<Frozen> {
  const server = await startRedis();
  const client = new Redis({ host: '127.0.0.1', port: server.port });
  return {
    client,
    ownerOf: async () => server,
    drain: async () => {
      await client.ping();
    },
    destroy: async () => {
      client.disconnect();
      await server.destroy();
    },
  };
}

async function redisCluster(): Promise<Frozen> {
  // A node timeout far above the freeze: the cluster must not mark the frozen master as failed.
  const cluster: RedisCluster = await startCluster({ masters: 3, nodeTimeoutMs: 15_000 });
  const client = new Cluster(cluster.seeds);
  client.on('error', () => undefined);
  return {
    client,
    async ownerOf(prefix) {
      for (const port of await cluster.masterPorts()) {
        const [, keys] = (await redisCommand(port, 'SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '1000')) as [string, string[]];
        if (keys.length > 0) return cluster.node(port);
      }
      throw new Error(`no master holds keys under ${prefix}`);
    },
    async drain(server) {
      const node = client.nodes('master').find((n) => n.options.port === server.port);
      if (!node) throw new Error(`the client has no connection to master ${server.port}`);
      await node.ping();
    },
    destroy: async () => {
      client.disconnect();
      await cluster.destroy();
    },
  };
}

/** A master with a replica behind three sentinels, reached through the sentinels; the master is frozen. */
async function redisSentinel(): Promise<Frozen> {
  // Sentinels that wait far longer than the freeze: no failover, the frozen master stays the master.
  const group = await startSentinel({ downAfterMs: 30_000 });
  const client = new Redis({ sentinels: group.sentinelAddresses, name: group.name });
  client.on('error', () => undefined);
  return {
    client,
    ownerOf: async () => group.master,
    drain: async () => {
      await client.ping();
    },
    destroy: async () => {
      client.disconnect();
      await group.destroy();
    },
  };
}

/** Scripts Redis has run (EVALSHA and EVAL calls) since the last CONFIG RESETSTAT. */
async function scriptsRun(server: RedisServer): Promise<number> {
  const stats = parseInfo(String(await redisCommand(server.port, 'INFO', 'commandstats')));
  const calls = (name: string) => Number(/calls=(\d+)/.exec(stats.get(`cmdstat_${name}`) ?? '')?.[1] ?? 0);
  return calls('evalsha') + calls('eval');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ['single Redis', singleRedis],
  ['Redis Cluster (the master owning the user frozen)', redisCluster],
  ['Redis Sentinel (the master frozen)', redisSentinel],
])('no late writes: %s', (_name, start) => {
  let deployment: Frozen;
  let app: Express;
  let sessions: SessionManager;
  let prefix: string;
  /** A gate the gated routes wait at after their session resolved: the test freezes Redis, then opens it. */
  let gate: { reached: Promise<void>; open(): void };

  function newGate(): void {
    let reached!: () => void;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    gate = { reached: new Promise<void>((resolve) => (reached = resolve)), open };
    gateWait = async () => {
      reached();
      await opened;
    };
  }
  let gateWait: () => Promise<void>;

  beforeAll(async () => {
    deployment = await start();
  }, 60_000);

  afterAll(async () => {
    await deployment?.destroy();
  });

  beforeEach(() => {
    prefix = uniquePrefix();
    newGate();
    // touchAfter 0: the request path's refresh runs inside resolve, before the gate, never during the freeze.
    ({ app, sessions } = buildApp(deployment.client, { keyPrefix: prefix, storeTimeoutMs: STORE_TIMEOUT_MS, touchAfter: 0 }, (routes, manager) => {
      routes.post('/gated/save', manager.requireSession(), async (req, res, next) => {
        await gateWait();
        try {
          req.session!.note = 'after';
          await req.session!.save();
          res.json({ saved: true });
        } catch (err) {
          next(err);
        }
      });
      routes.post('/gated/logout', async (req, res, next) => {
        await gateWait();
        try {
          await manager.logout(req, res);
          res.status(204).end();
        } catch (err) {
          next(err);
        }
      });
      routes.post('/gated/reauthenticate', manager.requireSession(), async (req, res, next) => {
        await gateWait();
        try {
          await manager.reauthenticate(req, res);
          res.json({ reauthenticated: true });
        } catch (err) {
          next(err);
        }
      });
    }));
  });

  /** Signs `userId` in with `note: 'before'`; returns its cookie, session id and the node owning its keys. */
  async function signIn(userId: string) {
    const res = await request(app).post('/login').send({ userId, data: { note: 'before' } });
    expect(res.status).toBe(200);
    return { cookie: res.headers['set-cookie'] as unknown as string[], sessionId: res.body.sessionId as string, owner: await deployment.ownerOf(prefix) };
  }

  /**
   * Freezes `owner`, runs `attempt` (which must be answered by the store timer), keeps Redis frozen past
   * the write's deadline, resumes it and waits until it has run what was queued. Returns how long the
   * answer took and how many scripts Redis ran after resuming.
   */
  async function whileFrozen(owner: RedisServer, attempt: () => Promise<void>): Promise<{ answeredMs: number; scripts: number }> {
    await redisCommand(owner.port, 'CONFIG', 'RESETSTAT');
    owner.freeze();
    let answeredMs: number;
    try {
      const started = performance.now();
      await attempt();
      answeredMs = performance.now() - started;
      await sleep(300); // Redis's clock is now past the deadline the write carries.
    } finally {
      owner.thaw();
    }
    await deployment.drain(owner);
    return { answeredMs, scripts: await scriptsRun(owner) };
  }

  /** The user's session `sessionId` is still the only one, live, with its data as before. */
  async function expectUntouched(userId: string, cookie: string[], sessionId: string, note = 'before'): Promise<void> {
    const me = await request(app).get('/me').set('Cookie', cookie);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId, sessionId, note });
    expect((await sessions.listSessions(userId)).map((s) => s.sessionId)).toEqual([sessionId]);
  }

  test('login() answered 503 by the timer never displaces the session Redis kept, nor creates one', async () => {
    const { cookie, sessionId, owner } = await signIn('frozen-login');
    let status = 0;
    const { answeredMs, scripts } = await whileFrozen(owner, async () => {
      status = (await request(app).post('/login').send({ userId: 'frozen-login', data: { note: 'late' } })).status;
    });
    expect(status).toBe(503);
    expect(answeredMs).toBeLessThan(STORE_TIMEOUT_MS + ANSWER_MARGIN_MS);
    expect(scripts).toBeGreaterThanOrEqual(1); // the sign-in script did reach Redis, after its deadline
    await expectUntouched('frozen-login', cookie, sessionId);
    // One index and one session record: no record of a session whose cookie nobody received.
    const [, keys] = (await redisCommand(owner.port, 'SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '1000')) as [string, string[]];
    expect(keys.filter((key) => !key.endsWith(':v2'))).toHaveLength(1);
  });

  test('a save answered 503 leaves the data as it was', async () => {
    const { cookie, sessionId, owner } = await signIn('frozen-save');
    const pending = request(app).post('/gated/save').set('Cookie', cookie).then((res) => res);
    await gate.reached;
    let status = 0;
    const { answeredMs, scripts } = await whileFrozen(owner, async () => {
      gate.open();
      status = (await pending).status;
    });
    expect(status).toBe(503);
    expect(answeredMs).toBeLessThan(STORE_TIMEOUT_MS + ANSWER_MARGIN_MS);
    expect(scripts).toBeGreaterThanOrEqual(1);
    await expectUntouched('frozen-save', cookie, sessionId, 'before');
  });

  test('logout() answered 503 leaves the session live', async () => {
    const { cookie, sessionId, owner } = await signIn('frozen-logout');
    const pending = request(app).post('/gated/logout').set('Cookie', cookie).then((res) => res);
    await gate.reached;
    let res: request.Response | undefined;
    const { answeredMs, scripts } = await whileFrozen(owner, async () => {
      gate.open();
      res = await pending;
    });
    expect(res!.status).toBe(503);
    expect(res!.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
    expect(res!.headers['set-cookie']).toBeUndefined(); // the cookie is kept: the user can retry
    expect(answeredMs).toBeLessThan(STORE_TIMEOUT_MS + ANSWER_MARGIN_MS);
    expect(scripts).toBeGreaterThanOrEqual(1);
    await expectUntouched('frozen-logout', cookie, sessionId);
  });

  test('reauthenticate() answered 503 keeps the old token working and hands out no new one', async () => {
    const { cookie, sessionId, owner } = await signIn('frozen-reauth');
    const pending = request(app).post('/gated/reauthenticate').set('Cookie', cookie).then((res) => res);
    await gate.reached;
    let res: request.Response | undefined;
    const { scripts } = await whileFrozen(owner, async () => {
      gate.open();
      res = await pending;
    });
    expect(res!.status).toBe(503);
    expect(res!.headers['set-cookie']).toBeUndefined();
    expect(scripts).toBeGreaterThanOrEqual(1);
    await expectUntouched('frozen-reauth', cookie, sessionId);
  });

  test('revokeSession() and revokeUser() rejected SESSION_STORE_UNAVAILABLE leave the session live', async () => {
    const { cookie, sessionId, owner } = await signIn('frozen-revoke');
    for (const revoke of [() => sessions.revokeSession('frozen-revoke', sessionId), () => sessions.revokeUser('frozen-revoke')]) {
      let outcome: unknown;
      const { answeredMs, scripts } = await whileFrozen(owner, async () => {
        outcome = await revoke().then((value) => ({ value }), (err: unknown) => err);
      });
      expect(outcome).toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE' });
      expect(answeredMs).toBeLessThan(STORE_TIMEOUT_MS + ANSWER_MARGIN_MS);
      expect(scripts).toBeGreaterThanOrEqual(1);
      await expectUntouched('frozen-revoke', cookie, sessionId);
    }
  });
});

/**
 * Signing in as another user on a browser that holds a session is two writes in two slots (end the
 * old session, create the new one). Whichever fails, the browser is left signed out or unchanged,
 * never with a live session whose cookie nobody received: the old session ends first.
 */
describe('sign-in as another user on a Redis Cluster, one master frozen', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let app: Express;
  let sessions: SessionManager;

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, nodeTimeoutMs: 15_000 });
    client = new Cluster(cluster.seeds);
    client.on('error', () => undefined);
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.destroy();
  });

  beforeEach(() => {
    ({ app, sessions } = buildApp(client, { keyPrefix: uniquePrefix(), storeTimeoutMs: STORE_TIMEOUT_MS, touchAfter: 0 }));
  });

  /** The port of the master owning `userId`'s slot. */
  async function ownerPort(userId: string): Promise<number> {
    const port = cluster.seeds[0].port;
    const slot = Number(await redisCommand(port, 'CLUSTER', 'KEYSLOT', `{${userTagOf(userId)}}`));
    const ranges = (await redisCommand(port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no master serves slot ${slot}`);
    return Number(range[2][1]);
  }

  /** Two users whose keys live on different masters, and those masters' ports. */
  async function usersOnTwoMasters(name: string) {
    const oldUser = `${name}-old`;
    const oldPort = await ownerPort(oldUser);
    for (let i = 0; i < 100; i++) {
      const newUser = `${name}-new-${i}`;
      const newPort = await ownerPort(newUser);
      if (newPort !== oldPort) return { oldUser, newUser, oldPort, newPort };
    }
    throw new Error('no user id on another master');
  }

  /** Signs `oldUser` in, then `newUser` on the same browser while the master on `frozenPort` is frozen. */
  async function switchUserWhileFrozen(oldUser: string, newUser: string, frozenPort: number) {
    const first = await request(app).post('/login').send({ userId: oldUser });
    expect(first.status).toBe(200);
    const cookie = first.headers['set-cookie'] as unknown as string[];
    const frozen = cluster.node(frozenPort);
    let res: request.Response;
    frozen.freeze();
    try {
      res = await request(app).post('/login').set('Cookie', cookie).send({ userId: newUser });
      await sleep(300); // Redis's clock is now past the deadline of the write the frozen master holds.
    } finally {
      frozen.thaw();
    }
    // The frozen master has run what it had queued (the late write, a no-op) once it answers the app's connection.
    await client.nodes('master').find((node) => node.options.port === frozenPort)!.ping();
    return { res, cookie, sessionId: first.body.sessionId as string };
  }

  test('the new user\'s master fails: the old session has ended and its cookie is cleared; no session of the new user is live', async () => {
    const { oldUser, newUser, newPort } = await usersOnTwoMasters('switch-a');
    const { res, cookie } = await switchUserWhileFrozen(oldUser, newUser, newPort);
    expect(res.status).toBe(503);
    expect(String(res.headers['set-cookie'])).toMatch(/ess_sid=;/);
    expect(await sessions.listSessions(oldUser)).toEqual([]);
    expect((await request(app).get('/me').set('Cookie', cookie)).status).toBe(401);
    expect(await sessions.listSessions(newUser)).toEqual([]);
  });

  test('the old user\'s master fails: nothing changed, the old session and its cookie still work; no session of the new user is live', async () => {
    const { oldUser, newUser, oldPort } = await usersOnTwoMasters('switch-b');
    const { res, cookie, sessionId } = await switchUserWhileFrozen(oldUser, newUser, oldPort);
    expect(res.status).toBe(503);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await sessions.listSessions(newUser)).toEqual([]);
    const me = await request(app).get('/me').set('Cookie', cookie);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId: oldUser, sessionId });
  });
});
