/**
 * Every provider kind's button in headless Chromium (issue 13), against a real server
 * (SQLite) and stand-ins on 127.0.0.1 speaking each protocol: `google` and `apple` at a
 * stand-in oidc-provider, `microsoft` at a multi-tenant one (Entra's `{tenantid}` issuer),
 * `github` and `facebook` at the OAuth 2 stand-in with their profile APIs, and `latchkey`
 * through another tenant of the same server, whose own sign-in form the browser fills in.
 * Apple answers with a cross-site form POST (form_post): the flow cookie must be
 * `SameSite=None; Secure` for Chromium to send it back, which it does on loopback. Each
 * button signs a new person up on "Finish signing in" and comes back to the application,
 * whose ID token names the provider.
 *
 * Screenshots: test-results/screenshots/federation-kinds-*.png.
 */
import { exportPKCS8, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallbackServer,
  hasChromium,
  launchChromium,
  screenshotPath,
  skipMessage,
  startCallbackServer,
} from '../packages/server/test/helpers/chromium.js';
import {
  type OAuth2Upstream,
  startOAuth2Upstream,
  upstreamEndpoints,
} from '../packages/server/test/helpers/oauth2-upstream.js';
import { authorizationRequest } from '../packages/server/test/helpers/oidc.js';
import {
  type ApiClient,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from '../packages/server/test/helpers/server.js';
import { startUpstream, type Upstream } from '../packages/server/test/helpers/upstream.js';

if (!hasChromium) console.warn(skipMessage);

const secret = 'e2e-kinds-upstream-secret-0123456789';

describe.skipIf(!hasChromium)(
  hasChromium ? 'every provider kind’s button (Chromium)' : `every provider kind’s button: ${skipMessage}`,
  { timeout: 60_000 },
  () => {
    let ts: TestServer;
    let up: Upstream;
    let entra: Upstream;
    let oauth2: OAuth2Upstream;
    let app: CallbackServer;
    let browser: Browser;
    let config: oidc.Configuration;
    let redirectUri: string;
    let slug: string;
    let admin: ApiClient;
    let corp: Awaited<ReturnType<typeof tenantWithAdmin>>;
    const callbackOf = (idp: string) => `${ts.url}/t/${slug}/federation/${idp}/callback`;

    const create = async (api: ApiClient, body: Record<string, unknown>) => {
      const res = await api('POST', `/api/v1/tenants/${slug}/identity-providers`, {
        body: { allowSignUp: true, ...body },
      });
      expect(res.status, res.text).toBe(201);
    };

    beforeAll(async () => {
      [ts, up, entra, oauth2, app, browser] = await Promise.all([
        startTestServer('sqlite', { FEDERATION_ALLOW_HTTP_ISSUERS: 'true' }),
        startUpstream(),
        startUpstream({ multiTenant: true }),
        startOAuth2Upstream({ id: 1, emails: [] }),
        startCallbackServer(),
        launchChromium(),
      ]);
      redirectUri = `${app.url}/callback`;
      const t = await tenantWithAdmin(ts);
      slug = t.slug;
      admin = t.api;
      await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } });
      const client = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
        body: { kind: 'spa', name: 'Browser app', redirectUris: [redirectUri], firstParty: true },
      });
      expect(client.status, client.text).toBe(201);
      config = await oidc.discovery(new URL(`${ts.url}/t/${slug}`), client.body.clientId, undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });

      for (const [idp, upstream] of [
        ['google', up],
        ['entra', entra],
      ] as const) {
        upstream.addClient({ client_id: `e2e-${idp}`, client_secret: secret, redirect_uris: [callbackOf(idp)] });
      }
      await create(admin, {
        slug: 'google',
        kind: 'google',
        displayName: 'Google',
        issuer: up.issuer,
        clientId: 'e2e-google',
        clientSecret: secret,
      });
      await create(admin, {
        slug: 'entra',
        kind: 'microsoft',
        displayName: 'Microsoft',
        issuer: entra.issuer,
        clientId: 'e2e-entra',
        clientSecret: secret,
      });
      const teamId = 'TEAM123456';
      const keyId = 'KEY9876543';
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      up.addClient(
        {
          client_id: 'com.example.e2e',
          client_secret: 'not-what-is-sent-0123456789abcdef',
          redirect_uris: [callbackOf('apple')],
          token_endpoint_auth_method: 'client_secret_post',
        },
        { apple: { teamId, keyId, publicKey } },
      );
      await create(admin, {
        slug: 'apple',
        kind: 'apple',
        displayName: 'Apple',
        issuer: up.issuer,
        clientId: 'com.example.e2e',
        appleTeamId: teamId,
        appleKeyId: keyId,
        applePrivateKey: await exportPKCS8(privateKey),
      });
      for (const kind of ['github', 'facebook'] as const) {
        await create(admin, {
          slug: kind,
          kind,
          displayName: kind === 'github' ? 'GitHub' : 'Facebook',
          clientId: oauth2.clientId,
          clientSecret: oauth2.clientSecret,
          endpoints: upstreamEndpoints(oauth2, kind),
        });
      }
      // Only a system admin registers a client in another tenant.
      corp = await tenantWithAdmin(ts);
      await create(ts.api, { slug: 'corp', kind: 'latchkey', displayName: 'Corp', tenant: corp.slug });
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await Promise.all([ts?.close(), up?.close(), entra?.close(), oauth2?.close(), app?.close()]);
    });

    /** Clicks `label` on the application's sign-in page, `upstream` does its part, and the new account is made. */
    async function signUpWith(label: string, idp: string, upstream: (page: Page) => Promise<void> = async () => {}) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const request = await authorizationRequest(config, redirectUri, { scope: 'openid email profile' });
      await page.goto(request.url.href);
      await page.getByRole('link', { name: `Sign in with ${label}` }).click();
      await upstream(page);
      const create = page.getByRole('button', { name: 'Create a new account' });
      await create.waitFor();
      await page.screenshot({ path: screenshotPath(`federation-kinds-${idp}.png`) });
      await create.click();
      await page.waitForURL((u) => u.href.startsWith(redirectUri));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      await context.close();
      return tokens.claims();
    }

    it('google and microsoft (Entra’s {tenantid} issuer)', async () => {
      up.signInAs = { sub: 'g-1', email: 'ada@gmail.test', email_verified: true, name: 'Ada' };
      expect(await signUpWith('Google', 'google')).toMatchObject({
        idp: 'google',
        amr: ['fed'],
        email: 'ada@gmail.test',
      });
      entra.signInAs = { sub: 'm-1', email: 'bob@contoso.test', email_verified: true, name: 'Bob' };
      expect(await signUpWith('Microsoft', 'entra')).toMatchObject({ idp: 'entra', email: 'bob@contoso.test' });
    });

    it('apple: the cross-site form POST brings the flow cookie back', async () => {
      up.signInAs = { sub: '001234.e2e', email: 'cy@privaterelay.test', email_verified: true };
      expect(await signUpWith('Apple', 'apple')).toMatchObject({ idp: 'apple', email: 'cy@privaterelay.test' });
      expect(up.authorizations.at(-1)?.get('response_mode')).toBe('form_post');
    });

    it('github and facebook (OAuth 2 and their profile APIs)', async () => {
      oauth2.person = {
        id: 31337,
        login: 'octo',
        name: 'Octo',
        emails: [{ email: 'octo@gh.test', primary: true, verified: true }],
      };
      expect(await signUpWith('GitHub', 'github')).toMatchObject({ idp: 'github', email: 'octo@gh.test' });
      oauth2.person = { id: '10158', name: 'Face', emails: [{ email: 'face@fb.test', primary: true, verified: true }] };
      expect(await signUpWith('Facebook', 'facebook')).toMatchObject({ idp: 'facebook', email: 'face@fb.test' });
    });

    it('latchkey: another tenant’s own sign-in form, then back here', async () => {
      const email = 'dee@corp.test';
      const password = 'the corp tenant password';
      const made = await corp.api('POST', `/api/v1/tenants/${corp.slug}/users`, {
        body: { email, password, emailVerified: true },
      });
      expect(made.status, made.text).toBe(201);
      const claims = await signUpWith('Corp', 'corp', async (page) => {
        await page.waitForURL((u) => u.pathname.startsWith(`/t/${corp.slug}/`));
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
      });
      expect(claims).toMatchObject({ idp: 'corp', email });
      expect(claims?.sub).not.toBe(made.body.id);
    });
  },
);
