/**
 * `express-single-session/express-session`: a Store for express-session apps (one session per user
 * without rewriting the app). This file only re-exports.
 */
export { createSessionStore } from './store';
export type { ExpressSessionStore } from './store';
export type { SessionStoreOptions, ExpressSessionData } from './options';
export type { SessionEndedCode } from './sessions';
export { SessionError, USER_MESSAGES } from '../errors';
export type { SessionErrorCode } from '../errors';
export type { SessionListing, RevokeUserOptions } from '../management';
export type { SessionEvent, SessionEvents, SessionEventSource } from '../events';
