/**
 * Sets up the throwaway consumer projects of the package smoke tests, once per run: builds the
 * package into a staging folder exactly as `npm pack` ships it, packs it, installs the tarball with
 * npm (offline: the tarball has no dependencies) into two temp projects, links express,
 * cookie-parser, the type packages and one Redis client from this repo's node_modules (ioredis in
 * one project, node-redis in the other: each installs only the client it uses), and copies the
 * fixture apps.
 * It builds into staging rather than the repo's dist/ so that tests running in parallel never see
 * a half-built dist/.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root. */
export const REPO = resolve(__dirname, '../..');

/** The packages a consumer app brings itself, linked from the repo's node_modules; plus one Redis client. */
const CONSUMER_DEPENDENCIES = [
  'express', 'cookie-parser', 'express-session', 'express-rate-limit', 'rate-limit-redis', 'passport', 'passport-local',
  '@types/node', '@types/express', '@types/cookie-parser', '@types/express-session', '@types/passport', '@types/passport-local',
];

/** The packed and installed package, and the folders holding the consumer projects. */
export interface ConsumerProjects {
  /** With ioredis only: holds node_modules/ and the fixture projects cjs/, esm/ and ts/. */
  readonly root: string;
  /** With node-redis (`redis`) only: holds node_modules/ and the fixture project node-redis/. */
  readonly nodeRedisRoot: string;
  readonly tarball: string;
  /** Paths inside the tarball, as `npm pack` listed them. */
  readonly packedFiles: string[];
  /** Removes everything this made. */
  cleanUp(): void;
}

/** Runs a command, resolving with its output; rejects with the output when it fails or times out. */
export function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd, env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
      else resolvePromise({ stdout, stderr });
    });
  });
}

/** Builds and packs the package, installs it into a new temp folder and lays out the consumer projects. */
export async function createConsumerProjects(): Promise<ConsumerProjects> {
  const work = mkdtempSync(join(tmpdir(), 'ess-package-'));
  const cleanUp = (): void => rmSync(work, { recursive: true, force: true });
  try {
    const staging = join(work, 'staging');
    mkdirSync(staging);
    for (const file of ['package.json', 'README.md', 'LICENSE']) cpSync(join(REPO, file), join(staging, file));
    await run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(staging, 'dist')], REPO);
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], staging);
    const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const tarball = join(work, filename);

    const fixtures = join(__dirname, 'fixtures');
    const root = join(work, 'consumer');
    cpSync(fixtures, root, { recursive: true, filter: (source) => source !== join(fixtures, 'node-redis') });
    writeFileSync(join(root, 'ts', 'package.json'), JSON.stringify({ type: 'module' }));
    const nodeRedisRoot = join(work, 'consumer-node-redis');
    cpSync(join(fixtures, 'node-redis'), join(nodeRedisRoot, 'node-redis'), { recursive: true });
    cpSync(join(fixtures, 'exercise.cjs'), join(nodeRedisRoot, 'exercise.cjs'));
    writeFileSync(join(nodeRedisRoot, 'node-redis', 'package.json'), JSON.stringify({ type: 'module' }));
    await Promise.all([installConsumer(root, tarball, 'ioredis'), installConsumer(nodeRedisRoot, tarball, 'redis')]);

    return { root, nodeRedisRoot, tarball, packedFiles: files.map((file) => file.path).sort(), cleanUp };
  } catch (err) {
    cleanUp();
    throw err;
  }
}

/** Installs the tarball into a new consumer project at `root` and links its dependencies, with `client` as its only Redis client. */
async function installConsumer(root: string, tarball: string, client: 'ioredis' | 'redis'): Promise<void> {
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: `consumer-${client}`, private: true }));
  await run('npm', ['install', '--offline', '--legacy-peer-deps', '--no-audit', '--no-fund', '--no-package-lock', tarball], root);
  mkdirSync(join(root, 'node_modules', '@types'), { recursive: true });
  for (const name of [...CONSUMER_DEPENDENCIES, client]) symlinkSync(join(REPO, 'node_modules', name), join(root, 'node_modules', name), 'dir');
}

/** What `npm pack` must ship: each lib module's JavaScript and types, the ESM entries, README, LICENSE, package.json. */
export function expectedPackedFiles(): string[] {
  const files = (readdirSync(join(REPO, 'lib'), { recursive: true }) as string[]).map((file) => file.split('\\').join('/'));
  const modules = files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')).flatMap((file) => {
    const base = file.slice(0, -'.ts'.length);
    return [`dist/${base}.js`, `dist/${base}.d.ts`];
  });
  const esmEntries = files.filter((file) => file.endsWith('.mts')).flatMap((file) => {
    const base = file.slice(0, -'.mts'.length);
    return [`dist/${base}.mjs`, `dist/${base}.d.mts`];
  });
  return [...modules, ...esmEntries, 'LICENSE', 'README.md', 'package.json'].sort();
}
