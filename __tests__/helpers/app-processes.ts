/**
 * Starts the test app as separate Node processes (fixtures/app-process.ts), as a deployment
 * with several app servers behind a load balancer would run it, and stops them again.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const FIXTURES = join(__dirname, '..', 'fixtures');

/** Where an app process finds Redis. */
export type RedisTarget = { port: number } | { cluster: number[] } | { sentinels: number[]; name: string };

/** What an app process counted that should never happen. */
export interface Faults {
  unhandledRejections: string[];
  uncaughtExceptions: string[];
  redisErrors: number;
}

/** A running app process. */
export interface AppProcess {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly base: string;
  /** Everything the process wrote to stderr so far. */
  readonly stderr: string;
  /** True until the process exits. */
  readonly alive: boolean;
  faults(): Promise<Faults>;
  stop(): Promise<void>;
}

/** Starts one app process on its own Redis client and waits until it listens. */
export function startAppProcess(
  redis: RedisTarget,
  { keyPrefix, storeTimeoutMs = 1000, env = {} }: { keyPrefix: string; storeTimeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<AppProcess> {
  // tsx loads the TypeScript sources directly (Jest's transform does not reach child processes, nor
  // its moduleNameMapper: under the oldest-peers config a preload maps express and ioredis the same way).
  const oldestPeers = (globalThis as { ESS_IOREDIS_MAJOR?: number }).ESS_IOREDIS_MAJOR === 5;
  const preload = oldestPeers ? ['--require', join(FIXTURES, 'oldest-peers.cjs')] : [];
  const child = spawn(process.execPath, [...preload, '--import', 'tsx', join(FIXTURES, 'app-process.ts')], {
    env: { ...process.env, ...env, ESS_REDIS: JSON.stringify(redis), ESS_KEY_PREFIX: keyPrefix, ESS_STORE_TIMEOUT: String(storeTimeoutMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return new Promise<AppProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app process did not start within 20 s; stderr: ${stderr}`));
    }, 20_000);
    timer.unref();
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app process exited with ${code} before listening; stderr: ${stderr}`));
    });
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line || !stdout.includes('\n')) return;
      clearTimeout(timer);
      const base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      resolve({
        base,
        get stderr() {
          return stderr;
        },
        get alive() {
          return child.exitCode === null && child.signalCode === null;
        },
        async faults() {
          return (await (await fetch(`${base}/faults`)).json()) as Faults;
        },
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          killer.unref();
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}
