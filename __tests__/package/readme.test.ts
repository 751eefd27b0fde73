/**
 * The README and the guides work as written: every ```ts block, taken out of README.md and
 * docs/*.md as it is, type-checks against the packed package in a user's project, strict and with
 * skipLibCheck false, both as an ES module (nodenext, "type": "module") and as CommonJS TypeScript
 * (module commonjs). Blocks that import `./users.js` get a stand-in for the app's own user check.
 * The quick starts (node-redis and ioredis on Express 5 in the README, Express 4 in the FAQ) also
 * run as written, each in a project holding only its own Redis client: they refuse to start
 * without SESSION_SECRET, sign in and reach the protected route, and answer 503 when Redis is
 * down. Each README quick start's own install lines install every package it imports.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { freePort } from '../helpers/redis-servers';
import { createConsumerProjects, REPO, run, type ConsumerProjects } from './consumer-projects';

jest.setTimeout(180_000);

let projects: ConsumerProjects;
beforeAll(async () => {
  projects = await createConsumerProjects();
});
afterAll(() => projects?.cleanUp());

/** The ```ts blocks of a markdown text, with the line each starts on. */
export function typeScriptBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

const USERS_STUB = `/** Stand-in for the app's own user check. */
export async function verifyLogin(username: unknown, password: unknown): Promise<{ id: string } | null> {
  return typeof username === 'string' && password === 'secret' ? { id: username } : null;
}
`;

const STRICT = { target: 'ES2022', strict: true, noUncheckedIndexedAccess: true, skipLibCheck: false, noEmit: true, types: ['node'] };
const MODES = {
  esm: { packageJson: { type: 'module' }, compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext' } },
  commonjs: {
    packageJson: { type: 'commonjs' },
    compilerOptions: { ...STRICT, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true, ignoreDeprecations: '6.0' },
  },
};

/** The README and every guide, by path from the repository root. */
const DOC_FILES = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const blocks = DOC_FILES.flatMap((file) => typeScriptBlocks(readFileSync(join(REPO, file), 'utf8')).map((block) => ({ ...block, file })));
const readmeBlocks = blocks.filter((block) => block.file === 'README.md');
const express4Block = blocks.find((block) => block.file === 'docs/faq.md' && block.code.includes('next(err)'));

test('the README opens with a quick start on node-redis and one on ioredis; the FAQ has the Express 4 one', () => {
  expect(readmeBlocks[0]!.code).toContain("import { createClient } from 'redis';");
  expect(readmeBlocks[1]!.code).toContain("import { Redis } from 'ioredis';");
  for (const block of [readmeBlocks[0]!, readmeBlocks[1]!, express4Block!]) {
    expect(block.code).toMatch(/if \(!secret[^\n]*\) throw new Error/);
    expect(block.code).toContain("redis.on('error'");
  }
  expect(blocks.length).toBeGreaterThanOrEqual(15);
});

/** The packages a block imports (bare specifiers, by package name; node: built-ins left out). */
function importedPackages(code: string): string[] {
  const names = [...code.matchAll(/^import [^;]*? from '([^'.][^']*)';/gm)].map((match) => match[1]!).filter((name) => !name.startsWith('node:'));
  return [...new Set(names.map((name) => (name.startsWith('@') ? name.split('/').slice(0, 2) : name.split('/').slice(0, 1)).join('/')))];
}

test.each([0, 1])('README quick start %i is installed by its own install lines: every import, its types, tsx', (index) => {
  const { line, code } = readmeBlocks[index]!;
  // The ```sh block right above the quick start.
  const before = readme.split('\n').slice(0, line - 2).join('\n');
  const install = /```sh\n((?:npm install[^\n]*\n)+)```\s*$/.exec(before);
  expect(install).not.toBeNull();
  const installed = install![1]!.split(/\s+/).filter((word) => word !== '' && word !== 'npm' && word !== 'install' && !word.startsWith('-'));
  const needed = [...importedPackages(code), '@types/node', '@types/express', '@types/cookie-parser', 'tsx', 'typescript'];
  expect(needed.filter((name) => !installed.includes(name))).toEqual([]);
  expect(installed.filter((name) => ['redis', 'ioredis'].includes(name))).toEqual(importedPackages(code).filter((name) => ['redis', 'ioredis'].includes(name)));
});

/**
 * Blocks that load express-session's types are compiled in a program of their own: beside them the
 * main entry's req.session type is refused (TS2717), which is why those blocks import ./core.
 */
const groupOf = (code: string): string => (/from 'express-session'/.test(code) ? 'with-express-session' : 'main');

/** Packages a block may import beyond what the consumer project links: both clients, prom-client. */
const EXTRA_MODULES = ['redis', 'prom-client'];

test.each(Object.keys(MODES) as (keyof typeof MODES)[])('every ```ts block of README.md and docs/*.md type-checks as %s', async (mode) => {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  for (const group of new Set(blocks.map(({ code }) => groupOf(code)))) {
    const dir = join(projects.root, `readme-${mode}-${group}`);
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    for (const name of EXTRA_MODULES) symlinkSync(join(REPO, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify(MODES[mode].packageJson));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: MODES[mode].compilerOptions, include: ['*.ts'] }));
    writeFileSync(join(dir, 'users.ts'), USERS_STUB);
    for (const { file, line, code } of blocks.filter((block) => groupOf(block.code) === group)) {
      // A block with no import or export (a declaration-merging snippet) is made a module, as it is in an app.
      const isModule = /^(import|export) /m.test(code);
      writeFileSync(join(dir, `${file.replace(/\W+/g, '-')}-line-${line}.ts`), isModule ? code : `${code}\nexport {};\n`);
    }
    const outcome = await run(process.execPath, [tsc, '-p', dir], projects.root).then(() => 'compiled', (err: Error) => err.message);
    expect(outcome).toBe('compiled');
  }
});

/** A quick start run as its own process with node --import tsx, as a user runs a TypeScript file. */
interface Started {
  readonly exit: Promise<number | null>;
  output(): string;
  stop(): void;
}

function startQuickStart(file: string, env: NodeJS.ProcessEnv): Started {
  // cwd is the repository so that `--import tsx` finds tsx; the file resolves its packages from its own folder.
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { exit, output: () => output, stop: () => child.kill('SIGTERM') };
}

/** Waits until the app answers on `base`, or fails with its output if it exits first or takes 30 s. */
async function untilListening(base: string, started: Started): Promise<void> {
  let exited = false;
  void started.exit.then(() => (exited = true));
  for (let i = 0; i < 300 && !exited; i++) {
    if (await request(base).get('/private').then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the quick start did not start listening:\n${started.output()}`);
}

/** Each quick start: its code, the Express it runs on, and which consumer project (which Redis client) it runs in. */
const QUICK_STARTS = {
  'node-redis (README)': { code: () => readmeBlocks[0]!.code, express: 'express', client: 'redis' },
  'ioredis (README)': { code: () => readmeBlocks[1]!.code, express: 'express', client: 'ioredis' },
  'Express 4 (FAQ)': { code: () => express4Block!.code, express: 'express4', client: 'redis' },
} as const;
const SECRET = 'readme-quick-start-secret-0123456789-abcdef';

describe.each(Object.entries(QUICK_STARTS))('the %s quick start, run as written', (name, { code, express, client }) => {
  let file: string;
  const block = name.replace(/\W+/g, '-');
  beforeAll(() => {
    const dir = join(client === 'redis' ? projects.nodeRedisRoot : projects.root, `quick-start-${block}`);
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'users.ts'), USERS_STUB);
    // The Express 4 variant runs on Express 4: its folder gets its own express.
    symlinkSync(join(REPO, 'node_modules', express), join(dir, 'node_modules', 'express'), 'dir');
    file = join(dir, 'server.ts');
    writeFileSync(file, code());
    expect(code()).toContain(express === 'express4' ? 'next(err)' : 'app.use(sessions.errorHandler());');
  });

  test('refuses to start without SESSION_SECRET, saying so', async () => {
    const started = startQuickStart(file, { SESSION_SECRET: '', PORT: String(await freePort()), REDIS_URL: 'redis://127.0.0.1:1' });
    const timer = setTimeout(() => started.stop(), 30_000);
    const code = await started.exit;
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(started.output()).toMatch(/Error: Set SESSION_SECRET to at least 32 random characters\./);
  });

  test('signs in, reaches the protected route and signs out', async () => {
    const base = `http://127.0.0.1:${await freePort()}`;
    const started = startQuickStart(file, { SESSION_SECRET: SECRET, PORT: base.split(':')[2], REDIS_URL: `redis://127.0.0.1:${process.env.ESS_TEST_REDIS_PORT}` });
    try {
      await untilListening(base, started);
      const anonymous = await request(base).get('/private');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('SESSION_MISSING');
      expect((await request(base).post('/login').send({ username: `readme-${block}`, password: 'wrong' })).body.error.code).toBe('BAD_CREDENTIALS');
      const login = await request(base).post('/login').send({ username: `readme-${block}`, password: 'secret' });
      expect(login.status).toBe(200);
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const me = await request(base).get('/private').set('Cookie', cookie);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ userId: `readme-${block}` });
      expect((await request(base).post('/logout').set('Cookie', cookie)).status).toBe(204);
      expect((await request(base).get('/private').set('Cookie', cookie)).body.error.code).toBe('SESSION_EXPIRED');
    } finally {
      started.stop();
    }
  });

  test('answers a sign-in while Redis is down with 503 JSON, and logs the outage through its error listener', async () => {
    const base = `http://127.0.0.1:${await freePort()}`;
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const started = startQuickStart(file, { SESSION_SECRET: SECRET, PORT: base.split(':')[2], REDIS_URL: deadRedis });
    try {
      await untilListening(base, started);
      const login = await request(base).post('/login').send({ username: 'readme-outage', password: 'secret' });
      expect(login.status).toBe(503);
      expect(login.headers['retry-after']).toBe('1');
      expect(login.body.error.code).toBe('SESSION_STORE_UNAVAILABLE');
      for (let i = 0; i < 50 && !/redis: connect ECONNREFUSED/.test(started.output()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(started.output()).toMatch(/redis: connect ECONNREFUSED/);
      expect(started.output()).not.toMatch(/Unhandled error event|uncaught/i);
    } finally {
      started.stop();
    }
  });
});
