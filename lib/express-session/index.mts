/**
 * The ESM entry of `express-single-session/express-session`. Like index.mts at the top it re-exports the
 * CommonJS build, so `import` and `require` share one module instance (`instanceof SessionError` holds).
 */
export { createSessionStore, SessionError, USER_MESSAGES } from './index.js';
export type * from './index.js';
