/**
 * Federated sign-in in headless Chromium against a real server (SQLite) and a stand-in
 * upstream provider (packages/server/test/helpers/upstream.ts): the sign-in page shows the
 * provider's button; clicking it goes upstream, which signs the user in, and back; a first
 * sign-in creates the account on the "finish signing in" page; the application gets a code
 * whose ID token says `amr: ["fed"]` and names the provider. A second round trip signs the
 * same user in with no page of ours on the way. On the account page, a user with a password
 * links the provider ("Link another way to sign in") and unlinks it. A tenant with password
 * sign-in off shows the button alone, and it signs in.
 *
 * Screenshots: test-results/screenshots/federation-*.png.
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
} from '../packages/server/test/helpers/chromium.js';
import { authorizationRequest } from '../packages/server/test/helpers/oidc.js';
import { startTestServer, type TestServer, tenantWithAdmin } from '../packages/server/test/helpers/server.js';
import { startUpstream, type Upstream } from '../packages/server/test/helpers/upstream.js';

if (!hasChromium) console.warn(skipMessage);

describe.skipIf(!hasChromium)(
  hasChromium ? 'federated sign-in (Chromium)' : `federated sign-in: ${skipMessage}`,
  { timeout: 60_000 },
  () => {
    let ts: TestServer;
    let up: Upstream;
    let app: CallbackServer;
    let browser: Browser;
    let config: oidc.Configuration;
    let redirectUri: string;
    let tenant: Awaited<ReturnType<typeof tenantWithAdmin>>;

    beforeAll(async () => {
      [ts, up, app, browser] = await Promise.all([
        startTestServer('sqlite', { FEDERATION_ALLOW_HTTP_ISSUERS: 'true' }),
        startUpstream(),
        startCallbackServer(),
        launchChromium(),
      ]);
      redirectUri = `${app.url}/callback`;
      const t = await tenantWithAdmin(ts);
      tenant = t;
      await t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { settings: { selfRegistration: true } } });
      const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
        body: { kind: 'spa', name: 'Browser app', redirectUris: [redirectUri], firstParty: true },
      });
      expect(client.status, client.text).toBe(201);
      const secret = 'e2e-upstream-secret-0123456789abcdef';
      up.addClient({
        client_id: 'latchkey-e2e',
        client_secret: secret,
        redirect_uris: [`${ts.url}/t/${t.slug}/federation/acme/callback`],
      });
      const idp = await t.api('POST', `/api/v1/tenants/${t.slug}/identity-providers`, {
        body: {
          slug: 'acme',
          displayName: 'Acme SSO',
          issuer: up.issuer,
          clientId: 'latchkey-e2e',
          clientSecret: secret,
          allowSignUp: true,
          allowLink: true,
          allowUnlink: true,
        },
      });
      expect(idp.status, idp.text).toBe(201);
      config = await oidc.discovery(new URL(`${ts.url}/t/${t.slug}`), client.body.clientId, undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });
      up.signInAs = { sub: 'e2e-1', email: 'chromium-fed@upstream.test', email_verified: true, name: 'Fed Chrome' };
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await Promise.all([ts?.close(), up?.close(), app?.close()]);
    });

    it('clicks the provider button, signs in upstream and comes back signed in', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      for (const round of [1, 2]) {
        const request = await authorizationRequest(config, redirectUri, { scope: 'openid email profile' });
        await page.goto(request.url.href);
        if (round === 1) {
          await page.screenshot({ path: screenshotPath('federation-sign-in.png') });
          await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
          await page.getByRole('button', { name: 'Create a new account' }).waitFor();
          await page.screenshot({ path: screenshotPath('federation-finish.png') });
          await page.getByRole('button', { name: 'Create a new account' }).click();
        } else {
          // Signed in at Latchkey already (its session): straight back to the application.
          await page.waitForURL((u) => u.href.startsWith(redirectUri));
        }
        await page.waitForURL((u) => u.href.startsWith(redirectUri));
        const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
          pkceCodeVerifier: request.verifier,
          expectedState: request.state,
          expectedNonce: request.nonce,
        });
        expect(tokens.claims()?.amr).toEqual(['fed']);
        expect(tokens.claims()?.idp).toBe('acme');
        expect(tokens.claims()?.email).toBe('chromium-fed@upstream.test');
      }
      await context.close();
    });

    it('links the provider on the account page, and unlinks it', async () => {
      const email = 'chromium-linker@example.test';
      const password = 'e2e account linking password';
      const made = await tenant.api('POST', `/api/v1/tenants/${tenant.slug}/users`, {
        body: { email, password, emailVerified: true },
      });
      expect(made.status, made.text).toBe(201);
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${ts.url}/t/${tenant.slug}/account`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Ways to sign in' }).waitFor();
      up.signInAs = { sub: 'e2e-linked', email: 'someone-else@upstream.test', email_verified: true };
      // The current password first: a borrowed browser must not add a way in.
      await page.getByLabel('Your password, to link it').fill(password);
      await page.getByRole('button', { name: 'Link Acme SSO' }).click();
      await page.getByRole('status').filter({ hasText: 'The new way to sign in is linked.' }).waitFor();
      const methods = page.getByRole('list', { name: 'Ways to sign in' });
      expect(await methods.getByText('Acme SSO').count()).toBe(1);
      expect(await methods.getByText('someone-else@upstream.test', { exact: false }).count()).toBe(1);
      await page.screenshot({ path: screenshotPath('federation-account-linked.png'), fullPage: true });
      const identities = await tenant.api('GET', `/api/v1/tenants/${tenant.slug}/users/${made.body.id}/identities`);
      expect(identities.body.items.map((i: { subject: string }) => i.subject)).toEqual(['e2e-linked']);

      await page.getByRole('button', { name: 'Unlink Acme SSO' }).click();
      await page.getByRole('status').filter({ hasText: 'That way to sign in is unlinked.' }).waitFor();
      expect(await page.getByRole('button', { name: 'Link Acme SSO' }).count()).toBe(1);
      const after = await tenant.api('GET', `/api/v1/tenants/${tenant.slug}/users/${made.body.id}/identities`);
      expect(after.body.items).toEqual([]);
      await context.close();
    });

    it('signs in with the provider alone where the tenant turned password sign-in off', async () => {
      const current = await tenant.api('GET', `/api/v1/tenants/${tenant.slug}`);
      const off = await tenant.api('PATCH', `/api/v1/tenants/${tenant.slug}`, {
        body: { settings: { passwordSignIn: false } },
        headers: { 'if-match': `"${current.body.version}"` },
      });
      expect(off.status, off.text).toBe(200);
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        const request = await authorizationRequest(config, redirectUri, { scope: 'openid email profile' });
        await page.goto(request.url.href);
        await page.getByText('Sign in with one of the ways below.').waitFor();
        expect(await page.getByLabel('Password', { exact: true }).count()).toBe(0);
        expect(await page.getByRole('link', { name: 'Forgot password?' }).count()).toBe(0);
        await page.screenshot({ path: screenshotPath('federation-providers-only.png') });
        up.signInAs = { sub: 'e2e-1', email: 'chromium-fed@upstream.test', email_verified: true, name: 'Fed Chrome' };
        await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
        await page.waitForURL((u) => u.href.startsWith(redirectUri));
        const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
          pkceCodeVerifier: request.verifier,
          expectedState: request.state,
          expectedNonce: request.nonce,
        });
        expect(tokens.claims()?.amr).toEqual(['fed']);
      } finally {
        await context.close();
        await tenant.api('PATCH', `/api/v1/tenants/${tenant.slug}`, {
          body: { settings: { passwordSignIn: true } },
          headers: { 'if-match': `"${off.body.version}"` },
        });
      }
    });
  },
);
