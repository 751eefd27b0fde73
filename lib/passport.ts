/**
 * `sessions.passport()`: what Passport 0.6 and 0.7 need from `req.session`, on this package's sessions.
 * Passport's `req.login()` regenerates the session, sets `passport.user` and saves: the save signs in through
 * `login()` with the serialized user as the user id (a new session and cookie: no fixation). `req.logout()`
 * deletes `passport.user`, saves and regenerates: the regenerate ends the session through `logout()`.
 * `passport.session()` reads `passport.user` of a signed-in session (its user id) and deserializes `req.user`.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SessionError } from './errors';
import { sessionOn, setSessionOn } from './middleware';
import { ActiveSession, type Session, type SessionData } from './session';

/** The manager's sign-in helpers this needs. */
export interface PassportSignIn {
  login(req: Request, res: Response, userId: string, data?: Partial<SessionData>): Promise<Session>;
  logout(req: Request, res: Response): Promise<void>;
}

/** Passport's record in the session: `{ user }`, the serialized user. */
interface PassportRecord { user?: unknown }

type Callback = (err?: unknown) => void;

/**
 * What `req.session` is for Passport on a request without a live session: where `req.login()` puts the
 * serialized user before it saves. Its other enumerable properties become the new session's data.
 */
class SignInSeat {
  declare passport?: PassportRecord;

  constructor(readonly seat: { req: Request; res: Response; previous: ActiveSession | null; signIn: PassportSignIn }) {
    Object.defineProperty(this, 'seat', { enumerable: false });
  }

  regenerate(callback: Callback): void {
    placeSeat(this.seat.req, this.seat.res, this.seat.previous, this.seat.signIn);
    process.nextTick(callback);
  }

  save(callback?: Callback): void {
    const { req, res, previous, signIn } = this.seat;
    const user = this.passport?.user;
    if (user === undefined || user === null) {
      // No user: nothing to keep (this package holds no anonymous sessions).
      if (callback) process.nextTick(callback);
      return;
    }
    if (typeof user !== 'string' && typeof user !== 'number') {
      callback?.(new SessionError('INVALID_ARGUMENT', 'sessions.passport() needs the serialized user to be its id (a string or number): passport.serializeUser((user, done) => done(null, user.id)).'));
      return;
    }
    const data: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(this)) if (name !== 'passport') data[name] = value;
    // The browser's previous session is on the request again, so login() ends it with this sign-in.
    setSessionOn(req, 'session', previous);
    signIn.login(req, res, String(user), data as Partial<SessionData>).then(
      (session) => {
        decorate(req, res, session as unknown as ActiveSession, signIn);
        if (callback) process.nextTick(callback);
      },
      (err: unknown) => {
        placeSeat(req, res, sessionOn(req), signIn);
        // Without a callback the failure is the store-error event's and the log's (login() reported it).
        if (callback) process.nextTick(callback, err);
      },
    );
  }
}

function placeSeat(req: Request, res: Response, previous: ActiveSession | null, signIn: PassportSignIn): void {
  (req as unknown as { session: unknown }).session = new SignInSeat({ req, res, previous, signIn });
}

/**
 * Gives a live session what Passport reads and calls, as members that are not data: `passport.user` (the
 * user id) and `regenerate`. Its `save(callback)` is the session's own.
 */
function decorate(req: Request, res: Response, session: ActiveSession, signIn: PassportSignIn): void {
  const record: PassportRecord = { user: session.userId };
  Object.defineProperty(session, 'passport', { value: record, writable: true, enumerable: false, configurable: true });
  Object.defineProperty(session, 'regenerate', {
    enumerable: false,
    configurable: true,
    value(callback: Callback) {
      if (record.user === undefined || record.user === null) {
        // req.logout() deleted the user, saved, and now regenerates: the session ends here.
        signIn.logout(req, res).then(() => {
          placeSeat(req, res, null, signIn);
          process.nextTick(callback);
        }, (err: unknown) => process.nextTick(callback, err));
        return;
      }
      // req.login(): the session ends when the new one is created (in login(), atomically for the same user).
      placeSeat(req, res, session, signIn);
      process.nextTick(callback);
    },
  });
}

/** The middleware `sessions.passport()` returns; mount it after `sessions.middleware()` and before `passport.session()`. */
export function createPassportSupport(signIn: PassportSignIn, requestProperty: string): RequestHandler {
  if (requestProperty !== 'session') {
    throw new SessionError('INVALID_OPTIONS', "sessions.passport() needs `requestProperty: 'session'`: Passport reads and writes req.session.");
  }
  return (req: Request, res: Response, next: NextFunction) => {
    const session = sessionOn(req);
    if (session) decorate(req, res, session, signIn);
    else placeSeat(req, res, null, signIn);
    next();
  };
}
