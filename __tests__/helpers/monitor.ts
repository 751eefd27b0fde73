/**
 * Counting what an app's client sends, with MONITOR on a private server: follow one client address,
 * and collect the command names sent while a run ran (an ECHO marker before and after makes sure every
 * command sent in between has reached MONITOR's output).
 */
import Redis from 'ioredis';
import { sleep } from './suite';

/** Watches a private server; `stop()` it in afterAll (stopping twice is harmless). */
export async function watchCommands(server: { host: string; port: number }) {
  const source = new Redis(server.port, server.host);
  const monitor = await source.monitor();
  const seen: string[][] = [];
  let address = '';
  let watching = true;
  monitor.on('monitor', (_time: string, args: string[], from: string) => {
    if (from === address) seen.push(args);
  });

  /** Sends an ECHO marker through `echo` and waits until MONITOR shows it. */
  async function flush(echo: (marker: string) => Promise<unknown>): Promise<void> {
    const marker = `marker-${Math.random()}`;
    await echo(marker);
    const deadline = Date.now() + 5000;
    while (!seen.some((args) => args[1] === marker)) {
      if (Date.now() > deadline) throw new Error('MONITOR did not show the marker within 5 s');
      await sleep(5);
    }
  }

  return {
    /** Follows the client at `clientAddress` (the `addr` of its CLIENT INFO). */
    follow(clientAddress: string): void {
      address = clientAddress;
    },
    flush,
    /** The command names the followed client sent while `run` ran; `echo` sends ECHO from that client. */
    async commandsDuring(echo: (marker: string) => Promise<unknown>, run: () => Promise<unknown>): Promise<string[]> {
      await flush(echo);
      seen.length = 0;
      await run();
      await flush(echo);
      return seen.map((args) => args[0]!.toUpperCase()).filter((name) => name !== 'ECHO');
    },
    stop(): void {
      if (!watching) return;
      watching = false;
      monitor.disconnect();
      source.disconnect();
    },
  };
}
