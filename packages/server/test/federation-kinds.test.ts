/**
 * The provider kinds beyond OpenID Connect by issuer, over HTTP on each database, each against
 * a stand-in speaking its protocol: `github` and `facebook` (OAuth 2 and their profile APIs,
 * helpers/oauth2-upstream.ts), `apple` (the stand-in oidc-provider checking the client secret
 * JWT with the Apple key's public part, form_post, the name from the first callback's `user`),
 * and `latchkey` (another tenant of the same server, its client registered by Latchkey).
 * @see issue 13
 */

import type { FastifyReply } from 'fastify';
import { exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setCookie } from '../src/http/cookies.js';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { type AppUnderTest, appOf, appTokens, createProvider, signInVia } from './helpers/federation.js';
import { type OAuth2Upstream, startOAuth2Upstream, upstreamEndpoints } from './helpers/oauth2-upstream.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

describe('the flow cookie of a form_post provider (Apple)', () => {
  it('is SameSite=None (so the cross-site POST brings it) over https and loopback only', () => {
    const sent: string[] = [];
    const reply = { header: (_name: string, value: string) => sent.push(value) } as unknown as FastifyReply;
    const options = { path: '/t/a/federation/apple/callback', maxAge: 600, sameSite: 'None' } as const;
    setCookie(reply, 'lk_fed', 'v', { ...options, publicUrl: 'https://id.example.com' });
    setCookie(reply, 'lk_fed', 'v', { ...options, publicUrl: 'http://127.0.0.1:3000' });
    setCookie(reply, 'lk_fed', 'v', { ...options, publicUrl: 'http://latchkey.internal:3000' });
    setCookie(reply, 'lk_fed', 'v', { ...options, sameSite: 'Lax', publicUrl: 'https://id.example.com' });
    expect(sent[0]).toMatch(/; SameSite=None; Secure$/);
    expect(sent[1]).toMatch(/; SameSite=None; Secure$/);
    expect(sent[2]).toMatch(/; SameSite=Lax$/);
    expect(sent[3]).toMatch(/; SameSite=Lax; Secure$/);
  });
});

describe.each(dialects)('identity provider kinds (%s)', (dialect) => {
  let ts: TestServer;
  let oauth2: OAuth2Upstream;
  let up: Upstream;
  let admin: ApiClient;
  let slug: string;
  let app: AppUnderTest;
  const callbackOf = (tenant: string, idp: string) => `${ts.url}/t/${tenant}/federation/${idp}/callback`;

  const usersNamed = async (email: string, api = admin, tenant = slug) =>
    (await api('GET', `/api/v1/tenants/${tenant}/users?q=${encodeURIComponent(email)}`)).body.items as {
      id: string;
      email: string;
      displayName: string | null;
      emailVerified: boolean;
    }[];

  const identitiesOf = async (userId: string) => {
    const res = await admin('GET', `/api/v1/tenants/${slug}/users/${userId}/identities`);
    expect(res.status, res.text).toBe(200);
    return res.body.items as { providerSlug: string; subject: string; email: string | null }[];
  };

  async function localUser(email: string, password = 'a password nobody guesses', api = admin, tenant = slug) {
    const res = await api('POST', `/api/v1/tenants/${tenant}/users`, {
      body: { email, password, emailVerified: true },
    });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }

  /** Signs up through provider `idp` on the new-account page, and returns the ID token's claims. */
  async function signUpVia(idp: string) {
    const browser = new Browser();
    const { page, request } = await signInVia(app, browser, idp);
    expect(page.html, `${page.url} ${page.html.slice(0, 400)}`).toContain('Create a new account');
    const done = await browser.submit(page, {}, { action: '/federation/create', stopAt: app.atApp });
    return (await appTokens(app, done, request)).claims();
  }

  beforeAll(async () => {
    [ts, oauth2, up] = await Promise.all([
      startTestServer(dialect, { FEDERATION_ALLOW_HTTP_ISSUERS: 'true' }),
      startOAuth2Upstream({ id: 1, emails: [] }),
      startUpstream(),
    ]);
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } })).status,
    ).toBe(200);
    app = await appOf(ts, admin, slug);
  });
  afterAll(async () => {
    await Promise.all([ts?.close(), oauth2?.close(), up?.close()]);
  });

  describe('github and facebook', () => {
    const oauth2Provider = (kind: 'github' | 'facebook', idp: string, extra: Record<string, unknown> = {}) =>
      createProvider(admin, slug, {
        slug: idp,
        kind,
        displayName: kind,
        clientId: oauth2.clientId,
        clientSecret: oauth2.clientSecret,
        endpoints: upstreamEndpoints(oauth2, kind),
        allowSignUp: true,
        ...extra,
      });

    it('takes the preset scopes and endpoints, needs no openid, and refuses what the kind has not', async () => {
      const gh = await oauth2Provider('github', 'gh', { allowLink: true });
      expect(gh).toMatchObject({
        kind: 'github',
        scopes: ['read:user', 'user:email'],
        issuer: oauth2.url,
        tokenEndpointAuthMethod: 'client_secret_post',
        endpoints: upstreamEndpoints(oauth2, 'github'),
        clientSecretSet: true,
        appleKeySet: false,
        tenant: null,
      });
      expect(JSON.stringify(gh)).not.toContain(oauth2.clientSecret);
      const base = { slug: 'x', kind: 'github', displayName: 'x', clientId: 'c', clientSecret: 's' };
      for (const bad of [
        { issuer: 'https://github.com' },
        { tokenEndpointAuthMethod: 'private_key_jwt' },
        { claims: { roles: 'groups' } },
        {
          endpoints: {
            authorizationEndpoint: 'http://github.example.com/a',
            tokenEndpoint: 'https://x/t',
            apiBase: 'https://x',
          },
        },
        { tenant: slug },
        { appleTeamId: 'ABCDEFGHIJ' },
      ]) {
        const res = await admin('POST', `/api/v1/tenants/${slug}/identity-providers`, { body: { ...base, ...bad } });
        expect(res.status, `${JSON.stringify(bad)} ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const oidcWithout = await admin('POST', `/api/v1/tenants/${slug}/identity-providers`, {
        body: { ...base, kind: 'oidc', issuer: 'https://idp.example.com', scopes: ['email'] },
      });
      expect(oidcWithout.status).toBe(400);
      const patched = await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${gh.id}`, {
        body: { endpoints: null },
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body).toMatchObject({ endpoints: null, issuer: 'https://github.com' });
      const back = await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${gh.id}`, {
        body: { endpoints: upstreamEndpoints(oauth2, 'github') },
      });
      expect(back.body.issuer).toBe(oauth2.url);
    });

    it('GitHub: signs up a new user with the primary verified email, then signs the same one in', async () => {
      oauth2.person = {
        id: 4242,
        login: 'octo',
        name: 'Octo Cat',
        emails: [
          { email: 'octo-other@gh.test', primary: false, verified: true },
          { email: 'octo@gh.test', primary: true, verified: true },
        ],
      };
      const claims = await signUpVia('gh');
      expect(claims?.amr).toEqual(['fed']);
      expect(claims?.idp).toBe('gh');
      const [user] = await usersNamed('octo@gh.test');
      expect(user?.id).toBe(claims?.sub);
      expect(user?.displayName).toBe('Octo Cat');
      expect((await identitiesOf(String(user?.id))).map((i) => [i.providerSlug, i.subject])).toEqual([['gh', '4242']]);
      // PKCE and state, no nonce: what the stand-in saw.
      const lastToken = oauth2.tokenRequests.at(-1);
      expect(lastToken?.get('code_verifier')).toBeTruthy();
      expect(lastToken?.get('client_secret')).toBe(oauth2.clientSecret);

      const again = await signInVia(app, new Browser(), 'gh');
      expect((await appTokens(app, again.page, again.request)).claims()?.sub).toBe(user?.id);
    });

    it('GitHub: an unverified email never links to the existing user, even from a trusted provider', async () => {
      await oauth2Provider('github', 'gh-trusted', { trustEmails: true, allowSignUp: false });
      const userId = await localUser('taken@gh.test');
      oauth2.person = {
        id: 777,
        login: 'mallory',
        publicEmail: 'taken@gh.test',
        emails: [{ email: 'taken@gh.test', primary: true, verified: false }],
      };
      const refused = await signInVia(app, new Browser(), 'gh-trusted');
      expect(refused.page.status, refused.page.html.slice(0, 300)).toBe(400);
      expect(refused.page.html).toContain('cannot be linked');
      // A provider that allows linking asks for the password instead of linking.
      const asked = await signInVia(app, new Browser(), 'gh');
      expect(asked.page.html).toContain('Link your account');
      expect(app.atApp(asked.page.url)).toBe(false);
      expect(await identitiesOf(userId)).toEqual([]);
      // Verified by GitHub, at the trusted provider: linked at once.
      oauth2.person = { ...oauth2.person, emails: [{ email: 'taken@gh.test', primary: true, verified: true }] };
      const linked = await signInVia(app, new Browser(), 'gh-trusted');
      expect((await appTokens(app, linked.page, linked.request)).claims()?.sub).toBe(userId);
      expect((await identitiesOf(userId)).map((i) => i.subject)).toEqual(['777']);
    });

    it('Facebook: signs up a new user with the email the Graph API gives, then signs the same one in', async () => {
      await oauth2Provider('facebook', 'fb');
      oauth2.person = {
        id: '10158',
        name: 'Face Book',
        emails: [{ email: 'fb@fb.test', primary: true, verified: true }],
      };
      const claims = await signUpVia('fb');
      expect(claims?.idp).toBe('fb');
      const [user] = await usersNamed('fb@fb.test');
      expect(user?.id).toBe(claims?.sub);
      expect((await identitiesOf(String(user?.id))).map((i) => i.subject)).toEqual(['10158']);
      const again = await signInVia(app, new Browser(), 'fb');
      expect((await appTokens(app, again.page, again.request)).claims()?.sub).toBe(user?.id);
    });
  });

  describe('apple', () => {
    const teamId = 'TEAM123456';
    const keyId = 'KEY9876543';
    const clientId = 'com.example.latchkey';
    let pem: string;

    beforeAll(async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      pem = await exportPKCS8(privateKey);
      up.addClient(
        {
          client_id: clientId,
          // oidc-provider wants one for client_secret_post; the stand-in checks the JWT instead.
          client_secret: 'not-what-is-sent-0123456789abcdef',
          redirect_uris: [callbackOf(slug, 'apple')],
          token_endpoint_auth_method: 'client_secret_post',
        },
        { apple: { teamId, keyId, publicKey } },
      );
    });

    it('keeps the key write-only and refuses one that does not sign (400)', async () => {
      const body = { slug: 'apple-bad', kind: 'apple', displayName: 'Apple', clientId, issuer: up.issuer };
      for (const bad of [
        { appleTeamId: teamId, appleKeyId: keyId, applePrivateKey: 'not a key' },
        { appleTeamId: 'short', appleKeyId: keyId, applePrivateKey: pem },
        { appleTeamId: teamId, applePrivateKey: pem },
        {},
        { appleTeamId: teamId, appleKeyId: keyId, applePrivateKey: pem, clientSecret: 'x' },
      ]) {
        const res = await admin('POST', `/api/v1/tenants/${slug}/identity-providers`, { body: { ...body, ...bad } });
        expect(res.status, `${Object.keys(bad)} ${res.text}`).toBe(400);
      }
    });

    it('signs in with a client secret JWT per token request, form_post, and the name of the first callback', async () => {
      const idp = await createProvider(admin, slug, {
        slug: 'apple',
        kind: 'apple',
        displayName: 'Apple',
        clientId,
        issuer: up.issuer,
        appleTeamId: teamId,
        appleKeyId: keyId,
        applePrivateKey: pem,
        allowSignUp: true,
      });
      expect(idp).toMatchObject({
        appleKeySet: true,
        tokenEndpointAuthMethod: 'client_secret_post',
        clientSecretSet: false,
      });
      expect(idp.scopes).toEqual(['openid', 'email', 'name']);
      const listed = await admin('GET', `/api/v1/tenants/${slug}/identity-providers/${idp.id}`);
      expect(listed.text).not.toContain('PRIVATE KEY');
      expect(listed.text).not.toContain(teamId);

      // Apple gives no name claim, and says email_verified as a string.
      up.signInAs = { sub: '001234.abcdef', email: 'ada@privaterelay.test', email_verified: true };
      const browser = new Browser();
      const { page, request } = await signInVia(app, browser, 'apple');
      // The upstream answers with a form that posts to the callback.
      expect(page.html).toContain('method="post"');
      expect(page.html).toContain(callbackOf(slug, 'apple'));
      expect(up.authorizations.at(-1)?.get('response_mode')).toBe('form_post');
      const user = JSON.stringify({ name: { firstName: 'Ada', lastName: 'Lovelace' }, email: 'ada@privaterelay.test' });
      const choose = await browser.submit(page, { user }, { stopAt: app.atApp });
      expect(choose.html, choose.html.slice(0, 400)).toContain('Create a new account');
      const done = await browser.submit(choose, {}, { action: '/federation/create', stopAt: app.atApp });
      const claims = (await appTokens(app, done, request)).claims();
      expect(claims?.idp).toBe('apple');
      const [created] = await usersNamed('ada@privaterelay.test');
      expect(created?.displayName).toBe('Ada Lovelace');
      // The stand-in checked the secret's signature; its claims are Apple's.
      const secret = up.appleSecrets.at(-1);
      expect(secret).toMatchObject({ iss: teamId, sub: clientId, aud: 'https://appleid.apple.com' });
      expect(Number(secret?.exp) - Number(secret?.iat)).toBeLessThanOrEqual(300);

      // Again, without `user` (Apple sends it once): the same user.
      const again = new Browser();
      const second = await signInVia(app, again, 'apple');
      const back = await again.submit(second.page, {}, { stopAt: app.atApp });
      expect((await appTokens(app, back, second.request)).claims()?.sub).toBe(created?.id);
      expect(up.appleSecrets.length).toBeGreaterThanOrEqual(2);

      // The key is replaced as a whole: one field alone is refused.
      const url = `/api/v1/tenants/${slug}/identity-providers/${idp.id}`;
      expect((await admin('PATCH', url, { body: { appleKeyId: 'KEY0000000' } })).status).toBe(400);
      expect((await admin('PATCH', url, { body: { clientSecret: 'no' } })).status).toBe(400);
      const replaced = await admin('PATCH', url, {
        body: { appleTeamId: teamId, appleKeyId: keyId, applePrivateKey: pem },
      });
      expect(replaced.status, replaced.text).toBe(200);
      expect(replaced.body).toMatchObject({ appleKeySet: true, version: idp.version + 1 });
    });
  });

  describe('latchkey', () => {
    it('signs in to this tenant through another; the client there is Latchkey’s; who lacks rights there gets 403', async () => {
      const upstream = await tenantWithAdmin(ts);
      const body = { slug: 'corp', kind: 'latchkey', displayName: 'Corp', tenant: upstream.slug, allowSignUp: true };
      const clientsOf = async () =>
        (await upstream.api('GET', `/api/v1/tenants/${upstream.slug}/clients`)).body.items as {
          id: string;
          clientId: string;
          redirectUris: string[];
          firstParty: boolean;
        }[];
      const before = await clientsOf();

      // This tenant's admin has no rights in the other: refused, whether or not it exists, and nothing registered.
      for (const tenant of [upstream.slug, 'no-such-tenant']) {
        const res = await admin('POST', `/api/v1/tenants/${slug}/identity-providers`, { body: { ...body, tenant } });
        expect(res.status, res.text).toBe(403);
      }
      expect(await clientsOf()).toEqual(before);
      const managed = await ts.api('POST', `/api/v1/tenants/${slug}/identity-providers`, {
        body: { ...body, clientId: 'mine' },
      });
      expect(managed.status).toBe(400);
      const self = await ts.api('POST', `/api/v1/tenants/${slug}/identity-providers`, {
        body: { ...body, tenant: slug },
      });
      expect(self.status).toBe(400);

      // A system admin may: the client is registered in the other tenant, its secret sealed here.
      const idp = await createProvider(ts.api, slug, body);
      expect(idp).toMatchObject({
        kind: 'latchkey',
        tenant: upstream.slug,
        issuer: `${ts.url}/t/${upstream.slug}`,
        clientSecretSet: true,
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      const registered = (await clientsOf()).find((c) => c.clientId === idp.clientId);
      expect(registered).toMatchObject({ redirectUris: [callbackOf(slug, 'corp')], firstParty: true });

      // A user of the other tenant signs in here through it, and gets an account of this tenant.
      const email = 'someone@corp.test';
      const password = 'the upstream tenant password';
      const upstreamUserId = await localUser(email, password, upstream.api, upstream.slug);
      const browser = new Browser();
      const { page, request } = await signInVia(app, browser, 'corp');
      expect(page.url.pathname).toContain(`/t/${upstream.slug}/`);
      const choose = await browser.submit(page, { email, password }, { stopAt: app.atApp });
      expect(choose.html, `${choose.url} ${choose.html.slice(0, 400)}`).toContain('Create a new account');
      const done = await browser.submit(choose, {}, { action: '/federation/create', stopAt: app.atApp });
      const claims = (await appTokens(app, done, request)).claims();
      expect(claims?.idp).toBe('corp');
      const [here] = await usersNamed(email);
      expect(here?.id).toBe(claims?.sub);
      expect(here?.id).not.toBe(upstreamUserId);
      expect((await identitiesOf(String(here?.id))).map((i) => i.subject)).toEqual([upstreamUserId]);

      // It keeps its slug (the callback registered upstream); deleting it deletes the client there.
      const renamed = await ts.api('PATCH', `/api/v1/tenants/${slug}/identity-providers/${idp.id}`, {
        body: { slug: 'corp2' },
      });
      expect(renamed.status).toBe(400);
      const deleted = await ts.api('DELETE', `/api/v1/tenants/${slug}/identity-providers/${idp.id}`);
      expect(deleted.status, deleted.text).toBe(204);
      expect((await clientsOf()).find((c) => c.clientId === idp.clientId)).toBeUndefined();
      expect(await clientsOf()).toEqual(before);
    });
  });
});
