/**
 * The `req.session` and `req.sessionErrorCode` types on Express's `Request`, as a global
 * augmentation of its own: the main entry includes it, `express-single-session/core` leaves it out
 * (for apps that also have @types/express-session, which declares `req.session` differently).
 */
import type { SessionErrorCode } from './errors';
import type { Session } from './session';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The live session, or null when the request has none (see `sessionErrorCode`). Set by `sessions.middleware()`. */
      session: Session | null;
      /** Why `session` is null (`SESSION_MISSING`, `SESSION_EXPIRED`, ...); null when there is a session. */
      sessionErrorCode: SessionErrorCode | null;
    }
  }
}

export {};
