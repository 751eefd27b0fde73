/**
 * The suites that touch the Express or ioredis APIs, once more against the oldest supported peers:
 * Express 4 in place of Express 5 and ioredis 5 in place of ioredis 6, through the devDependencies
 * `express4` (npm:express@^4) and `ioredis5` (npm:ioredis@^5). Only what goes through those APIs is
 * repeated: the request path through Express (cookies, req.session, saves at the response's end, the
 * error handler), the ioredis adapter and its connection states (the adapter contract, client detection,
 * the error causes, outages, failovers, late writes, the local cache's tracking). Suites of pure session
 * policy (expiry, touchAfter, limits, data limits, user ids...) take nothing from either package and are
 * not repeated. Only Express and ioredis are mapped, so helpers/targets.ts keeps to the ioredis targets
 * here. __tests__/compat checks that the mapping took effect.
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
    // The request path through Express.
    '<rootDir>/__tests__/{single-session,session-data,cookies,cookie-options,session-hardening,request-property,session-of,error-handler,unsaved-changes}.test.ts',
    // The ioredis adapter and its connection states.
    '<rootDir>/__tests__/{clients,error-causes,store-outage,local-cache}.test.ts',
    '<rootDir>/__tests__/clients/adapter-contract.test.ts',
    '<rootDir>/__tests__/scaling/{cluster-failover,sentinel,late-commands,no-late-writes}.test.ts',
    '<rootDir>/__tests__/compat/*.test.ts',
  ],
  moduleNameMapper: {
    '^express$': '<rootDir>/node_modules/express4',
    '^express/(.*)$': '<rootDir>/node_modules/express4/$1',
    '^ioredis$': '<rootDir>/node_modules/ioredis5',
    '^ioredis/(.*)$': '<rootDir>/node_modules/ioredis5/$1',
  },
  globals: { ESS_EXPRESS_MAJOR: 4, ESS_IOREDIS_MAJOR: 5 },
};
