/**
 * The demo's browser-facing protections, kept deliberately simple:
 * - `securityHeaders`: a strict Content-Security-Policy (no inline script or style, no framing)
 *   and the usual nosniff / referrer headers, as a second line of defence behind escaping.
 * - `sameOriginWrites`: CSRF protection. The session cookie is SameSite=Lax (the package default),
 *   so other sites' POSTs arrive without it; on top of that every POST, PUT, PATCH or DELETE that
 *   carries an Origin header (browsers always send one on cross-site and form POSTs) must come from
 *   this very host, which also stops login CSRF. Requests without Origin or Referer are not from a
 *   browser form (curl, scripts, tests) and are let through.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

/** Sets the security headers on every response. */
export function securityHeaders(): RequestHandler {
  return function setSecurityHeaders(_req: Request, res: Response, next: NextFunction): void {
    res.set({
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'same-origin',
    });
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when the request is a write that a browser sent from another origin. */
export function isCrossSiteWrite(req: Request): boolean {
  if (SAFE_METHODS.has(req.method)) return false;
  const source = req.get('origin') ?? req.get('referer');
  if (source === undefined) return false;
  let host: string;
  try {
    host = new URL(source).host; // Origin "null" (sandboxed frames, file://) throws and is refused
  } catch {
    return true;
  }
  return host !== req.get('host');
}

/**
 * Refuses cross-site writes with 403; `reject` answers them (JSON for the API, a page for forms).
 */
export function sameOriginWrites(reject: (req: Request, res: Response) => void): RequestHandler {
  return function checkSameOrigin(req: Request, res: Response, next: NextFunction): void {
    if (isCrossSiteWrite(req)) return reject(req, res);
    next();
  };
}
