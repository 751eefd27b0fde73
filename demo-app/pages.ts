/**
 * The demo's HTML pages: GET/POST /login (the sign-in form), GET / (your session) and
 * POST /logout. A browser without a live session is sent to /login with the reason taken from
 * `req.sessionErrorCode`, so a displaced or expired session gets its own banner.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { SessionError, type SessionErrorCode, type SessionManager } from '../lib';
import { checkSignIn } from './accounts';
import { sameOriginWrites } from './security';
import { homePage, isSignInReason, messagePage, signInPage, type SignInReason } from './views';

/** What the pages need to know besides the manager. */
export interface PageSettings {
  idleTimeout: number;
  absoluteTimeout: number | false;
  pollSeconds: number;
}

const REASON_OF: Partial<Record<SessionErrorCode, SignInReason>> = {
  SESSION_DISPLACED: 'displaced',
  SESSION_EXPIRED: 'expired',
  SESSION_INVALID: 'invalid',
  SESSION_STORE_UNAVAILABLE: 'unavailable',
};

/** Answers a sign-in form refused by the attempt limits: the form again, 429, with Retry-After. */
export function tooManyAttemptsPage(req: Request, res: Response, retryAfter: number): void {
  const { username } = (req.body ?? {}) as Record<string, unknown>;
  res.set('Retry-After', String(retryAfter));
  sendPage(res, 429, signInPage({ error: `Too many failed sign-ins. Try again in ${retryAfter} seconds.`, username: typeof username === 'string' ? username : '' }));
}

/** Builds the router of the HTML pages; `signInLimits` guard POST /login. */
export function pagesRouter(sessions: SessionManager, settings: PageSettings, signInLimits: RequestHandler[] = []): Router {
  const pages = express.Router();
  pages.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  pages.use(sameOriginWrites((_req, res) => sendPage(res, 403, messagePage('Request refused', 'Forms can only be sent from this site.'))));
  pages.use(express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }));

  pages.get('/', (req, res) => {
    if (!req.session) return res.redirect(303, signInUrl(req.sessionErrorCode));
    sendPage(res, 200, homePage({ session: req.session, ...settings }));
  });

  pages.get('/login', (req, res) => {
    if (req.session) return res.redirect(303, '/');
    const reason = isSignInReason(req.query.reason) ? req.query.reason : undefined;
    sendPage(res, 200, signInPage({ reason }));
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

  pages.use((_req, res) => sendPage(res, 404, messagePage('Not found', 'There is no page at this address.')));
  pages.use(pageErrors);
  return pages;
}

function signInUrl(code: SessionErrorCode | null): string {
  const reason = code ? REASON_OF[code] : undefined;
  return reason ? `/login?reason=${reason}` : '/login';
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
