/**
 * The one helper that starts and stops private redis-server processes for tests, on free
 * loopback ports, in throwaway folders: single servers, Redis Clusters (with replicas) and
 * Sentinel groups. Waits by polling (PING, CLUSTER INFO, SENTINEL ...), never by fixed sleeps.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../demo-app/private-redis';

/** A running private redis-server. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** True while the process is up (between start/restart and stop). */
  readonly running: boolean;
  /** Stops the process (SIGKILL with `hard`), keeping its data folder. */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts it again on the same port and folder (AOF data comes back if enabled). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered until {@link thaw}. */
  freeze(): void;
  /** Resumes a frozen process (SIGCONT); it then runs what its clients sent meanwhile. */
  thaw(): void;
}

/** A free TCP port on 127.0.0.1 (the demo's helper; one implementation for both). */
export { freePort };

/** One raw `PING` over a fresh socket: true on `+PONG`. No client library, so nothing lingers. */
function pingOnce(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

/** Resolves once `PING` answers on host:port, or rejects after `timeoutMs`. */
export async function waitForPing(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pingOnce(port, host))) {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a private redis-server. `args` are extra command-line options, e.g. ['--appendonly', 'yes']. */
export async function startRedis(args: string[] = [], options: { port?: number; dir?: string } = {}): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ess-redis-'));
    const argv = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args];
    try {
      return await launchServer(port, dir, argv);
    } catch (err) {
      // A port found free can be taken before redis-server binds it (parallel workers, outgoing
      // connections use the same range): a port we chose is chosen again, a port the caller gave is not.
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
      if (options.port !== undefined || attempt >= 5 || !(err instanceof PortTaken)) throw err;
    }
  }
}

/** redis-server could not have the port: it exited at start, or another server answers there. */
export class PortTaken extends Error {}

/** Spawns `redis-server argv`, waits for PING, and wraps the process in a {@link RedisServer}. */
async function launchServer(port: number, dir: string, argv: string[]): Promise<RedisServer> {
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', argv, { stdio: 'ignore' });
    child = proc;
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (err) => reject(new Error(`could not start redis-server (install it: apt-get install -y redis-server): ${err.message}`)));
      proc.once('exit', (code) => reject(new PortTaken(`redis-server on port ${port} exited early with code ${code}`)));
    });
    failed.catch(() => undefined);
    await Promise.race([waitForPing(port), failed]);
    // The PING may have been answered by another test's server that has the port: make sure it is ours.
    const pid = parseInfo(String(await redisCommand(port, 'INFO', 'server'))).get('process_id');
    if (pid !== String(proc.pid)) {
      proc.kill('SIGKILL');
      throw new PortTaken(`port ${port} is served by another redis-server (process ${pid})`);
    }
  };

  const stop = async ({ hard = false } = {}): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => {
    const proc = child as ChildProcess | null;
    if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) throw new Error(`redis-server on port ${port} is not running`);
    process.kill(proc.pid, name);
  };

  await launch();
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== null;
    },
    stop,
    restart: launch,
    async destroy() {
      await stop({ hard: true });
      rmSync(dir, { recursive: true, force: true });
    },
    freeze() {
      signal('SIGSTOP');
    },
    thaw() {
      signal('SIGCONT');
    },
  };
}

/** Polls `check` every `intervalMs` until it returns a truthy value (errors count as "not yet"). */
export async function waitUntil<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Sends one command to 127.0.0.1:port on a short-lived connection that never retries. */
export async function redisCommand(port: number, command: string, ...args: (string | number)[]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(command, ...args);
  } finally {
    client.disconnect();
  }
}

/** `INFO`-style `name:value` lines as a map. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 15_000 + Math.floor(Math.random() * 30_000);
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
  throw new Error('found no free pair of ports for a cluster node');
}

/** A private Redis Cluster on loopback. */
export interface RedisCluster {
  /** Every node, masters and replicas, in creation order. */
  readonly nodes: RedisServer[];
  /** Seed addresses for `new Cluster(seeds)`. */
  readonly seeds: { host: string; port: number }[];
  /** The node with this port. */
  node(port: number): RedisServer;
  /** Ports of the nodes that are masters (and not failed) now, as a live node sees it. */
  masterPorts(): Promise<number[]>;
  /** Ports of the replicas of the master on `port`, as a live node sees it. */
  replicaPortsOf(port: number): Promise<number[]>;
  /** Polls until every node still running reports `cluster_state:ok`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes their folders. */
  destroy(): Promise<void>;
}

interface ClusterNodeLine {
  id: string;
  port: number;
  flags: string[];
  masterId: string;
}

function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId] = line.split(' ');
      return { id, port: Number(address.split('@')[0].split(':')[1]), flags: flags.split(','), masterId };
    });
}

/**
 * Starts a Redis Cluster of `masters` masters with `replicas` replicas each, created with
 * `redis-cli --cluster create`, and waits until every node reports `cluster_state:ok` and every
 * replica is in sync. A short `nodeTimeoutMs` makes failovers take seconds. `args` are extra
 * redis-server options for every node, e.g. ['--cluster-require-full-coverage', 'no'].
 */
export async function startCluster({ masters = 3, replicas = 0, nodeTimeoutMs = 1000, args = [] as string[] } = {}): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const live = (): RedisServer[] => nodes.filter((n) => n.running);
  const destroy = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.destroy()));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      for (let attempt = 1; ; attempt++) {
        const port = await freeClusterPort();
        try {
          nodes.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs), ...args], { port }));
          break;
        } catch (err) {
          // The port or its bus port (+10000) was taken between the check and the bind: another pair.
          if (attempt >= 5 || !(err instanceof PortTaken)) throw err;
        }
      }
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes']);
    for (const n of nodes) {
      await waitUntil(`node ${n.port} to see all ${nodes.length} nodes and all slots`, async () => {
        const info = parseInfo(String(await redisCommand(n.port, 'CLUSTER', 'INFO')));
        return info.get('cluster_state') === 'ok' && Number(info.get('cluster_known_nodes')) === nodes.length;
      });
    }
    for (const n of nodes) {
      await waitUntil(`node ${n.port} to be a master or an in-sync replica`, async () => {
        const info = parseInfo(String(await redisCommand(n.port, 'INFO', 'replication')));
        return info.get('role') === 'master' || info.get('master_link_status') === 'up';
      });
    }
  } catch (err) {
    await destroy();
    throw err;
  }

  const clusterNodes = async (): Promise<ClusterNodeLine[]> => {
    for (const n of live()) {
      try {
        return parseClusterNodes(String(await redisCommand(n.port, 'CLUSTER', 'NODES')));
      } catch {
        // try the next live node
      }
    }
    throw new Error('no cluster node answered CLUSTER NODES');
  };

  return {
    nodes,
    seeds: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    node(port) {
      const found = nodes.find((n) => n.port === port);
      if (!found) throw new Error(`no cluster node on port ${port}`);
      return found;
    },
    async masterPorts() {
      return (await clusterNodes()).filter((l) => l.flags.includes('master') && !l.flags.includes('fail')).map((l) => l.port);
    },
    async replicaPortsOf(port) {
      const lines = await clusterNodes();
      const master = lines.find((l) => l.port === port);
      return lines.filter((l) => master && l.masterId === master.id).map((l) => l.port);
    },
    async waitHealthy(timeoutMs = 20_000) {
      for (const n of live()) {
        await waitUntil(`node ${n.port} to report cluster_state:ok`, async () => {
          return parseInfo(String(await redisCommand(n.port, 'CLUSTER', 'INFO'))).get('cluster_state') === 'ok';
        }, timeoutMs);
      }
    },
    destroy,
  };
}

/** A private Sentinel group: one master, its replicas and the sentinels watching them. */
export interface RedisSentinelGroup {
  /** The master name the sentinels monitor (`new Redis({ sentinels, name })`). */
  readonly name: string;
  /** The server that was master at start. */
  readonly master: RedisServer;
  readonly replicas: RedisServer[];
  readonly sentinels: RedisServer[];
  /** Sentinel addresses for `new Redis({ sentinels, name })`. */
  readonly sentinelAddresses: { host: string; port: number }[];
  /** The master's port as every running sentinel names it (`SENTINEL get-master-addr-by-name`); null while they disagree. */
  masterPort(): Promise<number | null>;
  /** Stops everything and removes the folders. */
  destroy(): Promise<void>;
}

/**
 * Starts a master, `replicas` replicas and `sentinels` sentinels (quorum: a majority), each sentinel
 * with its own writable config file, and waits until every sentinel sees all replicas and all other
 * sentinels, so a failover can start as soon as the master is gone.
 */
export async function startSentinel({ name = 'ess-master', replicas = 1, sentinels = 3, downAfterMs = 1000, failoverTimeoutMs = 3000, args = [] as string[] } = {}): Promise<RedisSentinelGroup> {
  const all: RedisServer[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(all.map((s) => s.destroy()));
  };
  const group = { name, replicas: [] as RedisServer[], sentinels: [] as RedisServer[] } as { -readonly [K in keyof RedisSentinelGroup]: RedisSentinelGroup[K] };
  try {
    group.master = await startRedis(args);
    all.push(group.master);
    for (let i = 0; i < replicas; i++) {
      const replica = await startRedis([...args, '--replicaof', '127.0.0.1', String(group.master.port)]);
      all.push(replica);
      group.replicas.push(replica);
      await waitUntil(`replica ${replica.port} to sync`, async () => {
        return parseInfo(String(await redisCommand(replica.port, 'INFO', 'replication'))).get('master_link_status') === 'up';
      });
    }
    const quorum = Math.floor(sentinels / 2) + 1;
    for (let i = 0; i < sentinels; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'ess-sentinel-'));
      const config = join(dir, 'sentinel.conf');
      writeFileSync(config, [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${group.master.port} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'));
      const sentinel = await launchServer(port, dir, [config, '--sentinel']);
      all.push(sentinel);
      group.sentinels.push(sentinel);
    }
    for (const s of group.sentinels) {
      await waitUntil(`sentinel ${s.port} to see ${replicas} replica(s) and ${sentinels - 1} other sentinel(s)`, async () => {
        const reply = (await redisCommand(s.port, 'SENTINEL', 'MASTER', name)) as string[];
        const fields = new Map<string, string>();
        for (let i = 0; i < reply.length; i += 2) fields.set(reply[i], reply[i + 1]);
        return Number(fields.get('num-slaves')) === replicas && Number(fields.get('num-other-sentinels')) === sentinels - 1;
      });
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  group.sentinelAddresses = group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
  group.masterPort = async () => {
    const ports = new Set<number>();
    for (const s of group.sentinels.filter((x) => x.running)) {
      const [, port] = (await redisCommand(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as [string, string];
      ports.add(Number(port));
    }
    return ports.size === 1 ? [...ports][0] : null;
  };
  group.destroy = destroy;
  return group;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
