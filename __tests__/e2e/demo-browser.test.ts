/**
 * End to end in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) uses the demo through its forms. Two browser contexts are two browsers:
 * the second login of a user pushes the first out. Screenshots of each state go to
 * __tests__/.artifacts/e2e/ (git-ignored). Without Chromium the suite fails and says how to install it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createDemoApp, type DemoAppOptions } from '../../demo-app/app';
import { TEST_SECRET } from '../helpers/app';
import { TARGETS, uniquePrefix } from '../helpers/targets';

const ARTIFACTS = join(__dirname, '..', '.artifacts', 'e2e');
const DISPLACED = 'You were signed out because your account signed in somewhere else.';
const EXPIRED = 'Your session expired. Please sign in again.';

/** The Chromium binary: $CHROMIUM_PATH, else `chromium` on PATH, else /usr/bin/chromium; throws how to install it. */
function findChromium(): string {
  const candidates = [process.env.CHROMIUM_PATH, commandPath('chromium'), '/usr/bin/chromium'];
  const found = candidates.find((path): path is string => !!path && existsSync(path));
  if (!found) {
    throw new Error('Chromium is not installed, so the browser test cannot run. Install it: sudo apt-get install -y chromium (Debian/Ubuntu), or set CHROMIUM_PATH.');
  }
  return found;
}

function commandPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

let redis: Redis | Cluster;
let browser: Browser;
const servers: Server[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  redis = TARGETS[0].ioredis();
});
afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await redis?.quit();
});

/** Serves a demo app with `options` on a free port and returns its base URL. */
async function serveDemo(options: Partial<DemoAppOptions> = {}): Promise<string> {
  const { app } = createDemoApp({ redis, secret: TEST_SECRET, keyPrefix: uniquePrefix(), ...options });
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A page in a new browser context: its own cookies, as if it were another browser. */
async function newBrowserPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 720 } });
  contexts.push(context);
  return context.newPage();
}

async function signIn(page: Page, base: string, username: string, password = 'demo'): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('the demo in a real browser', () => {
  let base: string;
  beforeAll(async () => {
    base = await serveDemo();
  });

  test('a second login of the same user sends the first browser to /login with the displaced banner', async () => {
    const first = await newBrowserPage();
    await first.goto(`${base}/`);
    expect(new URL(first.url()).pathname).toBe('/login');
    await screenshot(first, '1-sign-in');

    await signIn(first, base, 'alice');
    await first.waitForURL(`${base}/`);
    await expect(first.textContent('h1')).resolves.toBe('Signed in as alice');
    const firstHandle = await first.textContent('[data-field="sessionId"]');
    await screenshot(first, '2-signed-in-first-browser');

    const second = await newBrowserPage();
    await signIn(second, base, 'Alice');
    await second.waitForURL(`${base}/`);
    const secondHandle = await second.textContent('[data-field="sessionId"]');
    expect(secondHandle).not.toBe(firstHandle);
    await screenshot(second, '3-signed-in-second-browser');

    await first.reload();
    expect(first.url()).toBe(`${base}/login?reason=displaced`);
    await expect(first.textContent('.banner')).resolves.toBe(DISPLACED);
    await screenshot(first, '4-displaced');

    await second.reload();
    await expect(second.textContent('[data-field="sessionId"]')).resolves.toBe(secondHandle);
  });

  test('a wrong password shows the form again with an error', async () => {
    const page = await newBrowserPage();
    await signIn(page, base, 'bob', 'letmein');
    await expect(page.textContent('.banner.error')).resolves.toContain('Wrong username or password.');
    await expect(page.inputValue('input[name="username"]')).resolves.toBe('bob');
    await screenshot(page, '5-wrong-password');
  });

  test('signing out lands on /login saying so, and the session page is closed afterwards', async () => {
    const page = await newBrowserPage();
    await signIn(page, base, 'carol');
    await page.waitForURL(`${base}/`);
    await page.click('text=Sign out');
    await page.waitForURL(`${base}/login?reason=signed-out`);
    await expect(page.textContent('.banner')).resolves.toBe('You have signed out.');
    await screenshot(page, '6-signed-out');
    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/login`);
  });
});

describe('the live link of the session page (EventSource, no polling)', () => {
  test('a second sign-in elsewhere sends the first browser to /login with the displaced banner within 2 s, without a reload', async () => {
    const base = await serveDemo();
    const first = await newBrowserPage();
    await signIn(first, base, 'dave');
    await first.waitForURL(`${base}/`);
    await first.waitForSelector('.live.ok'); // the stream said `session`
    const second = await newBrowserPage();
    await signIn(second, base, 'dave');
    await second.waitForURL(`${base}/`);
    const signedInAt = Date.now();
    await first.waitForURL(`${base}/login?reason=displaced`, { timeout: 2000 });
    expect(Date.now() - signedInAt).toBeLessThan(2000);
    await expect(first.textContent('.banner')).resolves.toBe(DISPLACED);
    await screenshot(first, '9-displaced-live');
  });

  test('two tabs of one browser both leave when one signs out', async () => {
    const base = await serveDemo();
    const tab = await newBrowserPage();
    await signIn(tab, base, 'frank');
    await tab.waitForURL(`${base}/`);
    const other = await tab.context().newPage();
    await other.goto(`${base}/`);
    await Promise.all([tab.waitForSelector('.live.ok'), other.waitForSelector('.live.ok')]);
    await tab.click('text=Sign out');
    await tab.waitForURL(`${base}/login?reason=signed-out`);
    await other.waitForURL(`${base}/login?reason=signed-out-elsewhere`, { timeout: 2000 });
    await expect(other.textContent('.banner')).resolves.toBe('You signed out in another tab or window.');
    await screenshot(other, '10-signed-out-in-another-tab');
  });

  test('an idle tab leaves by itself with the expired banner: the live link is not activity', async () => {
    const base = await serveDemo({ idleTimeout: 2 });
    const page = await newBrowserPage();
    await signIn(page, base, 'erin');
    await page.waitForURL(`${base}/`);
    const signedInAt = Date.now();
    await page.waitForSelector('.live.ok');
    await screenshot(page, '7-short-idle-timeout');
    await page.waitForURL(`${base}/login?reason=expired`, { timeout: 5000 });
    // Ended at the sign-in's expiry (2 s), within a second: the stream did not keep the session alive.
    expect(Date.now() - signedInAt).toBeLessThan(3200);
    await expect(page.textContent('.banner')).resolves.toBe(EXPIRED);
    await screenshot(page, '8-expired');
  });
});
