/**
 * Starts the demo's own redis-server, used when no REDIS_URL is given: a child process on a free
 * loopback port, working in demo-app/.redis-data/ (git-ignored), with persistence off. It runs in
 * its own process group so that a Ctrl-C reaches the demo, which then stops it in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import Redis from 'ioredis';
import { DemoConfigError } from './config';

/** The folder the private redis-server works in. */
export const DATA_DIR = join(__dirname, '.redis-data');

/** The line printed when redis-server is not installed. */
export const INSTALL_HINT =
  'redis-server is not installed: install it (Debian/Ubuntu: sudo apt-get install -y redis-server) or set REDIS_URL to a Redis you own.';

/** A redis-server the demo started. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** The data folder, relative to the current directory, for messages. */
  readonly dir: string;
  /** Called once if the server exits without {@link PrivateRedis.stop} being called. */
  onUnexpectedExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** Stops the server (SIGTERM) and resolves when it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts redis-server and resolves once it answers PING. Rejects with a one-line
 * `DemoConfigError` when it is not installed or does not come up.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  mkdirSync(DATA_DIR, { recursive: true });
  const port = await freePort();
  const logFile = join(DATA_DIR, 'redis-server.log');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', DATA_DIR, '--save', '', '--appendonly', 'no', '--logfile', logFile];
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  const stopWithProcess = (): void => void child.kill('SIGTERM');
  process.once('exit', stopWithProcess);

  let stopping = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', stopWithProcess);
      resolve({ code, signal });
    });
  });

  const startup = { over: false };
  try {
    await Promise.race([
      waitForPing(port, startup),
      new Promise<never>((_, reject) => child.once('error', (err: NodeJS.ErrnoException) => {
        reject(new DemoConfigError(err.code === 'ENOENT' ? INSTALL_HINT : `could not start redis-server: ${err.message}`));
      })),
      exited.then(({ code }) => {
        throw new DemoConfigError(`redis-server exited at start with code ${code}; see ${relative(process.cwd(), logFile)}.`);
      }),
    ]);
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  } finally {
    startup.over = true;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir: relative(process.cwd(), DATA_DIR) || '.',
    onUnexpectedExit(listener) {
      void exited.then(({ code, signal }) => {
        if (!stopping) listener(code, signal);
      });
    },
    async stop() {
      stopping = true;
      await stopChild(child, exited);
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.pid === undefined) return; // never started (not installed)
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}

/** A free TCP port on 127.0.0.1, as the OS hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once PING answers on the port; polls every 50 ms for up to `timeoutMs`, or until `startup.over`. */
async function waitForPing(port: number, startup: { over: boolean }, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!startup.over) {
    const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      probe.disconnect();
    }
    if (Date.now() > deadline) throw new DemoConfigError(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, 50).unref());
  }
}
