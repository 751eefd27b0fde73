/**
 * Step-up in the demo: "Change password" (a stub: nothing is stored) is a sensitive page, guarded
 * by `requireRecentLogin`. A session that signed in longer ago than `recentLoginSeconds` is sent to
 * "Confirm your password"; the right password calls `reauthenticate` and goes back to the page.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { SessionError, SessionManager } from '../lib';
import { checkSignIn } from './accounts';
import { html } from './html';
import { layout, messagePage, signInUrl } from './views';

const PAGE = '/account/password';

function confirmPage(error?: string): string {
  return layout('Confirm your password', html`
<section class="card">
  <h1>Confirm your password</h1>
  <p>Changing your password is a sensitive action: please confirm your password to continue.</p>
  ${error ? html`<p class="banner error" role="alert">${error}</p>` : ''}
  <form method="post" action="/confirm-password" class="stack">
    <label>Password <input name="password" type="password" autocomplete="current-password" required autofocus></label>
    <button type="submit">Confirm</button>
  </form>
  <p><a href="/">Cancel</a></p>
</section>`);
}

function changePasswordPage(recentLoginSeconds: number): string {
  return layout('Change password', html`
<section class="card">
  <h1>Change password</h1>
  <p class="note">You proved who you are within the last ${recentLoginSeconds} s, so this page is open. This is a demo: nothing is stored.</p>
  <form method="post" action="${PAGE}" class="stack">
    <label>New password <input name="newPassword" type="password" autocomplete="new-password" required></label>
    <button type="submit">Change password</button>
  </form>
  <p><a href="/">Back to your session</a></p>
</section>`);
}

/** Answers a password confirmation refused by the attempt limits: the form again, 429, with Retry-After. */
export function tooManyConfirmations(_req: Request, res: Response, retryAfter: number): void {
  res.set('Retry-After', String(retryAfter));
  res.status(429).type('html').send(confirmPage(`Too many wrong passwords. Try again in ${retryAfter} seconds.`));
}

/**
 * The step-up pages; `recentLoginSeconds` is how recent a sign-in or confirmation must be. `confirmLimits`
 * (the sign-in limiters) guard the password confirmation as they guard sign-in.
 */
export function stepUpRouter(sessions: SessionManager, recentLoginSeconds: number, confirmLimits: RequestHandler[] = []): Router {
  const router = express.Router();
  const send = (res: Response, status: number, page: string) => res.status(status).type('html').send(page);
  const toSignIn = (req: Request, res: Response) => res.redirect(303, signInUrl(req.sessionErrorCode));
  const guard = sessions.requireRecentLogin(recentLoginSeconds, {
    onReject: (req: Request, res: Response, error: SessionError) => {
      if (error.code === 'REAUTHENTICATION_REQUIRED') return res.redirect(303, '/confirm-password');
      toSignIn(req, res);
    },
  });
  const signedIn = sessions.requireSession({ onReject: toSignIn });

  router.get(PAGE, guard, (_req, res) => send(res, 200, changePasswordPage(recentLoginSeconds)));
  router.post(PAGE, guard, (_req, res) => send(res, 200, messagePage('Password changed', 'Your password was changed. (This is a demo: nothing was stored.)')));

  router.get('/confirm-password', signedIn, (_req, res) => send(res, 200, confirmPage()));
  router.post('/confirm-password', signedIn, ...confirmLimits, async (req, res, next) => {
    const { password } = (req.body ?? {}) as Record<string, unknown>;
    if ('refusal' in checkSignIn(req.session!.userId, password)) return send(res, 401, confirmPage('That is not your password. Please try again.'));
    try {
      await sessions.reauthenticate(req, res);
      res.redirect(303, PAGE);
    } catch (err) {
      next(err);
    }
  });
  return router;
}
