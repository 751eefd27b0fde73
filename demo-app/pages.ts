/**
 * The demo's HTML pages: GET/POST /login (the sign-in form), GET / (your session) and
 * POST /logout. A browser without a live session is sent to /login with the reason taken from
 * `req.sessionErrorCode`, so a displaced or expired session gets its own banner.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { SessionError, type SessionManager } from '../lib';
import { checkSignIn } from './accounts';
import { devicesPanel, devicesRouter } from './devices';
import { sameOriginWrites } from './security';
import { stepUpRouter } from './step-up';
import { homePage, isSignInReason, messagePage, signInPage, signInUrl } from './views';

/** What the pages need to know besides the manager. */
export interface PageSettings {
  idleTimeout: number;
  absoluteTimeout: number | false;
  pollSeconds: number;
  maxSessions: number;
  onLimit: 'displace-oldest' | 'reject-new';
  /** How recent a sign-in or password confirmation must be for "Change password". */
  recentLoginSeconds: number;
}

/** Answers a sign-in form refused by the attempt limits: the form again, 429, with Retry-After. */
export function tooManyAttemptsPage(req: Request, res: Response, retryAfter: number): void {
  const { username } = (req.body ?? {}) as Record<string, unknown>;
  res.set('Retry-After', String(retryAfter));
  sendPage(res, 429, signInPage({ error: `Too many failed sign-ins. Try again in ${retryAfter} seconds.`, username: typeof username === 'string' ? username : '' }));
}

/** Builds the router of the HTML pages; `signInLimits` guard POST /login, `confirmLimits` POST /confirm-password. */
export function pagesRouter(
  sessions: SessionManager, settings: PageSettings, signInLimits: RequestHandler[] = [], confirmLimits: RequestHandler[] = [],
): Router {
  const pages = express.Router();
  pages.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  pages.use(sameOriginWrites((_req, res) => sendPage(res, 403, messagePage('Request refused', 'Forms can only be sent from this site.'))));
  pages.use(express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }));

  const rejectsPastLimit = settings.onLimit === 'reject-new' ? settings.maxSessions : undefined;

  pages.get('/', async (req, res, next) => {
    if (!req.session) return res.redirect(303, signInUrl(req.sessionErrorCode));
    try {
      const devices = devicesPanel(await sessions.listSessions(req.session.userId), req.session.sessionId, settings.maxSessions);
      sendPage(res, 200, homePage({ session: req.session, ...settings, devices }));
    } catch (err) {
      next(err);
    }
  });

  pages.get('/login', (req, res) => {
    if (req.session) return res.redirect(303, '/');
    const reason = isSignInReason(req.query.reason) ? req.query.reason : undefined;
    sendPage(res, 200, signInPage({ reason, rejectsPastLimit }));
  });

  pages.post('/login', ...signInLimits, async (req, res, next) => {
    const { username, password } = (req.body ?? {}) as Record<string, unknown>;
    const check = checkSignIn(username, password);
    if ('refusal' in check) {
      const shown = typeof username === 'string' ? username : '';
      return sendPage(res, check.refusal.status, signInPage({ error: check.refusal.message, username: shown }));
    }
    try {
      await sessions.login(req, res, check.userId);
      res.redirect(303, '/');
    } catch (err) {
      if (err instanceof SessionError && err.code === 'SESSION_LIMIT_REACHED') {
        const error = 'This account is already signed in elsewhere. Sign out on another device first, then sign in here.';
        return sendPage(res, 409, signInPage({ error, username: check.userId, rejectsPastLimit }));
      }
      next(err);
    }
  });

  pages.post('/logout', async (req, res, next) => {
    try {
      await sessions.logout(req, res);
      res.redirect(303, '/login?reason=signed-out');
    } catch (err) {
      next(err);
    }
  });

  pages.use(devicesRouter(sessions));
  pages.use(stepUpRouter(sessions, settings.recentLoginSeconds, confirmLimits));
  pages.use((_req, res) => sendPage(res, 404, messagePage('Not found', 'There is no page at this address.')));
  pages.use(pageErrors);
  return pages;
}

function sendPage(res: Response, status: number, page: string): void {
  res.status(status).type('html').send(page);
}

function pageErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  if (err instanceof SessionError && err.code === 'SESSION_STORE_UNAVAILABLE') {
    return sendPage(res, 503, signInPage({ error: 'The session service is unavailable right now. Please try again shortly.' }));
  }
  const status = (err as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return sendPage(res, status, messagePage('Bad request', 'The form could not be read. Please try again.'));
  }
  console.error('demo: unexpected error on a page:', err);
  sendPage(res, 500, messagePage('Something went wrong', 'The server could not handle this request.'));
}
