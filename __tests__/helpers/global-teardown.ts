/** Jest global teardown: stops what global-setup started. */
export default async function globalTeardown(): Promise<void> {
  const servers = globalThis.__ESS_SERVERS__ ?? [];
  globalThis.__ESS_SERVERS__ = undefined; // each project's teardown runs; the first one stops them
  for (const server of servers) await server.destroy();
}
