/**
 * SAML sign-in in headless Chromium against a real server (SQLite, on 127.0.0.1) and the
 * stand-in IdP (packages/server/test/helpers/saml-idp.ts) on `localhost`: another site, so the
 * IdP's form posts the Response to the ACS URL cross-site, as a real IdP's does. The flow
 * cookie must come along with that POST (SameSite=None; Secure, which Chromium takes on
 * loopback as under https): the sign-in finishes on the "finish signing in" page and the
 * application gets a code whose ID token says `amr: ["fed"]` and names the provider.
 *
 * Screenshots: test-results/screenshots/federation-saml-*.png.
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
import { SamlIdp } from '../packages/server/test/helpers/saml-idp.js';
import { startTestServer, type TestServer, tenantWithAdmin } from '../packages/server/test/helpers/server.js';

if (!hasChromium) console.warn(skipMessage);

describe.skipIf(!hasChromium)(
  hasChromium ? 'SAML sign-in (Chromium)' : `SAML sign-in: ${skipMessage}`,
  { timeout: 60_000 },
  () => {
    let ts: TestServer;
    let idp: SamlIdp;
    let app: CallbackServer;
    let browser: Browser;
    let config: oidc.Configuration;
    let redirectUri: string;

    beforeAll(async () => {
      [ts, idp, app, browser] = await Promise.all([
        startTestServer('sqlite'),
        SamlIdp.start({ host: 'localhost' }),
        startCallbackServer(),
        launchChromium(),
      ]);
      redirectUri = `${app.url}/callback`;
      const t = await tenantWithAdmin(ts);
      await t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { settings: { selfRegistration: true } } });
      const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
        body: { kind: 'spa', name: 'Browser app', redirectUris: [redirectUri], firstParty: true },
      });
      expect(client.status, client.text).toBe(201);
      const provider = await t.api('POST', `/api/v1/tenants/${t.slug}/identity-providers`, {
        body: {
          kind: 'saml',
          slug: 'corp',
          displayName: 'Corp SAML',
          samlMetadataXml: idp.metadata(),
          allowSignUp: true,
        },
      });
      expect(provider.status, provider.text).toBe(201);
      config = await oidc.discovery(new URL(`${ts.url}/t/${t.slug}`), client.body.clientId, undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });
      idp.signInAs = {
        nameId: 'saml-chromium-1',
        attributes: { email: ['chromium-saml@corp.test'], displayName: ['Saml Chrome'] },
      };
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await Promise.all([ts?.close(), idp?.stop(), app?.close()]);
    });

    it('clicks the SAML button, posts the Response from the IdP’s site and comes back signed in', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const request = await authorizationRequest(config, redirectUri, { scope: 'openid email profile' });
      await page.goto(request.url.href);
      await page.getByRole('link', { name: 'Sign in with Corp SAML' }).click();
      await page.waitForURL((u) => u.hostname === 'localhost' && u.pathname === '/saml/sso');
      await page.screenshot({ path: screenshotPath('federation-saml-idp.png') });
      // The flow cookie, as Chromium kept it: for the ACS URL only, and fit for a cross-site POST.
      const flow = (await context.cookies()).find((c) => c.name === 'lk_fed_saml');
      expect(flow).toMatchObject({ sameSite: 'None', secure: true, httpOnly: true });
      expect(flow?.path).toMatch(/\/federation\/corp\/saml\/acs$/);
      await page.getByRole('button', { name: 'Continue to the service' }).click();
      await page.getByRole('button', { name: 'Create a new account' }).waitFor();
      await page.screenshot({ path: screenshotPath('federation-saml-finish.png') });
      await page.getByRole('button', { name: 'Create a new account' }).click();
      await page.waitForURL((u) => u.href.startsWith(redirectUri));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      expect(tokens.claims()?.amr).toEqual(['fed']);
      expect(tokens.claims()?.idp).toBe('corp');
      expect(tokens.claims()?.email).toBe('chromium-saml@corp.test');
      await context.close();
    });
  },
);
