/**
 * The ESM entry point (`import`). It re-exports the CommonJS build instead of being a second copy
 * of the package, so `import` and `require` share one module instance: one `SessionError` class,
 * and `instanceof` works whichever way an app (or its dependencies) loads the package.
 */
export { createSessionManager, SessionError, USER_MESSAGES } from './index.js';
export type * from './index.js';
