/**
 * Jest global setup: starts the shared test Redis deployments once for the whole run (a single
 * server, a 3-master Redis Cluster, and a Sentinel group: master, replica, sentinels) and hands
 * their addresses to the test files through environment variables (ESS_TEST_REDIS_PORT,
 * ESS_TEST_CLUSTER_PORTS, ESS_TEST_SENTINEL_PORTS and ESS_TEST_SENTINEL_NAME). Test files isolate
 * themselves with a unique key prefix; suites that stop or break Redis start their own.
 */
import { startCluster, startRedis, startSentinel } from './redis-servers';

declare global {
  // eslint-disable-next-line no-var
  var __ESS_SERVERS__: { destroy(): Promise<void> }[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  // The integration and e2e projects share one set of servers: the second project's setup finds it running.
  if (globalThis.__ESS_SERVERS__) return;
  const [single, cluster, sentinel] = await Promise.all([
    startRedis(),
    startCluster({ masters: 3 }),
    // No failover here (the scaling suites make their own): the replica syncs at once, and nothing expires under the sentinels.
    startSentinel({ replicas: 1, sentinels: 3, downAfterMs: 30_000, args: ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'] }),
  ]);
  process.env.ESS_TEST_REDIS_PORT = String(single.port);
  process.env.ESS_TEST_CLUSTER_PORTS = cluster.seeds.map((seed) => seed.port).join(',');
  process.env.ESS_TEST_SENTINEL_PORTS = sentinel.sentinelAddresses.map((address) => address.port).join(',');
  process.env.ESS_TEST_SENTINEL_NAME = sentinel.name;
  globalThis.__ESS_SERVERS__ = [single, cluster, sentinel];
}
