/**
 * Reading, setting and clearing the session cookie. cookie-parser (mounted with a secret)
 * signs and verifies it; this module only decides what the cookie says and how it is flagged.
 */
import type { CookieOptions as ExpressCookieOptions, Request, Response } from 'express';
import type { Warn } from './debug';
import { SessionError } from './errors';
import type { Config } from './options';
import { parseCookieValue, type SessionRef } from './token';

/** What the request's cookie says: a reference, or why there is none. */
export type CookieReading = SessionRef | 'SESSION_MISSING' | 'SESSION_INVALID';

/** What a request without cookie-parser (or without its secret) is refused with, and what the log says once. */
const NO_COOKIE_PARSER = 'mount cookie-parser with a secret (app.use(cookieParser(secret))) before the session middleware';

/** Cookie helpers bound to one configuration; flags are computed once. `warn` says a wiring mistake once. */
export function createCookieJar(config: Config['cookie'], warn: Warn) {
  const base: ExpressCookieOptions = {
    httpOnly: true,
    signed: true,
    sameSite: config.sameSite,
    path: config.path,
    ...(config.domain ? { domain: config.domain } : {}),
  };
  const secureFor = (req: Request): boolean => (config.secure === 'auto' ? req.secure : config.secure);
  const { name, persistent } = config;
  let warned = config.secure !== 'auto';

  /** Warns once when `'auto'` sends a cookie without Secure to a client that is likely not local. */
  const warnIfInsecure = (req: Request): void => {
    if (warned || !seemsRemote(req)) return;
    warned = true;
    process.emitWarning(
      "express-single-session: cookie.secure is 'auto' and a session cookie went out without Secure to a request " +
        'that did not come from loopback (or came through a proxy). Behind a TLS-terminating proxy, set ' +
        "app.set('trust proxy', ...) so that req.secure is true; to serve plain HTTP on purpose, set cookie.secure: false.",
      { code: 'ESS_AUTO_COOKIE_NOT_SECURE' },
    );
  };

  /** The error for a request cookie-parser did not see (or saw without a secret), said in the log once. */
  const misconfigured = (noParser: boolean): SessionError => {
    const cause = noParser ? 'cookie-parser is not mounted' : 'cookie-parser is mounted without a secret';
    warn('ESS_MISCONFIGURED', `${cause}, so every request is answered 500 MISCONFIGURED: ${NO_COOKIE_PARSER}.`, `cookie:${noParser}`);
    return new SessionError('MISCONFIGURED', `${NO_COOKIE_PARSER}.`);
  };

  return {
    /** The session reference in the request's signed cookie. Throws `MISCONFIGURED` without cookie-parser. */
    read(req: Request): CookieReading {
      const signed = req.signedCookies as Record<string, unknown> | undefined;
      if (signed === undefined || !(req as { secret?: string }).secret) throw misconfigured(signed === undefined);
      const value = signed[name];
      if (value === undefined) {
        // Present but unsigned means it was not issued here: cookie-parser leaves such values in req.cookies.
        return req.cookies?.[name] === undefined ? 'SESSION_MISSING' : 'SESSION_INVALID';
      }
      return parseCookieValue(value) ?? 'SESSION_INVALID';
    },

    /** Sets the session cookie; it expires with the absolute deadline, or with the browser session. */
    set(req: Request, res: Response, value: string, absoluteDeadline: number): void {
      if (!(req as { secret?: string }).secret) throw misconfigured(req.signedCookies === undefined);
      const secure = secureFor(req);
      if (!secure) warnIfInsecure(req);
      const options: ExpressCookieOptions = { ...base, secure };
      if (persistent && absoluteDeadline > 0) options.expires = new Date(absoluteDeadline);
      res.cookie(name, value, options);
    },

    /** Tells the browser to drop the session cookie. */
    clear(req: Request, res: Response): void {
      if (res.headersSent) return;
      res.clearCookie(name, { ...base, signed: false, secure: secureFor(req) });
    },
  };
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Not from loopback (as Express sees the client, honouring `trust proxy`), or forwarded by a proxy. */
function seemsRemote(req: Request): boolean {
  if (req.headers?.['x-forwarded-proto'] !== undefined) return true;
  const ip = req.ip;
  return typeof ip === 'string' && !LOOPBACK.test(ip);
}

/** The cookie helpers of one manager. */
export type CookieJar = ReturnType<typeof createCookieJar>;
