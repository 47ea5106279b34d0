/**
 * Forgot password → reset → sign in, in headless Chromium at a phone's size (390×844): the
 * sign-in page's "Forgot password?" link, the form, the message at a real SMTP server, its
 * link, the new password, and back at the application signed in with it. SQLite only: the
 * storage paths are covered on both dialects by password-reset.test.ts.
 */
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallbackServer,
  hasChromium,
  launchChromium,
  screenshotPath,
  skipMessage,
  startCallbackServer,
} from './helpers/chromium.js';
import { authorizationRequest } from './helpers/oidc.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

if (!hasChromium) console.warn(skipMessage);

describe.skipIf(!hasChromium)(hasChromium ? 'password reset (Chromium)' : `password reset: ${skipMessage}`, () => {
  let ts: TestServer;
  let smtp: TestSmtp;
  let app: CallbackServer;
  let browser: Browser;
  let config: oidc.Configuration;
  let redirectUri: string;
  const email = 'forgetful@example.test';

  beforeAll(async () => {
    smtp = await startSmtp();
    [ts, app, browser] = await Promise.all([
      startTestServer('sqlite', { SMTP_URL: smtp.url }),
      startCallbackServer(),
      launchChromium(),
    ]);
    redirectUri = `${app.url}/callback`;
    const t = await tenantWithAdmin(ts);
    const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'spa', name: 'Browser app', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status).toBe(201);
    const user = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email, password: 'the password I forgot' },
    });
    expect(user.status).toBe(201);
    config = await oidc.discovery(new URL(`${ts.url}/t/${t.slug}`), client.body.clientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await ts?.close();
    await smtp?.stop();
  });

  it('asks for a link on the sign-in page, follows it, and signs in with the new password', async () => {
    const request = await authorizationRequest(config, redirectUri, { scope: 'openid email' });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      const page = await context.newPage();
      await page.goto(request.url.href);
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await expect(page.title()).resolves.toContain('Reset your password');
      // Fits the phone: nothing wider than the viewport.
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      expect(await page.getByRole('status').textContent()).toContain('If an account exists for that address');
      await page.screenshot({ path: screenshotPath('forgot-sent.png'), fullPage: true });

      const [message] = await smtp.waitFor(1);
      const link = /https?:\/\/\S+\/account\/reset\?token=[A-Za-z0-9_-]+/.exec(message?.text ?? '')?.[0];
      expect(link).toBeTruthy();
      await page.goto(link as string);
      await page.getByLabel('New password', { exact: true }).fill('a password I will remember');
      await page.getByLabel('New password again').fill('a password I will remember');
      await page.screenshot({ path: screenshotPath('reset-form.png'), fullPage: true });
      await page.getByRole('button', { name: 'Change the password' }).click();
      expect(await page.getByRole('status').textContent()).toContain('Your password has been changed');

      // Back to the sign-in (the request started before is still good for a new sign-in).
      await page.goto(request.url.href);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('a password I will remember');
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 15_000 }),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    } finally {
      await context.close();
    }
  });
});
