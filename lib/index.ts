/**
 * express-single-session: one live session per user, in Redis, as Express middleware.
 * This file only re-exports the public API.
 */

export { createSessionManager } from './manager';
export type { SessionManager } from './manager';
export { SessionError, USER_MESSAGES } from './errors';
export type { SessionErrorCode } from './errors';
export type { SessionManagerOptions, CookieOptions } from './options';
export type { RequireSessionOptions } from './middleware';
export type { Session, SessionData, SessionInfo } from './session';
