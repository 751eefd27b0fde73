/**
 * The Devices panel end to end in headless Chromium (playwright-core): with SESSION_MAX_SESSIONS=2
 * two browsers of one user both stay signed in and both see two devices; one signs the other out,
 * and the other lands on /login with "This session was signed out from another device."
 * Screenshots go to __tests__/.artifacts/e2e/ (git-ignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createDemoApp } from '../../demo-app/app';
import { TEST_SECRET } from '../helpers/app';
import { TARGETS, uniquePrefix } from '../helpers/targets';

const ARTIFACTS = join(__dirname, '..', '.artifacts', 'e2e');
const REVOKED = 'This session was signed out from another device.';
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path): path is string => !!path && existsSync(path));

let redis: Redis | Cluster;
let browser: Browser;
let server: Server;
let base: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('Chromium is not installed, so the browser test cannot run. Install it: sudo apt-get install -y chromium, or set CHROMIUM_PATH.');
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  redis = TARGETS[0].ioredis();
  const { app } = createDemoApp({ redis, secret: TEST_SECRET, keyPrefix: uniquePrefix(), maxSessions: 2, pollSeconds: 1 });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  if (server) await new Promise((resolve) => server.close(resolve));
  await redis?.quit();
});

/** A signed-in page in a new browser context (its own cookies: another browser), as `username`. */
async function signedInBrowser(username: string, userAgent: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 }, userAgent });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', 'demo');
  await page.click('button[type="submit"]');
  await page.waitForURL(`${base}/`);
  return page;
}

test('two browsers with SESSION_MAX_SESSIONS=2: both signed in, both see two devices; one signs the other out', async () => {
  const laptop = await signedInBrowser('kim', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36');
  const phone = await signedInBrowser('kim', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1');

  await laptop.reload();
  expect(new URL(laptop.url()).pathname).toBe('/');
  for (const page of [laptop, phone]) {
    await expect(page.locator('[data-device]').count()).resolves.toBe(2);
    await expect(page.locator('[data-device][data-current]').count()).resolves.toBe(1);
  }
  await expect(laptop.textContent('[data-current] [data-field="browser"]')).resolves.toBe('Chrome on Linux');
  await expect(laptop.textContent('[data-device]:not([data-current]) [data-field="browser"]')).resolves.toBe('Safari on iOS');
  await expect(phone.textContent('[data-current] [data-field="browser"]')).resolves.toBe('Safari on iOS');
  await phone.waitForSelector('.live.ok'); // the phone's page is checking its session
  await laptop.screenshot({ path: join(ARTIFACTS, 'devices-1-two-devices.png'), fullPage: true });

  await laptop.click('[data-device]:not([data-current]) button:has-text("Sign out")');
  await laptop.waitForURL(`${base}/`);
  await expect(laptop.locator('[data-device]').count()).resolves.toBe(1);
  await laptop.screenshot({ path: join(ARTIFACTS, 'devices-2-signed-the-other-out.png'), fullPage: true });

  // The phone's page notices by itself (it checks every second) and goes to the sign-in page.
  await phone.waitForURL(`${base}/login?reason=revoked`, { timeout: 5000 });
  await expect(phone.textContent('.banner')).resolves.toBe(REVOKED);
  await phone.screenshot({ path: join(ARTIFACTS, 'devices-3-revoked.png'), fullPage: true });
  await phone.goto(`${base}/`);
  expect(new URL(phone.url()).pathname).toBe('/login');
  await laptop.reload();
  expect(new URL(laptop.url()).pathname).toBe('/');
});
