/**
 * The one helper that starts and stops private redis-server processes for tests, on free
 * loopback ports, in throwaway folders. Waits by polling PING, never by fixed sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running private redis-server. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops the process (SIGKILL with `hard`), keeping its data folder. */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts it again on the same port and folder (AOF data comes back if enabled). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  destroy(): Promise<void>;
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
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ess-redis-'));
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const argv = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args];
    const proc = spawn('redis-server', argv, { stdio: 'ignore' });
    child = proc;
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (err) => reject(new Error(`could not start redis-server (install it: apt-get install -y redis-server): ${err.message}`)));
      proc.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited early with code ${code}`)));
    });
    failed.catch(() => undefined);
    await Promise.race([waitForPing(port), failed]);
  };

  const stop = async ({ hard = false } = {}): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  await launch();
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    restart: launch,
    async destroy() {
      await stop({ hard: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
