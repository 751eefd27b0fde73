/**
 * The Redis deployments the behaviour suites run against ("one suite, several targets").
 * Each target hands out an ioredis client connected to a shared deployment started by
 * global-setup (a single server, a 3-master Redis Cluster), and a unique key prefix so
 * test files never see each other's data.
 */
import { randomUUID } from 'node:crypto';
import Redis, { Cluster } from 'ioredis';

/** One deployment the behaviour suite runs against. */
export interface Target {
  readonly name: string;
  /** A new client the test owns (disconnect it in afterAll). */
  connect(): Redis | Cluster;
}

const single: Target = {
  name: 'single Redis',
  connect() {
    const port = Number(process.env.ESS_TEST_REDIS_PORT);
    if (!port) throw new Error('ESS_TEST_REDIS_PORT is not set: run the tests through jest (npm test), whose global setup starts Redis.');
    return new Redis({ host: '127.0.0.1', port });
  },
};

const cluster: Target = {
  name: 'Redis Cluster',
  connect() {
    const ports = (process.env.ESS_TEST_CLUSTER_PORTS ?? '').split(',').filter(Boolean).map(Number);
    if (ports.length === 0) throw new Error('ESS_TEST_CLUSTER_PORTS is not set: run the tests through jest (npm test), whose global setup starts the cluster.');
    return new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
  },
};

/** Every target the behaviour suite runs against. */
export const TARGETS: Target[] = [single, cluster];

/** A key prefix no other test file uses. */
export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}:`;
}
