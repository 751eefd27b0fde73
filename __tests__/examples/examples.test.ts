/**
 * The examples/ folder works as shipped: each example type-checks against the packed package
 * (strict, skipLibCheck false), refuses to start without SESSION_SECRET, and, started as its
 * README says against the test Redis, refuses an anonymous request, signs in and reaches its
 * protected route. The single-page app also runs in a real browser (Debian's chromium), which
 * shows why a displaced or signed-out session ended.
 */
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import request from 'supertest';
import { createConsumerProjects, REPO, run, type ConsumerProjects } from '../package/consumer-projects';

jest.setTimeout(120_000);

const SECRET = 'examples-test-secret-0123456789-abcdef';
let projects: ConsumerProjects;
let examples: string;

beforeAll(async () => {
  projects = await createConsumerProjects();
  examples = join(projects.root, 'examples');
  cpSync(join(REPO, 'examples'), examples, { recursive: true });
  // In a user's project the package is installed: drop the repository's mapping to lib/.
  const tsconfig = JSON.parse(readFileSync(join(examples, 'tsconfig.json'), 'utf8'));
  delete tsconfig.compilerOptions.paths;
  writeFileSync(join(examples, 'tsconfig.json'), JSON.stringify(tsconfig));
});
afterAll(() => projects?.cleanUp());

interface Example {
  readonly file: string;
  readonly api: string;
  readonly credentials: { username: string; password: string };
  readonly userId: string;
}

const EXAMPLES: Record<string, Example> = {
  'commonjs': { file: 'commonjs/server.js', api: '', credentials: { username: 'ann', password: 'demo' }, userId: 'ann' },
  'esm-typescript': { file: 'esm-typescript/server.ts', api: '', credentials: { username: 'bo', password: 'demo' }, userId: 'bo' },
  'passport': { file: 'passport/server.ts', api: '', credentials: { username: 'alice', password: 'wonderland' }, userId: 'user-1' },
  'spa': { file: 'spa/server.ts', api: '/api', credentials: { username: 'cy', password: 'demo' }, userId: 'cy' },
};

/** Starts an example as its README says; resolves with its URL and a stop function, or rejects with its output. */
function start(file: string, env: NodeJS.ProcessEnv): Promise<{ base: string; stop: () => void }> {
  const args = file.endsWith('.ts') ? ['--import', 'tsx', join(examples, file)] : [join(examples, file)];
  // cwd is the repository so that `--import tsx` finds tsx; the example resolves its packages from its own folder.
  const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not start within 30 s:\n${output}`));
    }, 30_000);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!url) return;
      clearTimeout(timer);
      resolve({ base: url[1]!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`${file} exited with ${code}:\n${output}`), { exitCode: code, output }));
    });
  });
}

test('all examples type-check against the installed package (strict, skipLibCheck false)', async () => {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', examples], projects.root);
});

describe.each(Object.entries(EXAMPLES))('examples/%s', (_name, example) => {
  test('refuses to start without SESSION_SECRET, saying so', async () => {
    const failure = await start(example.file, { SESSION_SECRET: '', REDIS_URL: 'redis://127.0.0.1:1' }).then(
      (started) => {
        started.stop();
        return null;
      },
      (err: { exitCode: number; output: string }) => err,
    );
    expect(failure?.exitCode).toBe(1);
    expect(failure?.output).toMatch(/Set SESSION_SECRET to at least 32 random characters/);
  });

  test('signs in and reaches its protected route', async () => {
    const { base, stop } = await start(example.file, { SESSION_SECRET: SECRET, REDIS_URL: `redis://127.0.0.1:${process.env.ESS_TEST_REDIS_PORT}` });
    try {
      const anonymous = await request(base).get(`${example.api}/me`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('SESSION_MISSING');

      const wrong = await request(base).post(`${example.api}/login`).send({ ...example.credentials, password: 'wrong' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('BAD_CREDENTIALS');

      const login = await request(base).post(`${example.api}/login`).send(example.credentials);
      expect(login.status).toBe(200);
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const me = await request(base).get(`${example.api}/me`).set('Cookie', cookie);
      expect(me.status).toBe(200);
      expect(me.body.userId).toBe(example.userId);

      expect((await request(base).post(`${example.api}/logout`).set('Cookie', cookie)).status).toBe(204);
      const after = await request(base).get(`${example.api}/me`).set('Cookie', cookie);
      expect(after.status).toBe(401);
    } finally {
      stop();
    }
  });
});

test('the single-page app serves its page, whose script handles every 401 code and the 503', async () => {
  const { base, stop } = await start(EXAMPLES.spa!.file, { SESSION_SECRET: SECRET, REDIS_URL: `redis://127.0.0.1:${process.env.ESS_TEST_REDIS_PORT}` });
  try {
    expect((await request(base).get('/')).text).toContain('<script src="app.js"');
    const script = (await request(base).get('/app.js')).text;
    for (const code of ['SESSION_MISSING', 'SESSION_INVALID', 'SESSION_EXPIRED', 'SESSION_DISPLACED']) expect(script).toContain(code);
    expect(script).toContain("res.headers.get('Retry-After')");
  } finally {
    stop();
  }
});

test('the esm-typescript example saves its typed session data', async () => {
  const { base, stop } = await start(EXAMPLES['esm-typescript']!.file, { SESSION_SECRET: SECRET, REDIS_URL: `redis://127.0.0.1:${process.env.ESS_TEST_REDIS_PORT}` });
  try {
    const login = await request(base).post('/login').send({ username: 'visitor', password: 'demo' });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    expect((await request(base).get('/me').set('Cookie', cookie)).body.visits).toBe(1);
    expect((await request(base).get('/me').set('Cookie', cookie)).body.visits).toBe(2);
  } finally {
    stop();
  }
});

test('the single-page app in a browser: signs in, and says why when the session was displaced', async () => {
  const { base, stop } = await start(EXAMPLES.spa!.file, { SESSION_SECRET: SECRET, REDIS_URL: `redis://127.0.0.1:${process.env.ESS_TEST_REDIS_PORT}` });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(base);
    await page.locator('#sign-in').waitFor(); // SESSION_MISSING: the sign-in form, no notice
    expect(await page.textContent('#notice')).toBe('');

    await page.fill('input[name=username]', 'spa-browser');
    await page.fill('input[name=password]', 'wrong');
    await page.click('#sign-in button');
    await page.locator('#notice', { hasText: 'Wrong username or password.' }).waitFor();

    await page.fill('input[name=password]', 'demo');
    await page.click('#sign-in button');
    await page.locator('#signed-in').waitFor();
    expect(await page.textContent('#user')).toBe('spa-browser');

    // The same user signs in on another device: back in this tab, the page says why it was signed out.
    expect((await request(base).post('/api/login').send({ username: 'spa-browser', password: 'demo' })).status).toBe(200);
    await page.reload();
    await page.locator('#sign-in').waitFor();
    expect(await page.textContent('#notice')).toBe('You were signed out because your account signed in somewhere else.');

    await page.fill('input[name=username]', 'spa-browser');
    await page.fill('input[name=password]', 'demo');
    await page.click('#sign-in button');
    await page.locator('#signed-in').waitFor();
    await page.click('#sign-out');
    await page.locator('#sign-in').waitFor();
    await page.reload();
    await page.locator('#sign-in').waitFor(); // signed out: the cookie is gone, SESSION_MISSING again
    expect(await page.textContent('#notice')).toBe('');
  } finally {
    await browser.close();
    stop();
  }
});
