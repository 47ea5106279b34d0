/**
 * The API docs page (`/api/docs`, Swagger UI) in headless Chromium: it loads under its own
 * Content-Security-Policy without a single violation, and carries Latchkey's name and logo, not
 * Swagger's (@see issue 9, item 22).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../packages/server/test/helpers/server.js';
import { desktop, hasChromium, launchChromium, screenshotPath, skipMessage } from './helpers/console.js';

describe.skipIf(!hasChromium)(hasChromium ? 'API docs page (Chromium)' : `API docs page: ${skipMessage}`, () => {
  let ts: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    [ts, browser] = await Promise.all([startTestServer('sqlite'), launchChromium()]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await ts?.close();
  });

  it('renders the admin API under its CSP with no violation, branded Latchkey', async () => {
    const context = await browser.newContext({ viewport: desktop });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
      });
    });
    const res = await page.goto(`${ts.url}/api/docs`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toMatch(/style-src/);
    // The operations are listed (the spec loaded and rendered).
    await page.locator('.opblock').first().waitFor({ state: 'visible', timeout: 20_000 });
    await page.locator('.opblock').first().click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshotPath('api-docs.png') });
    expect(problems).toEqual([]);

    await expect(page.title()).resolves.toBe('Latchkey admin API');
    // Latchkey's header, not Swagger's top bar (whose logo is what broke the CSP).
    expect(await page.locator('.topbar').count()).toBe(0);
    await expect(page.locator('header.latchkey-topbar').textContent()).resolves.toMatch(/Latchkey\s*admin API/);
    const logo = page.locator('header.latchkey-topbar img[alt="Latchkey"]');
    await expect.poll(() => logo.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    expect(await page.content()).not.toMatch(/swagger ui/i);
    const icons = await page
      .locator('link[rel="icon"]')
      .evaluateAll((ls) => ls.map((l) => (l as HTMLLinkElement).href));
    expect(icons.length).toBeGreaterThan(0);
    expect(icons.some((href) => /favicon-(16|32)x/.test(href))).toBe(false);
    await context.close();
  });
});
