// The page's script: calls the JSON API with fetch and answers each error code the API can send.
// Type-checked with the examples (checkJs, strict): the JSDoc types below are all it needs.
'use strict';

/** What to tell the user for each code a protected call can get back. @type {Record<string, string>} */
const NOTICES = {
  SESSION_MISSING: '',
  SESSION_INVALID: 'Please sign in again.',
  SESSION_EXPIRED: 'Your session expired. Please sign in again.',
  SESSION_DISPLACED: 'You were signed out because your account signed in somewhere else.',
  BAD_CREDENTIALS: 'Wrong username or password.',
};

/** @param {string} id @returns {HTMLElement} */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {string | null} userId @param {string} [notice] */
function show(userId, notice) {
  $('sign-in').hidden = Boolean(userId);
  $('signed-in').hidden = !userId;
  $('user').textContent = userId || '';
  $('notice').textContent = notice || '';
}

/**
 * Calls the API; resolves with the JSON body, or shows the sign-in form with the reason on a 401.
 * @param {string} method @param {string} path @param {object} [body] @returns {Promise<any>}
 */
async function call(method, path, body) {
  const res = await fetch(`/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 204) return null;
  const json = await res.json();
  if (res.ok) return json;
  const { code, message } = json.error;
  if (res.status === 401) {
    show(null, code in NOTICES ? NOTICES[code] : message);
  } else if (res.status === 503) {
    // SESSION_STORE_UNAVAILABLE: nobody is signed out; try again after Retry-After seconds.
    const seconds = Number(res.headers.get('Retry-After')) || 1;
    $('notice').textContent = `${message} Retrying in ${seconds} s.`;
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return call(method, path, body);
  } else {
    $('notice').textContent = message;
  }
  return null;
}

$('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(/** @type {HTMLFormElement} */ (event.target));
  const session = await call('POST', '/login', { username: form.get('username'), password: form.get('password') });
  if (session) show(session.userId);
});

$('sign-out').addEventListener('click', async () => {
  await call('POST', '/logout');
  show(null);
});

// On load, and whenever the tab comes back, ask who we are: a displaced or expired session shows why.
async function refresh() {
  const me = await call('GET', '/me');
  if (me) show(me.userId);
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) refresh().catch(console.error);
});
refresh().catch(console.error);
