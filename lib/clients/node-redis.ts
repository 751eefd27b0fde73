/**
 * The node-redis v5 adapter: a client from `createClient()`, `createCluster()` or `createSentinel()`.
 * A command is only handed to node-redis once the connection that will carry it is ready, so
 * node-redis's offline queue never holds one of ours to send it after the request was answered 503.
 * Only types are imported from node-redis: nothing here is required at run time.
 */
import type { RedisClientType, RedisClusterType, RedisSentinelType } from '@redis/client';
import type { ConnectionState, RedisAdapter } from './adapter';
import { nodeRedisSubscriber } from './node-redis-subscriber';
import { slotOf } from './slot';
import type { TrackingTarget } from './tracking';

type Client = RedisClientType;
type Cluster = RedisClusterType;
type Sentinel = RedisSentinelType;
type NodeClient = Client | Cluster | Sentinel;
type Args = (string | Buffer)[];
/** Replies as plain strings, numbers and arrays, whatever `typeMapping` the app's client uses. */
const PLAIN = { typeMapping: {} };

/** True when `client` looks like a node-redis v5 client, Cluster or Sentinel. */
export function isNodeRedis(client: unknown): boolean {
  const candidate = client as { isOpen?: unknown; sendCommand?: unknown; connect?: unknown } | null;
  return !!candidate && typeof candidate.isOpen === 'boolean' && typeof candidate.sendCommand === 'function' && typeof candidate.connect === 'function';
}

/** The kind of node-redis client, from the members only that kind has. */
function kindOf(client: NodeClient): 'client' | 'cluster' | 'sentinel' {
  if (typeof (client as Cluster).nodeClient === 'function') return 'cluster';
  if (typeof (client as Sentinel).getMasterNode === 'function') return 'sentinel';
  return 'client';
}

/** How often a waiting call looks at the connection again. */
const POLL_MS = 10;
/** A waiting call gives up polling after the longest store timeout. */
const POLL_LIMIT_MS = 60_000;
/** A slot whose master is unreachable triggers a topology refresh at most this often. */
const REDISCOVER_MS = 200;

/**
 * Wraps a node-redis client the app owns. A client the app has not connected is connected by the
 * package, once, when the first call needs it; a client the app closed stays closed (`offline`).
 */
export function nodeRedisAdapter(redis: unknown): RedisAdapter {
  const client = redis as NodeClient;
  const kind = kindOf(client);
  /** Set once the client was seen usable: from then on, a closed client was closed on purpose. */
  let everReady = false;
  let connecting = false;
  let ready: Promise<void> | null = null;
  let lastRediscover = 0;

  /**
   * A Cluster is usable once every master it found was connected once; afterwards while it is open
   * (a master that is down then fails only its own slots' calls, fast, in `slotClient`).
   */
  const usable = (): boolean => {
    let ok: boolean;
    if (kind !== 'cluster') ok = (client as Client | Sentinel).isReady;
    else if (everReady) ok = client.isOpen;
    else {
      const { masters } = client as Cluster;
      ok = client.isOpen && masters.length > 0 && masters.every((master) => !master.client || master.client.isReady);
    }
    if (ok) everReady = true;
    return ok;
  };

  function state(): ConnectionState {
    if (usable()) return 'ready';
    if (client.isOpen || !everReady) return 'connecting';
    return 'offline';
  }

  /** The master of the key's slot on a Cluster, connected; throws (without queueing) while it is not. */
  function slotClient(key: string): Client {
    const cluster = client as Cluster;
    const master = cluster.slots[slotOf(key)]?.master;
    if (!master) throw new Error('no master owns the slot of the key right now');
    if (!master.client?.isReady) {
      // Not connected (yet): start connecting, or re-read the topology if it died, but do not queue.
      if (master.client) rediscover(master.client as unknown as Client);
      else cluster.nodeClient(master).catch(() => undefined);
      throw new Error(`the master ${master.host}:${master.port} that owns the key's slot is not connected`);
    }
    return master.client as unknown as Client;
  }

  /** Asks a Cluster client to re-read the topology: node-redis only does so on MOVED, never when a master dies. */
  function rediscover(from: Client): void {
    const now = Date.now();
    if (now - lastRediscover < REDISCOVER_MS) return;
    lastRediscover = now;
    const slots = (client as Cluster)._slots as { rediscover?: (start: Client) => Promise<void> };
    slots.rediscover?.(from).catch(() => undefined);
  }

  /** Sends one command on the connection that owns `firstKey` (a Cluster) or the client's master. */
  async function send(firstKey: string, args: Args): Promise<unknown> {
    if (kind === 'cluster') {
      slotClient(firstKey);
      return (client as Cluster).sendCommand(firstKey, false, args, PLAIN);
    }
    if (kind === 'sentinel') return (client as Sentinel).sendCommand(false, args, PLAIN);
    return (client as Client).sendCommand(args, PLAIN);
  }

  /** Each master's connection: every master of a Cluster, or the client itself. */
  async function masters(): Promise<((args: Args) => Promise<unknown>)[]> {
    if (kind === 'cluster') {
      const cluster = client as Cluster;
      const nodes = await Promise.all(cluster.masters.map((master) => cluster.nodeClient(master)));
      return nodes.map((node) => (args: Args) => node.sendCommand(args, PLAIN));
    }
    if (kind === 'sentinel') return [(args: Args) => (client as Sentinel).sendCommand(false, args, PLAIN)];
    return [(args: Args) => (client as Client).sendCommand(args, PLAIN)];
  }

  const script = (command: string, first: string, keys: readonly string[], args: readonly string[]): Promise<unknown> =>
    send(keys[0] ?? '', [command, first, String(keys.length), ...keys, ...args]);

  return {
    library: 'node-redis',
    isCluster: kind === 'cluster',
    state,
    whenReady() {
      if (!client.isOpen && !everReady && !connecting) {
        connecting = true;
        client.connect().then(
          () => (connecting = false),
          () => (connecting = false),
        );
      }
      return (ready ??= new Promise<void>((resolve) => {
        const started = Date.now();
        const timer = setInterval(() => {
          const ok = usable();
          if (!ok && Date.now() - started < POLL_LIMIT_MS) return;
          clearInterval(timer);
          ready = null;
          if (ok) resolve();
        }, POLL_MS);
        timer.unref();
      }));
    },
    evalsha: (sha, keys, args) => script('EVALSHA', sha, keys, args),
    // Commands sent in one tick: node-redis writes them together (one round trip), each routed by its first key.
    pipeline: (commands) => Promise.all(commands.map((command) => send(command[1] ?? '', [...command]))),
    subscriber: (handlers) => nodeRedisSubscriber(client, kind === 'cluster', handlers),
    trackingTarget: kind === 'client' ? () => trackingTarget(client as Client) : undefined,
    eval: (source, keys, args) => script('EVAL', source, keys, args),
    async wait(routingKey, replicas, timeoutMs) {
      const args = ['WAIT', String(replicas), String(timeoutMs)];
      if (kind === 'cluster') return Number(await slotClient(routingKey).sendCommand(args, PLAIN));
      return Number(await send(routingKey, args));
    },
    async *scan(pattern, count) {
      for (const node of await masters()) {
        let cursor = '0';
        do {
          const [next, keys] = (await node(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(count)])) as [string, string[]];
          cursor = String(next);
          if (keys.length > 0) yield keys.map(String);
        } while (cursor !== '0');
      }
    },
  };
}

/**
 * The server a plain client connects to, with its login and database, from its public `options` (a URL
 * is parsed into them by node-redis). A Sentinel client keeps its connection options private: none.
 */
function trackingTarget(client: Client): TrackingTarget | null {
  if (!client.isReady) return null;
  const { socket = {}, username, password, database } = client.options ?? {};
  const { host, port, path, tls, ...rest } = socket as { host?: string; port?: number; path?: string; tls?: boolean } & Record<string, unknown>;
  const where = path ? { path } : { host: host ?? 'localhost', port: port ?? 6379 };
  return { ...where, username, password, db: database, tls: tls ? (rest as TrackingTarget['tls']) : null };
}
