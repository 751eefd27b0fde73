/**
 * express-single-session: one live session per user, in Redis, as Express middleware.
 * This file only re-exports the public API.
 */

export { createSessionManager } from './manager';
export type { SessionManager } from './manager';
export { SessionError } from './errors';
export type { SessionErrorCode } from './errors';
export type { SessionManagerOptions, CookieOptions } from './options';
export type { IoredisClient, NodeRedisClient } from './clients/detect';
export type { RequireSessionOptions } from './middleware';
export type { Session, SessionData, SessionInfo } from './session';
export type { SessionEvent, SessionEvents, SessionEventSource, StoreErrorEvent, RequestOutcomeEvent } from './events';
export type { SessionListing, ScannedSession, RevokeUserOptions } from './management';
