/**
 * In headless Chromium at a phone's size (390×844): an invitation ticket's link from a real
 * SMTP server → welcome and agreement → a new account on a tenant closed to self-registration
 * → the type's roles → the application; and the account page reached by signing in on the
 * tenant's page: its sections fit the phone, the name is changed, another session is signed
 * out; and self-registration → the verification message → confirmed → signed in. SQLite only: the storage paths are covered on both dialects by ticket-page.test.ts and
 * account-page.test.ts.
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
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

if (!hasChromium) console.warn(skipMessage);

const phone = { viewport: { width: 390, height: 844 }, isMobile: true };

describe.skipIf(!hasChromium)(
  hasChromium ? 'tickets and the account page (Chromium)' : `account page: ${skipMessage}`,
  () => {
    let ts: TestServer;
    let smtp: TestSmtp;
    let app: CallbackServer;
    let browser: Browser;
    let slug: string;
    let admin: ApiClient;

    beforeAll(async () => {
      smtp = await startSmtp();
      [ts, app, browser] = await Promise.all([
        startTestServer('sqlite', { SMTP_URL: smtp.url }),
        startCallbackServer(),
        launchChromium(),
      ]);
      ({ slug, api: admin } = await tenantWithAdmin(ts));
      expect(
        (await admin('POST', `/api/v1/tenants/${slug}/roles`, { body: { name: 'beta', permissions: [] } })).status,
      ).toBe(201);
      const origin = new URL(app.url).origin;
      const patched = await admin('PATCH', `/api/v1/tenants/${slug}`, {
        body: { settings: { allowedOrigins: [origin], selfRegistration: false } },
      });
      expect(patched.status, patched.text).toBe(200);
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      await ts?.close();
      await smtp?.stop();
    });

    const fitsPhone = async (page: import('playwright-core').Page) =>
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);

    it('ticket → welcome → register → roles → the application', async () => {
      const type = await admin('POST', `/api/v1/tenants/${slug}/ticket-types`, {
        body: {
          name: 'Beta',
          roles: ['beta'],
          allowUserCreation: true,
          postUseUrl: `${app.url}/welcome`,
          welcome: {
            title: 'Welcome to the beta',
            body: 'Read the rules first.',
            okText: 'Join',
            agreementRequired: true,
          },
        },
      });
      expect(type.status, type.text).toBe(201);
      const email = 'beta-tester@example.test';
      const issued = await admin('POST', `/api/v1/tenants/${slug}/ticket-types/${type.body.id}/tickets`, {
        body: { foreignKeys: [email] },
      });
      expect(issued.status).toBe(200);
      const message = await smtp.messageTo(email, 1);
      const link = /https?:\/\/\S+\/tickets\/[A-Za-z0-9_-]{43}/.exec(message.text)?.[0];
      expect(link, message.text).toBeTruthy();

      const context = await browser.newContext(phone);
      try {
        const page = await context.newPage();
        await page.goto(link as string);
        await expect(page.title()).resolves.toContain('Welcome to the beta');
        await fitsPhone(page);
        await page.getByLabel('I agree').check();
        await page.getByRole('button', { name: 'Join' }).click();
        await expect(page.title()).resolves.toContain('Accept the invitation');
        await fitsPhone(page);
        expect(await page.getByLabel('Email').inputValue()).toBe(email);
        await page.getByLabel('Name').fill('Beta Tester');
        await page.getByLabel('Password').fill('beta tester password 1');
        await page.screenshot({ path: screenshotPath('ticket-register.png'), fullPage: true });
        await page.getByRole('button', { name: 'Create the account and accept' }).click();
        await page.waitForURL(`${app.url}/welcome`);
      } finally {
        await context.close();
      }
      const users = await admin('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(email)}`);
      expect(users.body.items[0]?.roles).toEqual(['beta']);
      expect(users.body.items[0]?.emailVerified).toBe(true);
    });

    it('registration → the verification message → confirmed → signed in at the application', async () => {
      const opened = await admin('PATCH', `/api/v1/tenants/${slug}`, {
        body: { settings: { selfRegistration: true } },
      });
      expect(opened.status).toBe(200);
      const client = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
        body: { kind: 'spa', name: 'Sign-up app', redirectUris: [`${app.url}/callback`], firstParty: true },
      });
      expect(client.status, client.text).toBe(201);
      const config = await oidc.discovery(
        new URL(`${ts.url}/t/${slug}`),
        client.body.clientId,
        undefined,
        oidc.None(),
        {
          execute: [oidc.allowInsecureRequests],
        },
      );
      const request = await authorizationRequest(config, `${app.url}/callback`);
      const email = 'new-sign-up@example.test';
      const password = 'a new sign up password 1';
      const context = await browser.newContext(phone);
      try {
        const page = await context.newPage();
        await page.goto(request.url.href);
        await page.getByRole('link', { name: 'Create one' }).click();
        await fitsPhone(page);
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Create account' }).click();
        expect(await page.getByRole('status').textContent()).toContain('Check your inbox');
        const message = await smtp.messageTo(email, 1);
        const link = /https?:\/\/\S+\/account\/verify\?token=[A-Za-z0-9_-]{43}/.exec(message.text)?.[0];
        expect(link, message.text).toBeTruthy();
        const confirm = await context.newPage();
        await confirm.goto(link as string);
        await confirm.getByRole('button', { name: 'Confirm' }).click();
        expect(await confirm.getByRole('status').textContent()).toContain('confirmed');
        await page.getByLabel('Password').fill(password);
        await Promise.all([
          page.waitForURL((u) => u.href.startsWith(`${app.url}/callback`), { timeout: 15_000 }),
          page.getByRole('button', { name: 'Sign in' }).click(),
        ]);
        expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
      } finally {
        await context.close();
        await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: false } } });
      }
    });

    it('the account page on a phone: sign in, change the name, sign out the other session', async () => {
      const email = 'account-owner@example.test';
      const password = 'account owner password 1';
      const created = await admin('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email, password, emailVerified: true, displayName: 'Owner' },
      });
      expect(created.status).toBe(201);
      const accountUrl = `${ts.url}/t/${slug}/account`;
      const other = await browser.newContext();
      const context = await browser.newContext(phone);
      try {
        const elsewhere = await other.newPage();
        const signIn = async (page: import('playwright-core').Page) => {
          await page.goto(accountUrl);
          await page.getByLabel('Email').fill(email);
          await page.getByLabel('Password').fill(password);
          await page.getByRole('button', { name: 'Sign in' }).click();
          await expect(page.title()).resolves.toContain('Your account');
        };
        await signIn(elsewhere);
        const page = await context.newPage();
        await signIn(page);
        await fitsPhone(page);
        await page.screenshot({ path: screenshotPath('account-page.png'), fullPage: true });
        await page.getByLabel('Name').fill('Owner Renamed');
        await page.getByRole('button', { name: 'Save' }).click();
        expect(await page.getByRole('status').textContent()).toBe('Your profile is saved.');
        expect(await page.getByLabel('Name').inputValue()).toBe('Owner Renamed');
        await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
        expect(await page.getByRole('status').textContent()).toBe('Every other session is signed out.');
        await elsewhere.goto(accountUrl);
        await expect(elsewhere.title()).resolves.toContain('Sign in');
      } finally {
        await context.close();
        await other.close();
      }
    });
  },
);
