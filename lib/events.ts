/**
 * The manager's events: what they carry and how they are sent. Listeners run synchronously and a
 * listener that throws is ignored, so an app's logging or metrics can never break a request.
 * No event ever carries a token or its hash.
 */
import { EventEmitter } from 'node:events';
import type { Warn } from './debug';
import type { SessionError, SessionErrorCode } from './errors';

/** What a session event says. `userId` and `sessionId` are null where the package cannot know them. */
export interface SessionEvent {
  readonly userId: string | null;
  readonly sessionId: string | null;
  /** True when another app process ended the session and this one heard of it. */
  readonly remote?: boolean;
}

/** A session event about one known session: both ids are always there. */
export interface KnownSessionEvent extends SessionEvent {
  readonly userId: string;
  readonly sessionId: string;
}

/** A refused sign-in: the user is known; no session was created. */
export interface LimitEvent extends SessionEvent {
  readonly userId: string;
  readonly sessionId: null;
}

/** A failure of the session store, with the operation that hit it. */
export interface StoreErrorEvent {
  readonly error: SessionError;
  readonly operation: string;
}

/** A change to `req.session` that was not saved, with the error `onError` got for it. */
export interface SaveErrorEvent {
  /** Why: a refused name or value, a data limit (`INVALID_ARGUMENT`), the session ended, a change after the response, Redis. */
  readonly error: SessionError;
  readonly userId: string;
  readonly sessionId: string;
}

/** A request's outcome as the middleware resolved it: `OK` or why it has no session. */
export interface RequestOutcomeEvent {
  readonly outcome: 'OK' | SessionErrorCode;
}

/** Every event a manager emits and what each carries. */
export interface SessionEvents {
  /** A sign-in created a session. */
  login: KnownSessionEvent;
  /** A sign-in ended an older session of the same user (the limit, `displace-oldest`). */
  displaced: KnownSessionEvent;
  /** A sign-in was refused: the user is at `maxSessions` with `onLimit: 'reject-new'`. */
  limit: LimitEvent;
  /** A session was signed out (`logout()`, or a new sign-in in the same browser); ids are null when only a cookie named it. */
  logout: SessionEvent;
  /** A session was ended by `revokeSession()` or `revokeUser()`. */
  revoked: KnownSessionEvent;
  /** A request found its session expired (the package cannot tell whose: both ids are null). */
  expired: SessionEvent;
  /** Redis failed or did not answer in time. */
  'store-error': StoreErrorEvent;
  /** A change to `req.session` was not saved by the automatic save (what `onError` also gets). */
  'save-error': SaveErrorEvent;
  /** Every resolved request, for metrics. */
  request: RequestOutcomeEvent;
}

/** The typed listening side of a manager (it is a Node.js `EventEmitter`). */
export interface SessionEventSource {
  /** Adds a listener for `event`; it runs synchronously, and an exception it throws is ignored. */
  on<K extends keyof SessionEvents>(event: K, listener: (event: SessionEvents[K]) => void): this;
  /** Adds a listener that runs for the next `event` only. */
  once<K extends keyof SessionEvents>(event: K, listener: (event: SessionEvents[K]) => void): this;
  /** Removes a listener added with `on` or `once`. */
  off<K extends keyof SessionEvents>(event: K, listener: (event: SessionEvents[K]) => void): this;
  /** How many listeners `event` has. */
  listenerCount(event: keyof SessionEvents): number;
}

/** Sends one event to each listener; one that throws is skipped, the others still run. */
export function emitSafely<K extends keyof SessionEvents>(emitter: EventEmitter, name: K, event: SessionEvents[K]): void {
  if (emitter.listenerCount(name) === 0) return; // the common case on the request path: no copy of the listener list
  for (const listener of emitter.rawListeners(name)) {
    try {
      (listener as (e: SessionEvents[K]) => void).call(emitter, event);
    } catch {
      // An app's listener must not turn into a failed request or an unhandled exception.
    }
  }
}

/**
 * Where the automatic save reports a change it could not save: the app's `onError` and the `save-error`
 * event; with neither, the log (once per error code), so that no change is lost without a word.
 */
export interface UnsavedReporter {
  /** True when anyone listens (`onError` set, or a `save-error` listener): only then are late changes looked for. */
  wanted(): boolean;
  report(error: SessionError, session: { readonly userId: string; readonly sessionId: string }): void;
}

/** The reporter of one manager. */
export function createUnsavedReporter(onError: ((error: SessionError) => void) | undefined, emitter: EventEmitter, warn: Warn): UnsavedReporter {
  const wanted = (): boolean => onError !== undefined || emitter.listenerCount('save-error') > 0;
  return {
    wanted,
    report(error, session) {
      if (!wanted()) {
        const why = error.message.replace(/^express-single-session: /, '');
        warn('ESS_SESSION_NOT_SAVED', `a change to the session was not saved and the response went out without it (${error.code}): ${why} `
          + "Set the onError option or listen for 'save-error' to handle each one; this is said once per code.", `unsaved:${error.code}`);
        return;
      }
      onError?.(error);
      emitSafely(emitter, 'save-error', { error, userId: session.userId, sessionId: session.sessionId });
    },
  };
}
