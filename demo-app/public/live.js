/*
 * The signed-in page's live indicator: every few seconds (while the tab is visible) it asks
 * GET /api/session. If the session is gone it goes to the sign-in page with the reason; otherwise
 * it refreshes the times shown and counts down to the expiry.
 */
(function () {
  'use strict';
  var card = document.getElementById('session');
  var live = document.getElementById('live');
  var liveText = document.getElementById('live-text');
  if (!card || !live || !liveText) return;
  var pollMs = Number(card.dataset.pollSeconds) * 1000 || 5000;
  var idleMs = Number(card.dataset.idleSeconds) * 1000;
  var REASONS = {
    SESSION_DISPLACED: 'displaced',
    SESSION_REVOKED: 'revoked',
    SESSION_EXPIRED: 'expired',
    SESSION_INVALID: 'invalid',
    SESSION_MISSING: 'signed-out',
  };

  function field(name) { return card.querySelector('[data-field="' + name + '"]'); }

  function showTime(name, iso) {
    var el = field(name);
    if (!el || !iso) return;
    el.setAttribute('datetime', iso);
    el.textContent = new Date(iso).toLocaleString();
  }

  function countdown() {
    var el = field('expiresAt');
    var out = card.querySelector('[data-countdown]');
    if (!el || !out) return;
    var left = Math.max(0, Math.round((new Date(el.getAttribute('datetime')).getTime() - Date.now()) / 1000));
    var min = Math.floor(left / 60);
    out.textContent = left > 0 ? '(in ' + (min > 0 ? min + ' min ' : '') + (left % 60) + ' s if unused)' : '(now)';
  }

  function status(tone, text) {
    live.className = 'live ' + tone;
    liveText.textContent = text;
  }

  function check() {
    if (document.hidden) return;
    fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
      return res.json().then(function (body) { return { status: res.status, body: body }; });
    }).then(function (reply) {
      if (reply.status === 200) {
        var s = reply.body;
        showTime('lastActiveAt', s.lastActiveAt);
        showTime('idleExpiresAt', new Date(new Date(s.lastActiveAt).getTime() + idleMs).toISOString());
        showTime('expiresAt', s.expiresAt);
        status('ok', 'Live: session valid, checked ' + new Date().toLocaleTimeString() + '.');
        return;
      }
      var code = reply.body && reply.body.error && reply.body.error.code;
      if (REASONS[code]) {
        window.location.replace('/login?reason=' + REASONS[code]);
        return;
      }
      status('down', 'The session service is unavailable; retrying.');
    }).catch(function () {
      status('down', 'Cannot reach the demo server; retrying.');
    });
  }

  ['createdAt', 'lastActiveAt', 'idleExpiresAt', 'absoluteExpiresAt', 'expiresAt'].forEach(function (name) {
    var el = field(name);
    if (el) showTime(name, el.getAttribute('datetime'));
  });
  countdown();
  check();
  setInterval(countdown, 1000);
  setInterval(check, pollMs);
  document.addEventListener('visibilitychange', check);
})();
