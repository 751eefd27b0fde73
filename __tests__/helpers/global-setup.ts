/**
 * Jest global setup: starts the shared test Redis server(s) once for the whole run and hands
 * their addresses to the test files through environment variables. Test files isolate
 * themselves with a unique key prefix; suites that stop or break Redis start their own.
 */
import { startRedis, type RedisServer } from './redis-servers';

declare global {
  // eslint-disable-next-line no-var
  var __ESS_SERVERS__: RedisServer[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const single = await startRedis();
  process.env.ESS_TEST_REDIS_PORT = String(single.port);
  globalThis.__ESS_SERVERS__ = [single];
}
