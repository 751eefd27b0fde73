/**
 * The behaviour suite (the top-level __tests__/*.test.ts) once more against the oldest supported
 * peers: Express 4 in place of Express 5 and ioredis 5 in place of ioredis 6, through the
 * devDependencies `express4` (npm:express@^4) and `ioredis5` (npm:ioredis@^5). The package and
 * smoke tests are not repeated here; the failover, Sentinel and late-write suites are (ioredis 5's
 * connection states differ). __tests__/compat checks that the mapping took effect.
 */
const { projects, ...shared } = require('./jest.config.js');
const integration = { ...projects.find((project) => project.displayName === 'integration') };
delete integration.testPathIgnorePatterns;

/** @type {import('jest').Config} */
module.exports = {
  ...shared,
  ...integration,
  displayName: 'oldest peers',
  testMatch: [
    '<rootDir>/__tests__/*.test.ts',
    '<rootDir>/__tests__/compat/*.test.ts',
    // ioredis 5's connection states differ: the fault suites run on it too.
    '<rootDir>/__tests__/scaling/{cluster-failover,sentinel,late-commands,no-late-writes}.test.ts',
  ],
  moduleNameMapper: {
    '^express$': '<rootDir>/node_modules/express4',
    '^express/(.*)$': '<rootDir>/node_modules/express4/$1',
    '^ioredis$': '<rootDir>/node_modules/ioredis5',
    '^ioredis/(.*)$': '<rootDir>/node_modules/ioredis5/$1',
  },
  globals: { ESS_EXPRESS_MAJOR: 4, ESS_IOREDIS_MAJOR: 5 },
};
