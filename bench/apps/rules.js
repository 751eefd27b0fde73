/**
 * The rules every benchmarked app follows, so they do the same work: the cookie secret and the
 * session lifetimes (this package's defaults: 30 min idle, 8 h absolute, user index 1.5 x idle).
 */
'use strict';

module.exports = Object.freeze({
  SECRET: 'bench-cookie-secret-0123456789abcdef',
  IDLE_MS: 1_800_000,
  ABSOLUTE_MS: 28_800_000,
  INDEX_TTL_MS: 2_700_000,
});
