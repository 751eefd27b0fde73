/**
 * The demo's pages as functions of their data: the sign-in page, the signed-in page and a
 * plain message page. Every value is escaped by the `html` tag; styling lives in public/demo.css
 * and the live link (EventSource) in public/live.js (the CSP allows no inline script or style).
 */
import type { Session, SessionErrorCode } from '../lib';
import { DEMO_PASSWORD, MAX_USERNAME } from './accounts';
import { html, type SafeHtml } from './html';

/** Why a browser was sent to the sign-in page; the `reason` query parameter. */
export type SignInReason = 'displaced' | 'revoked' | 'expired' | 'invalid' | 'unavailable' | 'signed-out' | 'signed-out-elsewhere' | 'rotated';

const BANNERS: Record<SignInReason, { tone: 'warning' | 'info'; text: string }> = {
  displaced: { tone: 'warning', text: 'You were signed out because your account signed in somewhere else.' },
  revoked: { tone: 'warning', text: 'This session was signed out from another device.' },
  expired: { tone: 'warning', text: 'Your session expired. Please sign in again.' },
  invalid: { tone: 'warning', text: 'Your session cookie was not valid. Please sign in again.' },
  unavailable: { tone: 'warning', text: 'The session service is unavailable right now. Please try again shortly.' },
  'signed-out': { tone: 'info', text: 'You have signed out.' },
  'signed-out-elsewhere': { tone: 'info', text: 'You signed out in another tab or window.' },
  // Only a browser still holding the cookie from before "Confirm your password" sees this: with the new one, /login goes on to /.
  rotated: { tone: 'info', text: 'Your password was confirmed in another tab, which renewed your session cookie. This tab still had the old one: please sign in again.' },
};

/** The `reason` values the sign-in page knows; anything else is ignored. */
export function isSignInReason(value: unknown): value is SignInReason {
  return typeof value === 'string' && Object.hasOwn(BANNERS, value);
}

const REASON_OF: Partial<Record<SessionErrorCode, SignInReason>> = {
  SESSION_DISPLACED: 'displaced',
  SESSION_REVOKED: 'revoked',
  SESSION_EXPIRED: 'expired',
  SESSION_INVALID: 'invalid',
  SESSION_STORE_UNAVAILABLE: 'unavailable',
  // A request that raced reauthenticate() (e.g. sent just before its answer set the new cookie): /login
  // sends a browser that has the new cookie straight back to /, so only a stale one sees the banner.
  SESSION_ROTATED: 'rotated',
};

/** The sign-in page's address for a request without a session, with the reason as a banner. */
export function signInUrl(code: SessionErrorCode | null): string {
  const reason = code ? REASON_OF[code] : undefined;
  return reason ? `/login?reason=${reason}` : '/login';
}

/** A whole page around `body`. */
export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · express-single-session demo</title>
<link rel="stylesheet" href="/demo.css">
</head>
<body>
<header class="site"><span class="brand">express-single-session</span> <span class="tagline">one live session per user</span></header>
<main>
${body}
</main>
</body>
</html>
`.markup;
}

/** What the sign-in page shows. */
export interface SignInView {
  reason?: SignInReason;
  error?: string;
  username?: string;
  /** When set, the page says that sign-ins past the limit are refused. */
  rejectsPastLimit?: number;
}

/** The sign-in form, with a banner for `reason` and an error for a refused attempt. */
export function signInPage({ reason, error, username = '', rejectsPastLimit }: SignInView): string {
  const banner = reason ? BANNERS[reason] : undefined;
  return layout('Sign in', html`
<section class="card">
  <h1>Sign in</h1>
  ${banner ? html`<p class="banner ${banner.tone}" role="status" data-reason="${reason}">${banner.text}</p>` : ''}
  ${error ? html`<p class="banner error" role="alert">${error}</p>` : ''}
  <form method="post" action="/login" class="stack">
    <label>Username <input name="username" value="${username}" maxlength="${MAX_USERNAME}" autocomplete="username" required ${username ? '' : 'autofocus'}></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required ${username ? 'autofocus' : ''}></label>
    <button type="submit">Sign in</button>
  </form>
  <p class="hint">Demo accounts: <strong>any username</strong> with the password <code>${DEMO_PASSWORD}</code>.</p>
  ${rejectsPastLimit ? html`<p class="hint" data-policy="reject-new">An account can be signed in on ${rejectsPastLimit === 1 ? 'one device' : `${rejectsPastLimit} devices`} at a time here: a sign-in past that is refused until another device signs out.</p>` : ''}
</section>
<section class="card muted">
  <h2>Try it</h2>
  <ol>
    <li>Sign in here as, say, <code>alice</code>.</li>
    <li>Sign in as <code>alice</code> again in another browser or a private window.</li>
    <li>Come back: this browser was signed out, because a user has one live session at a time.</li>
  </ol>
</section>`);
}

/** What the signed-in page shows. */
export interface HomeView {
  session: Session;
  idleTimeout: number;
  absoluteTimeout: number | false;
  /** How often the page checks its session when EventSource is unavailable. */
  pollSeconds: number;
  /** The Devices panel, when the page shows one. */
  devices?: SafeHtml;
}

/** The signed-in page: who you are, your session's handle and times, and a sign-out button. */
export function homePage({ session, idleTimeout, absoluteTimeout, pollSeconds, devices }: HomeView): string {
  return layout('Your session', html`
<section class="card" id="session" data-poll-seconds="${pollSeconds}" data-idle-seconds="${idleTimeout}">
  <h1>Signed in as <span class="user" data-field="userId">${session.userId}</span></h1>
  <p class="live" id="live" aria-live="polite"><span class="dot"></span> <span id="live-text">Connecting to live updates…</span></p>
  <dl class="facts">
    <dt>Session handle</dt><dd><code data-field="sessionId">${session.sessionId}</code></dd>
    <dt>Signed in</dt><dd>${time('createdAt', session.createdAt)}</dd>
    <dt>Last active</dt><dd>${time('lastActiveAt', session.lastActiveAt)}</dd>
    <dt>Idle expiry</dt><dd>${time('idleExpiresAt', session.idleExpiresAt)} <span class="note">(${duration(idleTimeout)} unused)</span></dd>
    <dt>Absolute expiry</dt><dd>${session.absoluteExpiresAt ? html`${time('absoluteExpiresAt', session.absoluteExpiresAt)} <span class="note">(${duration(absoluteTimeout as number)} after sign-in)</span>` : 'none (turned off)'}</dd>
    <dt>Expires</dt><dd>${time('expiresAt', session.expiresAt)} <span class="note" data-countdown></span></dd>
  </dl>
  <form method="post" action="/logout"><button type="submit" class="secondary">Sign out</button></form>
  <p class="note"><a href="/account/password">Change password</a> (asks you to confirm your password first)</p>
</section>
${devices ?? ''}
<section class="card muted">
  <h2>Now sign in as <code>${session.userId}</code> somewhere else</h2>
  <p>Use another browser or a private window. The moment you sign in there, this page is told that its session was
  displaced and goes to the sign-in page by itself. It is told the same way when you sign out in another tab, when the
  session is revoked, and when it expires after being unused: the live link is not activity,
  so an idle tab still times out.</p>
</section>
<script src="/live.js"></script>`);
}

/** A page with a heading and one message, for errors. */
export function messagePage(title: string, message: string): string {
  return layout(title, html`<section class="card"><h1>${title}</h1><p>${message}</p><p><a href="/">Back to the demo</a></p></section>`);
}

function time(field: string, date: Date): SafeHtml {
  const iso = date.toISOString();
  return html`<time datetime="${iso}" data-field="${field}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
