/**
 * The Redis deployments of a chaos run (master + replica + 3 Sentinels, or a 3-master Cluster
 * with a replica each), started with the test helper on loopback, and the faults injected into
 * them: kill -9 of a master (optionally with its replica lagging behind), SIGSTOP/SIGCONT, kill and
 * restart with AOF, CLIENT KILL, DEBUG SLEEP. Each fault returns once the deployment is healed.
 */
import { startCluster, startSentinel, redisCommand, parseInfo, waitUntil, type RedisServer } from '../__tests__/helpers/redis-servers';

/** What an app process needs to find Redis (chaos/app-process.ts ESS_REDIS). */
export type Target = { cluster: number[] } | { sentinels: number[]; name: string };

/** A running deployment. */
export interface Topology {
  readonly name: 'sentinel' | 'cluster';
  readonly target: Target;
  /** Ports of the masters now. */
  masters(): Promise<number[]>;
  node(port: number): RedisServer;
  /** Waits until a master (not `killed`) serves every key again. */
  waitFailedOver(killed: number): Promise<void>;
  /** Waits until the node on `port` is a replica in sync again. */
  waitReplicaSynced(port: number): Promise<void>;
  /** Ports of the replicas of the master on `port`. */
  replicasOf(port: number): Promise<number[]>;
  destroy(): Promise<void>;
}

/** Data-node options: AOF, fsync always (a restart keeps what was acknowledged), DEBUG from loopback, fast sync. */
const DATA_NODE_ARGS = ['--appendonly', 'yes', '--appendfsync', 'always', '--enable-debug-command', 'local', '--repl-diskless-sync-delay', '0'];

/** Starts the deployment. Failure detection takes about 1 s (down-after / cluster-node-timeout). */
export async function startTopology(name: 'sentinel' | 'cluster'): Promise<Topology> {
  const replicaSynced = async (port: number): Promise<void> => {
    await waitUntil(`node ${port} to be an in-sync replica`, async () => {
      const info = parseInfo(String(await redisCommand(port, 'INFO', 'replication')));
      return info.get('role') === 'slave' && info.get('master_link_status') === 'up';
    }, 30_000);
  };

  if (name === 'sentinel') {
    const group = await startSentinel({ replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000, args: DATA_NODE_ARGS });
    const data = [group.master, ...group.replicas];
    const current = async () => (await group.masterPort()) ?? group.master.port;
    return {
      name,
      target: { sentinels: group.sentinels.map((s) => s.port), name: group.name },
      masters: async () => [await current()],
      node: (port) => data.find((n) => n.port === port)!,
      waitFailedOver: (killed) => waitUntil('the sentinels to promote a replica', async () => {
        const port = await group.masterPort();
        return port !== null && port !== killed && parseInfo(String(await redisCommand(port, 'INFO', 'replication'))).get('role') === 'master';
      }, 30_000).then(() => undefined),
      waitReplicaSynced: replicaSynced,
      replicasOf: async (port) => data.filter((n) => n.port !== port && n.running).map((n) => n.port),
      destroy: () => group.destroy(),
    };
  }

  const cluster = await startCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000, args: [...DATA_NODE_ARGS, '--cluster-require-full-coverage', 'no'] });
  return {
    name,
    target: { cluster: cluster.seeds.map((s) => s.port) },
    masters: () => cluster.masterPorts(),
    node: (port) => cluster.node(port),
    waitFailedOver: async (killed) => {
      await waitUntil('a replica to take over the killed master\'s slots', async () => !(await cluster.masterPorts()).includes(killed), 30_000);
      await cluster.waitHealthy(30_000);
    },
    waitReplicaSynced: replicaSynced,
    replicasOf: (port) => cluster.replicaPortsOf(port),
    destroy: () => cluster.destroy(),
  };
}

/** The process id of the redis-server on `port`. */
async function pidOf(port: number): Promise<number> {
  return Number(parseInfo(String(await redisCommand(port, 'INFO', 'server'))).get('process_id'));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fault kinds the scheduler knows. */
export const FAULT_KINDS = ['kill-master', 'sigstop', 'restart-aof', 'client-kill', 'debug-sleep'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Injects one fault on `master` and returns once healed, with a description of the target.
 * `stallMs` is how long SIGSTOP and DEBUG SLEEP last; `lagMs` (0: none) cuts the master's
 * replication link that long before the kill, so writes acknowledged in that time never reach a replica.
 */
export async function inject(topology: Topology, kind: FaultKind, master: number, options: { stallMs: number; lagMs: number }): Promise<string> {
  const { stallMs, lagMs } = options;
  const lagging = lagMs > 0;
  const server = topology.node(master);
  switch (kind) {
    case 'kill-master': {
      // Lagging: freeze the replicas, then cut their links, so they cannot reconnect and catch up
      // from the backlog; what the master acknowledges in the next lagMs never reaches them.
      const frozen = lagging ? await Promise.all((await topology.replicasOf(master)).map(pidOf)) : [];
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      if (lagging) {
        await redisCommand(master, 'CLIENT', 'KILL', 'TYPE', 'replica');
        await sleep(lagMs);
      }
      await server.stop({ hard: true });
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      await topology.waitFailedOver(master);
      await server.restart();
      await topology.waitReplicaSynced(master).catch(async (err: Error) => {
        // Seen on Sentinel after earlier AOF restarts of the same node: the sentinels never turned
        // the restarted old master into a replica. Do what an operator would: point it at the new master.
        // The sentinels may still name the restarted node: never point a node at itself.
        const current = (await topology.masters()).find((port) => port !== master) ?? (await topology.replicasOf(master))[0];
        process.stderr.write(`chaos: ${err.message}; sending REPLICAOF 127.0.0.1 ${current} to ${master}\n`);
        if (topology.name === 'sentinel') await redisCommand(master, 'REPLICAOF', '127.0.0.1', current);
        await topology.waitReplicaSynced(master);
      });
      return `master ${master}${lagging ? ` (replication cut ${lagMs} ms before)` : ''}`;
    }
    case 'sigstop': {
      const pid = await pidOf(master);
      process.kill(pid, 'SIGSTOP');
      await sleep(stallMs);
      process.kill(pid, 'SIGCONT');
      return `master ${master} for ${stallMs} ms`;
    }
    case 'restart-aof':
      await server.stop({ hard: true });
      await server.restart();
      return `master ${master} (kill -9, restart from AOF)`;
    case 'client-kill':
      await redisCommand(master, 'CLIENT', 'KILL', 'TYPE', 'normal');
      return `clients of master ${master}`;
    case 'debug-sleep':
      await redisCommand(master, 'DEBUG', 'SLEEP', (stallMs / 1000).toFixed(3));
      return `master ${master} for ${stallMs} ms`;
  }
}
