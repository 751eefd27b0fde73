/**
 * Reading, setting and clearing the session cookie. cookie-parser (mounted with a secret)
 * signs and verifies it; this module only decides what the cookie says and how it is flagged.
 */
import type { CookieOptions as ExpressCookieOptions, Request, Response } from 'express';
import { SessionError } from './errors';
import type { Config } from './options';
import { parseCookieValue, type SessionRef } from './token';

/** What the request's cookie says: a reference, or why there is none. */
export type CookieReading = SessionRef | 'SESSION_MISSING' | 'SESSION_INVALID';

/** Cookie helpers bound to one configuration; flags are computed once. */
export function createCookieJar(config: Config['cookie']) {
  const base: ExpressCookieOptions = {
    httpOnly: true,
    signed: true,
    sameSite: config.sameSite,
    path: config.path,
    ...(config.domain ? { domain: config.domain } : {}),
  };
  const secureFor = (req: Request): boolean => (config.secure === 'auto' ? req.secure : config.secure);
  const { name } = config;

  return {
    /** The session reference in the request's signed cookie. Throws `MISCONFIGURED` without cookie-parser. */
    read(req: Request): CookieReading {
      const signed = req.signedCookies as Record<string, unknown> | undefined;
      if (signed === undefined || !(req as { secret?: string }).secret) {
        throw new SessionError('MISCONFIGURED', 'mount cookie-parser with a secret (app.use(cookieParser(secret))) before the session middleware.');
      }
      const value = signed[name];
      if (value === undefined) {
        // Present but unsigned means it was not issued here: cookie-parser leaves such values in req.cookies.
        return req.cookies?.[name] === undefined ? 'SESSION_MISSING' : 'SESSION_INVALID';
      }
      return parseCookieValue(value) ?? 'SESSION_INVALID';
    },

    /** Sets the session cookie; it expires with the absolute deadline, or with the browser session. */
    set(req: Request, res: Response, value: string, absoluteDeadline: number): void {
      if (!(req as { secret?: string }).secret) throw new SessionError('MISCONFIGURED', 'mount cookie-parser with a secret (app.use(cookieParser(secret))) to sign the session cookie.');
      const options: ExpressCookieOptions = { ...base, secure: secureFor(req) };
      if (absoluteDeadline > 0) options.expires = new Date(absoluteDeadline);
      res.cookie(name, value, options);
    },

    /** Tells the browser to drop the session cookie. */
    clear(req: Request, res: Response): void {
      if (res.headersSent) return;
      res.clearCookie(name, { ...base, signed: false, secure: secureFor(req) });
    },
  };
}

/** The cookie helpers of one manager. */
export type CookieJar = ReturnType<typeof createCookieJar>;
