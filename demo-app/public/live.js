/*
 * The signed-in page's live link to its session: an EventSource on GET /api/session/events. The
 * server says `session` (the expiry, which other tabs' requests move) and, the moment the session
 * ends anywhere, `ended` with the reason: the page then goes to the sign-in page with the matching
 * banner. The stream is not activity, so an idle tab still expires. Only when EventSource fails does
 * the page fall back to a slow poll, which asks without counting as activity either.
 */
(function () {
  'use strict';
  var card = document.getElementById('session');
  var live = document.getElementById('live');
  var liveText = document.getElementById('live-text');
  if (!card || !live || !liveText) return;
  var pollMs = Number(card.dataset.pollSeconds) * 1000 || 30000;
  var REASONS = {
    SESSION_DISPLACED: 'displaced',
    SESSION_REVOKED: 'revoked',
    SESSION_EXPIRED: 'expired',
    SESSION_LOGGED_OUT: 'signed-out-elsewhere',
    SESSION_INVALID: 'invalid',
    SESSION_MISSING: 'signed-out',
    SESSION_ROTATED: 'rotated',
  };
  var leaving = false;
  var source = null;
  var poller = null;

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

  function leave(code) {
    if (leaving) return;
    leaving = true;
    if (source) source.close();
    if (poller) clearInterval(poller);
    window.location.replace('/login?reason=' + (REASONS[code] || 'expired'));
  }

  /* One look at the session. `Accept: text/event-stream` asks the server for a read-only lookup: the
     check does not count as activity, so it cannot keep an idle session alive. */
  function check() {
    if (leaving) return;
    fetch('/api/session', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/event-stream, application/json' } }).then(function (res) {
      return res.json().then(function (body) { return { status: res.status, body: body }; });
    }).then(function (reply) {
      if (reply.status === 200) {
        showTime('expiresAt', reply.body.expiresAt);
        status('ok', 'Checked ' + new Date().toLocaleTimeString() + ' (live updates unavailable; checking every ' + pollMs / 1000 + ' s).');
        return;
      }
      var code = reply.body && reply.body.error && reply.body.error.code;
      if (REASONS[code]) return leave(code);
      status('down', 'The session service is unavailable; retrying.');
    }).catch(function () {
      status('down', 'Cannot reach the demo server; retrying.');
    });
  }

  function fallBackToPolling() {
    if (poller || leaving) return;
    check();
    poller = setInterval(check, pollMs);
  }

  function connect() {
    if (typeof window.EventSource !== 'function') return fallBackToPolling();
    source = new EventSource('/api/session/events');
    source.addEventListener('session', function (event) {
      var facts = JSON.parse(event.data);
      showTime('expiresAt', facts.expiresAt);
      countdown();
      status('ok', 'Live: this page is told the moment its session ends.');
    });
    source.addEventListener('ended', function (event) {
      leave(JSON.parse(event.data).code);
    });
    source.addEventListener('error', function () {
      if (leaving) return;
      if (source.readyState === EventSource.CONNECTING) {
        status('down', 'Live connection lost; reconnecting.');
        return;
      }
      // Closed for good (the server refused the stream): find out why once, then poll slowly.
      fallBackToPolling();
    });
  }

  // This tab signing out itself must not be reported as "signed out in another tab".
  document.querySelectorAll('form[action="/logout"]').forEach(function (form) {
    form.addEventListener('submit', function () {
      leaving = true;
      if (source) source.close();
    });
  });

  ['createdAt', 'lastActiveAt', 'idleExpiresAt', 'absoluteExpiresAt', 'expiresAt'].forEach(function (name) {
    var el = field(name);
    if (el) showTime(name, el.getAttribute('datetime'));
  });
  countdown();
  setInterval(countdown, 1000);
  connect();
})();
