/**
 * The ESM entry of `express-single-session/core` (the API without the global `req.session` type).
 * Like index.mts it re-exports the CommonJS build, so both entries share one module instance.
 */
export { createSessionManager, SessionError, USER_MESSAGES } from './core.js';
export type * from './core.js';
