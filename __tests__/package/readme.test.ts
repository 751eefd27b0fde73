/**
 * The README works as written: every ```ts block, taken out of README.md as it is, type-checks
 * against the packed package in a user's project, strict and with skipLibCheck false, both as an
 * ES module (nodenext, "type": "module") and as CommonJS TypeScript (module commonjs). Blocks
 * that import `./users.js` get a stand-in for the app's own user check.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const blocks = typeScriptBlocks(readme);

test('the README has its TypeScript examples (quick start, Express 4, core, before sign-in, scaling, security)', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(8);
  expect(blocks[0]!.code).toContain("import { Redis } from 'ioredis';");
  expect(blocks[0]!.code).toMatch(/if \(!secret[^\n]*\) throw new Error/);
  expect(blocks[0]!.code).toContain("redis.on('error'");
  expect(readme).toMatch(/Express 4/);
});

/**
 * Blocks that load express-session's types are compiled in a program of their own: beside them the
 * main entry's req.session type is refused (TS2717), which is why those blocks import ./core.
 */
const groupOf = (code: string): string => (/from 'express-session'/.test(code) ? 'with-express-session' : 'main');

test.each(Object.keys(MODES) as (keyof typeof MODES)[])('every ```ts block of README.md type-checks as %s', async (mode) => {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  for (const group of new Set(blocks.map(({ code }) => groupOf(code)))) {
    const dir = join(projects.root, `readme-${mode}-${group}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify(MODES[mode].packageJson));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: MODES[mode].compilerOptions, include: ['*.ts'] }));
    writeFileSync(join(dir, 'users.ts'), USERS_STUB);
    for (const { line, code } of blocks.filter((block) => groupOf(block.code) === group)) {
      // A block with no import or export (a declaration-merging snippet) is made a module, as it is in an app.
      const isModule = /^(import|export) /m.test(code);
      writeFileSync(join(dir, `readme-line-${line}.ts`), isModule ? code : `${code}\nexport {};\n`);
    }
    const outcome = await run(process.execPath, [tsc, '-p', dir], projects.root).then(() => 'compiled', (err: Error) => err.message);
    expect(outcome).toBe('compiled');
  }
});
