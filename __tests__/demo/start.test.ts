/**
 * `npm run demo` as a person runs it: the script's command is started as a real process, with a
 * private redis-server or REDIS_URL, and stopped with SIGINT (Ctrl-C). Also the one-line messages
 * and exit code 1 for a missing redis-server, a bad setting and an unreachable Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/redis-servers';

const ROOT = join(__dirname, '..', '..');
const [COMMAND, ...ARGS] = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.demo as string).split(' ');

/** A started demo process and everything it printed so far. */
interface DemoRun {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function runDemo(env: NodeJS.ProcessEnv): DemoRun {
  const base = { ...process.env };
  for (const name of ['REDIS_URL', 'PORT', 'SESSION_SECRET', 'SESSION_IDLE_TIMEOUT', 'SESSION_ABSOLUTE_TIMEOUT']) delete base[name];
  const child = spawn(COMMAND === 'node' ? process.execPath : COMMAND, ARGS, { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk) => (output.stdout += chunk));
  child.stderr!.on('data', (chunk) => (output.stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = (): void => {
        const match = output.stdout.match(pattern);
        if (!match) return;
        child.stdout!.off('data', check);
        resolve(match);
      };
      child.stdout!.on('data', check);
      check();
      void exited.then(() => reject(new Error(`the demo exited before printing ${pattern}:\n${output.stdout}\n${output.stderr}`)));
    });
  return { child, output, waitFor, exited };
}

/** Resolves true when something accepts connections on the port. */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('without REDIS_URL it starts a private redis-server, serves /login, and Ctrl-C stops both with exit code 0', async () => {
  const demo = runDemo({ PORT: '0' });
  const [, redisPort] = await demo.waitFor(/started a private redis-server at redis:\/\/127\.0\.0\.1:(\d+) \(data folder demo-app\/\.redis-data\)/);
  const [, url] = await demo.waitFor(/Demo running at (http:\/\/localhost:\d+\/)/);
  expect(await isListening(Number(redisPort))).toBe(true);

  const page = await fetch(`${url}login`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<input name="username"');
  expect(demo.output.stderr).toContain('SESSION_SECRET is not set');

  demo.child.kill('SIGINT');
  expect(await demo.exited).toEqual({ code: 0, signal: null });
  expect(demo.output.stdout).toContain('Stopped the private redis-server.');
  expect(await isListening(Number(redisPort))).toBe(false);
});

test('with REDIS_URL it uses that Redis and starts none of its own', async () => {
  const demo = runDemo({ PORT: '0', REDIS_URL: `redis://127.0.0.1:${process.env.ESS_TEST_REDIS_PORT}`, SESSION_SECRET: 'x'.repeat(32), SESSION_IDLE_TIMEOUT: '5', SESSION_ABSOLUTE_TIMEOUT: 'off', SESSION_MAX_SESSIONS: '2', SESSION_ON_LIMIT: 'reject-new' });
  const [line] = await demo.waitFor(/Demo running at .*\n/);
  expect(line).toContain('(idle timeout 5 s, absolute timeout off, 2 sessions per user, reject-new)');
  expect(demo.output.stdout).not.toContain('private redis-server');
  expect(demo.output.stderr).toBe('');
  demo.child.kill('SIGTERM');
  expect(await demo.exited).toEqual({ code: 0, signal: null });
});

describe('problems at start are one line on stderr and exit code 1', () => {
  let nodeOnly: string;
  beforeAll(() => {
    nodeOnly = mkdtempSync(join(tmpdir(), 'ess-node-only-'));
    symlinkSync(process.execPath, join(nodeOnly, 'node'));
  });
  afterAll(() => rmSync(nodeOnly, { recursive: true, force: true }));

  async function expectOneLineFailure(env: NodeJS.ProcessEnv, line: string): Promise<void> {
    const demo = runDemo(env);
    expect(await demo.exited).toEqual({ code: 1, signal: null });
    expect(demo.output.stderr).toBe(`demo: ${line}\n`);
    expect(demo.output.stdout).toBe('');
  }

  test('redis-server is not installed (not on PATH): says how to install it', async () => {
    await expectOneLineFailure(
      { PATH: nodeOnly, PORT: '0' },
      'redis-server is not installed: install it (Debian/Ubuntu: sudo apt-get install -y redis-server) or set REDIS_URL to a Redis you own.',
    );
  });

  test('an invalid setting names the variable', async () => {
    await expectOneLineFailure({ SESSION_IDLE_TIMEOUT: 'soon' }, 'SESSION_IDLE_TIMEOUT must be a positive number of seconds, e.g. 60; received "soon".');
  });

  test('an unreachable REDIS_URL', async () => {
    const port = await freePort();
    await expectOneLineFailure({ PORT: '0', REDIS_URL: `redis://127.0.0.1:${port}` }, `cannot reach Redis at redis://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});
