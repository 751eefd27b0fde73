/**
 * The CI audit step (`.ci/audit.js`): fails on a known vulnerability in the production dependencies,
 * and says plainly, without failing, when the audit cannot run. The real npm client talks to a
 * small local registry that serves the audit endpoint, so no test needs the network.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './consumer-projects';

const AUDIT = join(REPO, '.ci', 'audit.js');
let project: string;
let server: Server;
let registry: string;
const MS_PACKUMENT = {
  name: 'ms',
  'dist-tags': { latest: '2.1.3' },
  versions: Object.fromEntries(['2.0.0', '2.1.3'].map((version) => [version, { name: 'ms', version, dist: { tarball: `http://127.0.0.1/ms-${version}.tgz` } }])),
};
let answer: () => { status: number; json?: unknown } = () => ({ status: 200, json: {} });

/** Runs the CI step in `dir` against the local registry; resolves with its exit code and output. */
function audit(dir: string, env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('node', [AUDIT, dir], { env: { ...process.env, npm_config_registry: registry, npm_config_audit_level: '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'ess-audit-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'audit-probe', version: '1.0.0', dependencies: { ms: '2.0.0' } }));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({
    name: 'audit-probe',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'audit-probe', version: '1.0.0', dependencies: { ms: '2.0.0' } },
      'node_modules/ms': {
        version: '2.0.0',
        integrity: 'sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==',
      },
    },
  }));
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // npm reads the package's versions to work out which of them an advisory covers.
      const { status, json } = req.method === 'GET' && req.url === '/ms' ? { status: 200, json: MS_PACKUMENT } : answer();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(json === undefined ? '' : JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(project, { recursive: true, force: true });
});

test('passes on this repository: no known vulnerability in its production dependencies', async () => {
  const { code, output } = await audit(REPO);
  expect(output).toMatch(/no known vulnerabilities in the production dependencies/);
  expect(code).toBe(0);
});

test('fails on a known vulnerability in a production dependency, naming it', async () => {
  answer = () => ({
    status: 200,
    json: { ms: [{ id: 1094419, url: 'https://github.com/advisories/GHSA-w9mr-4mfr-499f', title: 'Vercel ms ReDoS', severity: 'moderate', vulnerable_versions: '<=2.0.0', cwe: ['CWE-400'], cvss: { score: 5.3, vectorString: null } }] },
  });
  const { code, output } = await audit(project);
  expect(output).toMatch(/found 1 known vulnerabilities/);
  expect(output).toMatch(/ms \(moderate.*Vercel ms ReDoS/);
  expect(code).toBe(1);
});

test('when the registry has no audit endpoint or is unreachable, it says the dependencies were not checked', async () => {
  answer = () => ({ status: 405 });
  const refused = await audit(project);
  expect(refused.output).toMatch(/npm audit could not run \(.*405/);
  expect(refused.output).toMatch(/NOT checked/);
  expect(refused.code).toBe(0);
  const unreachable = await audit(project, { npm_config_registry: 'http://127.0.0.1:9/' });
  expect(unreachable.output).toMatch(/could not run \(.*ECONNREFUSED/);
  expect(unreachable.code).toBe(0);
  expect((await audit(project, { ESS_AUDIT_REQUIRED: '1' })).code).toBe(1);
});
