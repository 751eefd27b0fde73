/**
 * The public API without the global `req.session` type (`express-single-session/core`), for apps
 * that also have @types/express-session; they read the session with `sessions.sessionOf(req)`.
 * This file only re-exports.
 */

export { createSessionManager } from './manager';
export type { SessionManager } from './manager';
export { SessionError, USER_MESSAGES } from './errors';
export type { SessionErrorCode } from './errors';
export type { SessionManagerOptions, CookieOptions } from './options';
export type { IoredisClient, NodeRedisClient } from './clients/detect';
export type { RequireSessionOptions } from './middleware';
export type { Session, SessionData, SessionInfo } from './session';
export type { SessionEvent, KnownSessionEvent, LimitEvent, SessionEvents, SessionEventSource, StoreErrorEvent, SaveErrorEvent, RequestOutcomeEvent } from './events';
export type { SessionListing, ScannedSession, RevokeUserOptions } from './management';
export type { LiveEventsOptions, LiveEndCode } from './live/events-handler';
