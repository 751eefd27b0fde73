/** Jest global teardown: stops what global-setup started. */
export default async function globalTeardown(): Promise<void> {
  for (const server of globalThis.__ESS_SERVERS__ ?? []) await server.destroy();
}
