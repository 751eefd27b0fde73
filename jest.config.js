/**
 * Jest runs the TypeScript tests through ts-jest in three layers (Jest projects), each with its own
 * npm script: unit (pure logic, no Redis and no global setup), integration (behaviour through
 * supertest against real redis-server processes the tests start), e2e (whole processes: the demo
 * started as a person runs it, a real browser, the examples, the benchmark). `jest` runs all three.
 */
const ROOT = __dirname;

/** Pure-logic test files: they need no Redis, so the unit layer starts none. */
const UNIT = [
  '<rootDir>/__tests__/options.test.ts',
  '<rootDir>/__tests__/demo/config.test.ts',
  '<rootDir>/__tests__/package/api-docs.test.ts',
  '<rootDir>/__tests__/package/links.test.ts',
  '<rootDir>/__tests__/package/security-record.test.ts',
  '<rootDir>/__tests__/compat/peer-versions.test.ts',
  '<rootDir>/__tests__/local-cache-entries.test.ts',
];
/** Test files that start whole processes (apps, browsers, benchmarks). */
const E2E = [
  '<rootDir>/__tests__/e2e/**/*.test.ts',
  '<rootDir>/__tests__/examples/**/*.test.ts',
  '<rootDir>/__tests__/demo/start.test.ts',
  '<rootDir>/__tests__/bench/**/*.test.ts',
  '<rootDir>/__tests__/soak/**/*.test.ts',
  '<rootDir>/__tests__/chaos/short-run.test.ts',
];

const common = { rootDir: ROOT, preset: 'ts-jest', testEnvironment: 'node' };
/** One redis-server and a 3-master Cluster for the whole run, shared by integration and e2e (started once). */
const withRedis = {
  globalSetup: '<rootDir>/__tests__/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/helpers/global-teardown.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: UNIT },
    {
      ...common,
      ...withRedis,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...[...UNIT, ...E2E].map((glob) => glob.replace('<rootDir>', '').replace('/**/*.test.ts', '/'))],
    },
    { ...common, ...withRedis, displayName: 'e2e', testMatch: E2E },
  ],
};
