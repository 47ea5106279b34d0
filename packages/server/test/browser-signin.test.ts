/**
 * One real browser sign-in: authorization code + PKCE in headless Chromium, the form found
 * by its labels and submitted with the "Sign in" button, the code exchanged by openid-client.
 * SQLite only: the storage paths are covered on both dialects by the HTTP suites.
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

if (!hasChromium) console.warn(skipMessage);

describe.skipIf(!hasChromium)(hasChromium ? 'browser sign-in (Chromium)' : `browser sign-in: ${skipMessage}`, () => {
  let ts: TestServer;
  let app: CallbackServer;
  let browser: Browser;
  let config: oidc.Configuration;
  let redirectUri: string;
  const email = 'chromium@example.test';
  const password = 'headless but not heartless';

  beforeAll(async () => {
    [ts, app, browser] = await Promise.all([startTestServer('sqlite'), startCallbackServer(), launchChromium()]);
    redirectUri = `${app.url}/callback`;
    const t = await tenantWithAdmin(ts);
    const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'spa', name: 'Browser app', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status).toBe(201);
    const user = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email, password, displayName: 'Chrome User' },
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
  });

  it('signs in with authorization code + PKCE and gets a valid ID token', async () => {
    const request = await authorizationRequest(config, redirectUri, { scope: 'openid email profile' });

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const cspViolations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
      });
      const response = await page.goto(request.url.href);
      expect(response?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toMatch(/\/interaction\//);
      await expect(page.title()).resolves.toContain('Sign in');

      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.screenshot({ path: screenshotPath('sign-in.png'), fullPage: true });
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 15_000 }),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      expect(cspViolations).toEqual([]);

      const callback = new URL(page.url());
      expect(callback.searchParams.get('code')).toBeTruthy();
      expect(callback.searchParams.get('iss')).toBe(config.serverMetadata().issuer);
      expect(app.requests.some((r) => r.startsWith('/callback?'))).toBe(true);
      expect(await page.textContent('body')).toContain('Back at the app.');

      const tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      expect(claims?.iss).toBe(config.serverMetadata().issuer);
      expect(claims?.aud).toBe(config.clientMetadata().client_id);
      expect(claims?.email).toBe(email);
      expect(claims?.name).toBe('Chrome User');
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims?.sub ?? '');
      expect(info.email).toBe(email);

      // The browser now holds a session: a second request comes straight back without the form.
      const again = await authorizationRequest(config, redirectUri);
      await page.goto(again.url.href);
      await page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 15_000 });
      expect(new URL(page.url()).searchParams.get('code')).toBeTruthy();
    } finally {
      await context.close();
    }
  });
});
