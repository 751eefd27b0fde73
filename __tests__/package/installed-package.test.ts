/**
 * Package smoke tests: the packed tarball installs into a user's project and works from CommonJS,
 * from an ES module and from strict TypeScript, against the shared test Redis. The package is
 * built and packed once for the whole file.
 */
import { join } from 'node:path';
import { createConsumerProjects, expectedPackedFiles, REPO, run, type ConsumerProjects } from './consumer-projects';
import { uniquePrefix } from '../helpers/targets';

jest.setTimeout(120_000);

let projects: ConsumerProjects;

beforeAll(async () => {
  projects = await createConsumerProjects();
});

afterAll(() => projects?.cleanUp());

/** Runs one consumer app against the shared test Redis and returns the JSON line it printed. */
async function runApp(relativePath: string, root = projects.root): Promise<Record<string, any>> {
  const { stdout } = await run(process.execPath, [relativePath], root, {
    ESS_TEST_REDIS_PORT: process.env.ESS_TEST_REDIS_PORT,
    ESS_KEY_PREFIX: uniquePrefix(),
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** What every consumer app must see over HTTP: refused, signed in, let through, then displaced. */
function expectWorkingSessions(seen: Record<string, any>): void {
  expect(seen.anonymous).toMatchObject({ status: 401, body: { error: { code: 'SESSION_MISSING' } } });
  expect(seen.login).toMatchObject({ status: 200, body: { userId: 'alice', cart: ['apple'] } });
  expect(seen.login.cookie).toMatch(/^ess_sid=s%3A/);
  expect(seen.signedIn).toMatchObject({ status: 200, body: { userId: 'alice', cart: ['apple'] } });
  expect(seen.secondLogin.status).toBe(200);
  expect(seen.displaced).toMatchObject({ status: 401, body: { error: { code: 'SESSION_DISPLACED' } } });
  expect(seen.optionsError).toMatchObject({ isSessionError: true, code: 'INVALID_OPTIONS' });
}

describe('the packed tarball', () => {
  test('holds the built JavaScript and types, README, LICENSE and package.json, and nothing else', () => {
    expect(projects.packedFiles).toEqual(expectedPackedFiles());
  });

  test('is what npm pack takes from this repository: dist/, README.md, LICENSE and package.json only', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], REPO);
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    expect(files.map((file) => file.path).filter((path) => !path.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
  });

  test('passes publint with no suggestion', async () => {
    const { stdout } = await run(process.execPath, [join(REPO, 'node_modules/publint/src/cli.js'), 'run', projects.tarball, '--strict'], REPO);
    expect(stdout).toContain('All good!');
  });

  test('has types that resolve for node10, node16 (require and import) and bundlers (arethetypeswrong)', async () => {
    const attw = join(REPO, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    const { stdout } = await run(process.execPath, [attw, projects.tarball, '--no-definitely-typed', '--format', 'json'], REPO);
    const report = JSON.parse(stdout) as { analysis: { problems: unknown[] } };
    expect(report.analysis.problems).toEqual([]);
  });
});

describe('a user project that installed the tarball', () => {
  test('works from CommonJS (require), with ioredis as its only Redis client', async () => {
    const seen = await runApp('cjs/app.cjs');
    expectWorkingSessions(seen);
    expect(seen.exportNames).toEqual(['SessionError', 'USER_MESSAGES', 'createSessionManager']);
    expect(seen.redisResolves).toBe(false);
  });

  test('works from an ES module (import), sharing one SessionError class with require', async () => {
    const seen = await runApp('esm/app.mjs');
    expectWorkingSessions(seen);
    expect(seen.optionsError.isRequiredSessionError).toBe(true);
    expect(seen.sameClassAsRequire).toBe(true);
    expect(seen.exportNames).toEqual(seen.requireExportNames);
  });

  test('type-checks in strict TypeScript, with SessionData extended by declaration merging, and runs', async () => {
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'ts'], projects.root);
    const seen = await runApp('ts/app.js');
    expectWorkingSessions(seen);
    expect(seen.signedIn.body).toMatchObject({ cartThroughRequire: ['apple'], reason: null });
  });
});

describe('an app that also has @types/express-session (strict, skipLibCheck: false)', () => {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');

  test('type-checks through express-single-session/core with sessionOf(req), as ESM and as CommonJS', async () => {
    await run(process.execPath, [tsc, '-p', 'coexist'], projects.root);
    await run(process.execPath, [tsc, '-p', 'coexist/tsconfig.commonjs.json'], projects.root);
  });

  test('is refused with TS2717 through the main entry, which types req.session as ours (why core exists)', async () => {
    const failure = await run(process.execPath, [tsc, '-p', 'clash'], projects.root).then(() => null, (err: Error) => err.message);
    expect(failure).toMatch(/error TS2717: Subsequent property declarations must have the same type\.\s+Property 'session'/);
  });

  test('core and the main entry share one module instance', async () => {
    const script = "const a = require('express-single-session'); const b = require('express-single-session/core');"
      + "import('express-single-session/core').then((c) => console.log(JSON.stringify([a.SessionError === b.SessionError, c.SessionError === a.SessionError, Object.keys(b).sort()])))";
    const { stdout } = await run(process.execPath, ['-e', script], projects.root);
    expect(JSON.parse(stdout)).toEqual([true, true, ['SessionError', 'USER_MESSAGES', 'createSessionManager']]);
  });
});

describe('a user project that installed the tarball with node-redis and not ioredis', () => {
  test('works from CommonJS with a connected createClient()', async () => {
    const seen = await runApp('node-redis/app.cjs', projects.nodeRedisRoot);
    expectWorkingSessions(seen);
    expect(seen).toMatchObject({ ioredisResolves: false, redisResolves: true });
  });

  test('type-checks in strict TypeScript without ioredis types, and runs with a client it never connected', async () => {
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-p', 'node-redis'], projects.nodeRedisRoot);
    expectWorkingSessions(await runApp('node-redis/app.js', projects.nodeRedisRoot));
  });
});
