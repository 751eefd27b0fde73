/**
 * The behaviour suite (the top-level __tests__/*.test.ts) once more, with Express 4 in place of
 * Express 5: `express` resolves to the devDependency `express4` (npm:express@^4). The package and
 * smoke tests are not repeated here. __tests__/compat checks that the mapping took effect.
 */
/** @type {import('jest').Config} */
module.exports = {
  ...require('./jest.config.js'),
  displayName: 'express4',
  testMatch: ['<rootDir>/__tests__/*.test.ts', '<rootDir>/__tests__/compat/*.test.ts'],
  moduleNameMapper: { '^express$': '<rootDir>/node_modules/express4', '^express/(.*)$': '<rootDir>/node_modules/express4/$1' },
  globals: { ESS_EXPRESS_MAJOR: 4 },
};
