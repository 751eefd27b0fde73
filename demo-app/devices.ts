/**
 * The dashboard's Devices panel: every live session of the signed-in user (browser and system
 * from the User-Agent, IP, sign-in and last-active times), "this device" marked, a Sign out button
 * for each other device (`revokeSession`) and "Sign out all other devices" (`revokeUser` with `except`).
 */
import express, { type Router } from 'express';
import type { SessionListing, SessionManager } from '../lib';
import { html, type SafeHtml } from './html';

const BROWSERS: [RegExp, string][] = [
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/HeadlessChrome\//, 'Chrome (headless)'],
  [/Chrome\/|CriOS\//, 'Chrome'],
  [/Version\/[\d.]+.*Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
];
const SYSTEMS: [RegExp, string][] = [
  [/Windows/, 'Windows'],
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux|X11/, 'Linux'],
];

/** "Firefox on Linux" from a User-Agent; "Unknown browser" when it says nothing we know, or was not recorded. */
export function describeClient(userAgent: string | null): string {
  if (!userAgent) return 'Unknown browser';
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (!browser) return system ? `Unknown browser on ${system}` : 'Unknown browser';
  return system ? `${browser} on ${system}` : browser;
}

function time(date: Date): SafeHtml {
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

/** The Devices panel for the user whose current session is `currentSessionId`. */
export function devicesPanel(devices: SessionListing[], currentSessionId: string, maxSessions: number): SafeHtml {
  const others = devices.filter((device) => device.sessionId !== currentSessionId).length;
  return html`
<section class="card" id="devices">
  <h2>Devices</h2>
  <p class="note">${devices.length === 1 ? 'Signed in on 1 device' : `Signed in on ${devices.length} devices`}; this demo allows ${maxSessions} at a time.</p>
  <ul class="devices">
    ${devices.map((device) => {
      const current = device.sessionId === currentSessionId;
      return html`<li class="device${current ? ' current' : ''}" data-device data-session-id="${device.sessionId}"${current ? html` data-current` : ''}>
      <div><strong data-field="browser">${describeClient(device.userAgent)}</strong>${current ? html` <span class="tag">This device</span>` : ''}</div>
      <div class="note">IP <span data-field="ip">${device.ip ?? 'not recorded'}</span> · signed in ${time(device.createdAt)} · last active ${time(device.lastActiveAt)}</div>
      ${current ? '' : html`<form method="post" action="/devices/sign-out"><input type="hidden" name="sessionId" value="${device.sessionId}"><button type="submit" class="secondary small">Sign out</button></form>`}
    </li>`;
    })}
  </ul>
  ${others > 0 ? html`<form method="post" action="/devices/sign-out-others"><button type="submit" class="secondary">Sign out all other devices</button></form>` : ''}
</section>`;
}

/** POST /devices/sign-out and POST /devices/sign-out-others, for the signed-in user's own sessions. */
export function devicesRouter(sessions: SessionManager): Router {
  const devices = express.Router();
  devices.post('/devices/sign-out', async (req, res, next) => {
    if (!req.session) return res.redirect(303, '/');
    const { sessionId } = (req.body ?? {}) as Record<string, unknown>;
    try {
      // This device signs out with the Sign out button of its own card, which also clears its cookie.
      if (typeof sessionId === 'string' && sessionId !== req.session.sessionId) await sessions.revokeSession(req.session.userId, sessionId);
      res.redirect(303, '/');
    } catch (err) {
      next(err);
    }
  });
  devices.post('/devices/sign-out-others', async (req, res, next) => {
    if (!req.session) return res.redirect(303, '/');
    try {
      await sessions.revokeUser(req.session.userId, { except: req.session.sessionId });
      res.redirect(303, '/');
    } catch (err) {
      next(err);
    }
  });
  return devices;
}
