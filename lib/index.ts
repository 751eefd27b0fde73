/**
 * express-single-session: one live session per user, in Redis, as Express middleware.
 * This file only re-exports the public API (./core) and adds the typed `req.session` (./request).
 */
import './request';

export * from './core';
