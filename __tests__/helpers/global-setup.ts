/**
 * Jest global setup: starts the shared test Redis deployments once for the whole run (a single
 * server and a 3-master Redis Cluster) and hands their addresses to the test files through
 * environment variables (ESS_TEST_REDIS_PORT, ESS_TEST_CLUSTER_PORTS). Test files isolate
 * themselves with a unique key prefix; suites that stop or break Redis start their own.
 */
import { startCluster, startRedis } from './redis-servers';

declare global {
  // eslint-disable-next-line no-var
  var __ESS_SERVERS__: { destroy(): Promise<void> }[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  // The integration and e2e projects share one set of servers: the second project's setup finds it running.
  if (globalThis.__ESS_SERVERS__) return;
  const [single, cluster] = await Promise.all([startRedis(), startCluster({ masters: 3 })]);
  process.env.ESS_TEST_REDIS_PORT = String(single.port);
  process.env.ESS_TEST_CLUSTER_PORTS = cluster.seeds.map((seed) => seed.port).join(',');
  globalThis.__ESS_SERVERS__ = [single, cluster];
}
