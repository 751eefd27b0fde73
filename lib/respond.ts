/**
 * Answering a `SessionError` over HTTP, the one way `requireSession()` and `errorHandler()` both do:
 * its status, `{ error: { code, message } }` with the user-facing message, no caching, `Retry-After` on 503.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { SessionError, statusOf, USER_MESSAGES, type SessionErrorCode } from './errors';

/** Seconds a client should wait before retrying when the session store is unavailable. */
const RETRY_AFTER_SECONDS = '1';

/**
 * Sends the JSON answer for `code`. It takes the code, not an error, so that rejecting a request
 * builds no Error (and stack trace); the developer-facing `err.message` and cause are never sent.
 */
export function answer(res: Response, code: SessionErrorCode): void {
  res.status(statusOf(code)).set('Cache-Control', 'no-store');
  if (code === 'SESSION_STORE_UNAVAILABLE') res.set('Retry-After', RETRY_AFTER_SECONDS);
  res.json({ error: { code, message: USER_MESSAGES[code] } });
}

/**
 * Express error middleware: answers any `SessionError` passed to `next(err)` (or thrown by an
 * async handler in Express 5) as `requireSession()` does; passes everything else on unchanged.
 */
export function createErrorHandler(): ErrorRequestHandler {
  return function sessionErrorHandler(err, _req, res, next): void {
    // Once headers are out there is nothing left to answer with; Express's default handler closes the connection.
    if (!(err instanceof SessionError) || res.headersSent) return next(err);
    answer(res, err.code);
  };
}
