/**
 * Federated sign-in through the real thing: a stand-in upstream oidc-provider on 127.0.0.1
 * (helpers/upstream.ts), Latchkey on each database as its relying party, and openid-client as
 * the application downstream, the browser driven over HTTP with its cookies. New users,
 * returning ones, the linking rules (never on an unverified email), the upstream's failures
 * and forgeries (state, replay, audience, signature), tenant isolation, role mapping,
 * home-realm discovery, and the google/microsoft presets pointed at the stand-in.
 */
import { exportJWK, generateKeyPair } from 'jose';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { createProvider } from './helpers/federation.js';
import { authorizationRequest, discover, redeem } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startUpstream, type Upstream, type UpstreamUser } from './helpers/upstream.js';

const secret = 'upstream-client-secret-0123456789abcdef';

describe.each(dialects)('federated sign-in (%s)', (dialect) => {
  let ts: TestServer;
  let up: Upstream;
  let admin: ApiClient;
  let slug: string;
  let config: oidc.Configuration;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const atApp = (u: URL) => u.href.startsWith(redirectUri);
  const callbackOf = (tenant: string, idp: string) => `${ts.url}/t/${tenant}/federation/${idp}/callback`;
  let n = 0;
  const someone = (over: Partial<UpstreamUser> = {}): UpstreamUser => {
    n += 1;
    return {
      sub: `upstream-${n}`,
      email: `person${n}@upstream.test`,
      email_verified: true,
      name: `Person ${n}`,
      ...over,
    };
  };

  /** A provider of `tenant` at `upstream`, registered there with its callback. */
  async function provider(body: Record<string, unknown>, upstream = up, tenant = slug, api?: ApiClient) {
    const s = String(body.slug);
    const clientId = String(body.clientId ?? `latchkey-${tenant}-${s}`);
    upstream.addClient({
      client_id: clientId,
      client_secret: secret,
      redirect_uris: [callbackOf(tenant, s)],
      token_endpoint_auth_method: body.tokenEndpointAuthMethod ?? 'client_secret_basic',
      ...(body.upstreamJwks ? { jwks: body.upstreamJwks } : {}),
    });
    const { upstreamJwks: _jwks, ...rest } = body;
    return createProvider(api ?? admin, tenant, {
      issuer: upstream.issuer,
      clientId,
      clientSecret: secret,
      displayName: `IdP ${s}`,
      ...rest,
    });
  }

  const identitiesOf = async (userId: string) => {
    const res = await admin('GET', `/api/v1/tenants/${slug}/users/${userId}/identities`);
    expect(res.status, res.text).toBe(200);
    return res.body.items as { providerSlug: string; subject: string; lastSignInAt: string | null }[];
  };

  /** An authorization request of the application, through the sign-in page's `idp` button, up to where it stops. */
  async function viaButton(
    browser: Browser,
    idp: string,
    who: UpstreamUser | null,
    options: { upstream?: Upstream; stopAt?: (u: URL) => boolean } = {},
  ) {
    const upstream = options.upstream ?? up;
    upstream.signInAs = who;
    const request = await authorizationRequest(config, redirectUri, { scope: 'openid email profile' });
    const signInPage = await browser.go(request.url, { stopAt: atApp });
    expect(signInPage.status, signInPage.html.slice(0, 300)).toBe(200);
    const href = new RegExp(`href="([^"]*/federated/${idp})"`).exec(signInPage.html)?.[1];
    expect(href, `no button for ${idp}`).toBeTruthy();
    const stopAt = (u: URL) => atApp(u) || (options.stopAt?.(u) ?? false);
    const page = await browser.go(new URL(String(href), signInPage.url), { stopAt });
    return { page, request, signInPage };
  }

  /** The application's tokens for the code the browser came back with. */
  async function tokensOf(page: Page, request: Awaited<ReturnType<typeof authorizationRequest>>) {
    expect(atApp(page.url), `${page.url} ${page.status} ${page.html.slice(0, 400)}`).toBe(true);
    return redeem(config, { callback: page.url, ...request });
  }

  const usersNamed = async (email: string) =>
    (await admin('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(email)}`)).body.items as {
      id: string;
      email: string;
      roles: string[];
      emailVerified: boolean;
    }[];

  beforeAll(async () => {
    [ts, up] = await Promise.all([
      startTestServer(dialect, { FEDERATION_ALLOW_HTTP_ISSUERS: 'true' }),
      startUpstream(),
    ]);
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } })).status,
    ).toBe(200);
    const client = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status, client.text).toBe(201);
    config = await discover(ts, slug, client.body);
    await provider({ slug: 'acme', allowSignUp: true, allowLink: true });
  });
  afterAll(async () => {
    await Promise.all([ts?.close(), up?.close()]);
  });

  it('signs up a new user, signs the same one in again, with amr fed and idp in the ID token', async () => {
    const who = someone();
    const first = await viaButton(new Browser(), 'acme', who);
    // A new email: create an account, or link one.
    expect(first.page.status, `${first.page.url} ${first.page.html.slice(0, 600)}`).toBe(200);
    expect(first.page.html).toContain('Create a new account');
    const created = await new Browser().go(first.page.url); // another browser has no flow cookie
    expect(created.status).toBe(400);
    const browser = new Browser();
    const again = await viaButton(browser, 'acme', who);
    const done = await browser.submit(again.page, {}, { action: '/federation/create', stopAt: atApp });
    const tokens = await tokensOf(done, again.request);
    const claims = tokens.claims();
    expect(claims?.amr).toEqual(['fed']);
    expect(claims?.idp).toBe('acme');
    const [user] = await usersNamed(String(who.email));
    expect(user?.email).toBe(who.email);
    expect(claims?.sub).toBe(user?.id);

    // Again, in a fresh browser: the same user, straight back to the application.
    const back = await viaButton(new Browser(), 'acme', who);
    const tokens2 = await tokensOf(back.page, back.request);
    expect(tokens2.claims()?.sub).toBe(user?.id);
    const identities = await identitiesOf(String(user?.id));
    expect(identities).toHaveLength(1);
    expect(identities[0]?.lastSignInAt).not.toBeNull();
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${user?.id}`);
    const actions = (audit.body.items as { action: string }[]).map((e) => e.action);
    expect(actions.filter((a) => a === 'user.sign_in.federated')).toHaveLength(2);
  });
  /** A user of the tenant with a password, made by the admin. */
  async function localUser(email: string, password = 'a password nobody guesses') {
    const res = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email, password, emailVerified: true },
    });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }

  it('links a trusted provider’s verified email to the existing user at once', async () => {
    await provider({ slug: 'trusted', trustEmails: true });
    const who = someone();
    const userId = await localUser(String(who.email));
    const { page, request } = await viaButton(new Browser(), 'trusted', who);
    const tokens = await tokensOf(page, request);
    expect(tokens.claims()?.sub).toBe(userId);
    expect(tokens.claims()?.idp).toBe('trusted');
    expect((await identitiesOf(userId)).map((i) => i.providerSlug)).toEqual(['trusted']);
  });

  it('never links an unverified email, and never signs in as its user', async () => {
    const who = someone({ email_verified: false });
    const userId = await localUser(String(who.email));
    // Trusted, but the upstream does not vouch for the email, and linking is off: refused.
    const refused = await viaButton(new Browser(), 'trusted', who);
    expect(refused.page.status).toBe(400);
    expect(refused.page.html).toContain('cannot be linked');
    // A provider that allows linking asks for the account's password instead.
    const asked = await viaButton(new Browser(), 'acme', who);
    expect(asked.page.status).toBe(200);
    expect(asked.page.html).toContain('Link your account');
    expect(atApp(asked.page.url)).toBe(false);
    expect(await identitiesOf(userId)).toEqual([]);
  });

  it('links after the user proves the account with its password (counted like any sign-in)', async () => {
    const who = someone();
    const password = 'the right password for this';
    const userId = await localUser(String(who.email), password);
    const browser = new Browser();
    const { page, request } = await viaButton(browser, 'acme', who);
    expect(page.html).toContain('Link your account');
    const wrong = await browser.submit(page, { password: 'not the password' }, { stopAt: atApp });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('Invalid email or password.');
    const failures = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${userId}`);
    expect(failures.body.items as { action: string; outcome: string }[], JSON.stringify(failures.body)).toContainEqual(
      expect.objectContaining({ action: 'login.password', outcome: 'failure' }),
    );
    const done = await browser.submit(wrong, { password }, { stopAt: atApp });
    const tokens = await tokensOf(done, request);
    expect(tokens.claims()?.sub).toBe(userId);
    expect(tokens.claims()?.amr).toEqual(['fed']);
    expect((await identitiesOf(userId)).map((i) => i.subject)).toEqual([who.sub]);
  });

  it('a new email may link an account the user has, by its email and password', async () => {
    const password = 'yet another right password';
    const local = someone();
    const userId = await localUser(String(local.email), password);
    const who = someone(); // another email upstream
    const browser = new Browser();
    const { page, request } = await viaButton(browser, 'acme', who);
    expect(page.html).toContain('Link an account you have');
    const done = await browser.submit(
      page,
      { email: String(local.email), password },
      { action: '/federation/link', stopAt: atApp },
    );
    expect((await tokensOf(done, request)).claims()?.sub).toBe(userId);
  });

  it('refuses a wrong or missing state, an upstream refusal, and a replayed callback (400 pages)', async () => {
    const atCallback = (u: URL) => u.pathname.endsWith('/federation/acme/callback');
    const who = someone();
    // The upstream's answer, stopped before Latchkey reads it.
    const answer = async (browser: Browser) => {
      const { page } = await viaButton(browser, 'acme', who, { stopAt: atCallback });
      expect(atCallback(page.url)).toBe(true);
      return page.url;
    };
    for (const change of [
      (u: URL) => u.searchParams.set('state', 'forged'),
      (u: URL) => u.searchParams.delete('state'),
    ]) {
      const browser = new Browser();
      const url = await answer(browser);
      change(url);
      const page = await browser.go(url, { stopAt: atApp });
      expect(page.status).toBe(400);
      expect(page.html).toContain('did not complete');
    }
    // Another browser (no flow cookie): refused.
    const stolen = await answer(new Browser());
    const elsewhere = await new Browser().go(stolen, { stopAt: atApp });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.html).toContain('started in another browser');
    // The user says no upstream.
    const denied = await viaButton(new Browser(), 'acme', null);
    expect(denied.page.status).toBe(400);
    expect(denied.page.html).toContain('cancelled at the identity provider');
    // Replayed: once in the same browser (the cookie is gone), once with the cookie copied (the code is used).
    const browser = new Browser();
    const url = await answer(browser);
    const cookie = browser.jar.header(url);
    const first = await fetch(url, { headers: { cookie }, redirect: 'manual' });
    expect(first.status).toBe(303);
    const again = await browser.go(url, { stopAt: atApp });
    expect(again.status).toBe(400);
    const copied = await fetch(url, { headers: { cookie }, redirect: 'manual' });
    expect(copied.status).toBe(400);
  });

  it('refuses an ID token for another audience or with a bad signature', async () => {
    const who = someone();
    for (const tamper of [
      { key: 'own' as const, claims: (p: Record<string, unknown>) => ({ ...p, aud: 'another-client' }) },
      { key: 'other' as const, claims: (p: Record<string, unknown>) => p },
    ]) {
      up.tamper = tamper;
      try {
        const { page } = await viaButton(new Browser(), 'acme', who);
        expect(page.status, `${tamper.key} ${page.url} ${page.html.slice(0, 500)}`).toBe(400);
        expect(page.html).toContain('did not complete');
      } finally {
        up.tamper = undefined;
      }
    }
    expect(await usersNamed(String(who.email))).toEqual([]);
  });

  it('keeps a tenant’s providers to its own URLs (404 elsewhere)', async () => {
    const other = await tenantWithAdmin(ts);
    const res = await fetch(callbackOf(other.slug, 'acme'), { redirect: 'manual' });
    expect(res.status).toBe(404);
    const client = await other.api('POST', `/api/v1/tenants/${other.slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    const otherConfig = await discover(ts, other.slug, client.body);
    const request = await authorizationRequest(otherConfig, redirectUri);
    const browser = new Browser();
    const signInPage = await browser.go(request.url, { stopAt: atApp });
    expect(signInPage.html).not.toContain('/federated/');
    const start = await browser.go(`${signInPage.url.href}/federated/acme`, { stopAt: atApp });
    expect(start.status).toBe(404);
  });

  it('applies role mappings at each sign-in: only the mapped roles are added or removed', async () => {
    for (const name of ['engineer', 'operator', 'auditor']) {
      expect((await admin('POST', `/api/v1/tenants/${slug}/roles`, { body: { name } })).status).toBe(201);
    }
    await provider({
      slug: 'groups',
      allowSignUp: true,
      scopes: ['openid', 'email', 'profile', 'groups'],
      claims: { roles: 'groups' },
      roleMappings: [
        { upstream: 'eng', role: 'engineer' },
        { upstream: 'ops', role: 'operator' },
      ],
    });
    const who = someone({ groups: ['eng', 'unmapped'] });
    const browser = new Browser();
    const first = await viaButton(browser, 'groups', who);
    await tokensOf(
      await browser.submit(first.page, {}, { action: '/federation/create', stopAt: atApp }),
      first.request,
    );
    const [user] = await usersNamed(String(who.email));
    expect(user?.roles).toEqual(['engineer']);
    expect((await admin('PUT', `/api/v1/tenants/${slug}/users/${user?.id}/roles/auditor`)).status).toBeLessThan(300);
    const again = await viaButton(new Browser(), 'groups', { ...who, groups: ['ops'] });
    await tokensOf(again.page, again.request);
    const [after] = await usersNamed(String(who.email));
    expect([...(after?.roles ?? [])].sort()).toEqual(['auditor', 'operator']);
  });

  it('sends an email whose domain routes to a provider straight there (home-realm discovery)', async () => {
    await provider({ slug: 'corp', domains: ['corp.test'], allowSignUp: true });
    const request = await authorizationRequest(config, redirectUri);
    const browser = new Browser();
    const page = await browser.go(request.url, { stopAt: atApp });
    const upstream = await browser.submit(
      page,
      { email: 'someone@corp.test', password: 'whatever' },
      { stopAt: (u) => u.origin === up.origin },
    );
    expect(upstream.url.pathname).toBe('/auth');
    expect(upstream.url.searchParams.get('login_hint')).toBe('someone@corp.test');
    expect(upstream.url.searchParams.get('code_challenge_method')).toBe('S256');
    // No password was checked.
    const events = await admin('GET', `/api/v1/tenants/${slug}/audit-events?action=login.password`);
    expect(JSON.stringify(events.body)).not.toContain('someone@corp.test');
  });

  it('authenticates to the upstream with client_secret_post and private_key_jwt too', async () => {
    await provider({ slug: 'posted', allowSignUp: true, tokenEndpointAuthMethod: 'client_secret_post' });
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const privateKeyJwk = { ...(await exportJWK(privateKey)), kid: 'lk-1', alg: 'ES256' };
    await provider({
      slug: 'signed',
      allowSignUp: true,
      tokenEndpointAuthMethod: 'private_key_jwt',
      clientSecret: undefined,
      privateKeyJwk,
      upstreamJwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'lk-1', alg: 'ES256' }] },
    });
    for (const idp of ['posted', 'signed']) {
      const browser = new Browser();
      const { page, request } = await viaButton(browser, idp, someone());
      expect(page.html, idp).toContain('Create a new account');
      const done = await browser.submit(page, {}, { action: '/federation/create', stopAt: atApp });
      expect((await tokensOf(done, request)).claims()?.idp).toBe(idp);
    }
  });

  it('signs in with the google and microsoft presets pointed at a stand-in (Entra’s {tenantid} issuer)', async () => {
    await provider({ slug: 'google', kind: 'google', allowSignUp: true });
    const g = someone();
    const browser = new Browser();
    const first = await viaButton(browser, 'google', g);
    const done = await browser.submit(first.page, {}, { action: '/federation/create', stopAt: atApp });
    expect((await tokensOf(done, first.request)).claims()?.idp).toBe('google');

    const entra = await startUpstream({ multiTenant: true });
    try {
      await provider({ slug: 'entra', kind: 'microsoft', allowSignUp: true }, entra);
      const who = someone();
      const b = new Browser();
      const start = await viaButton(b, 'entra', who, { upstream: entra });
      expect(start.page.html).toContain('Create a new account');
      const signedIn = await b.submit(start.page, {}, { action: '/federation/create', stopAt: atApp });
      const claims = (await tokensOf(signedIn, start.request)).claims();
      expect(claims?.idp).toBe('entra');
      const [user] = await usersNamed(String(who.email));
      expect((await identitiesOf(String(user?.id))).map((i) => i.subject)).toEqual([`${entra.tid}:${who.sub}`]);
      // A token whose tid is another tenant's names another issuer: refused.
      entra.tamper = { key: 'own', claims: (p) => ({ ...p, tid: '00000000-0000-0000-0000-000000000000' }) };
      const forged = await viaButton(new Browser(), 'entra', who, { upstream: entra });
      expect(forged.page.status).toBe(400);
    } finally {
      await entra.close();
    }
  });
  it('takes the callback as a form POST too (response_mode=form_post), and speaks German', async () => {
    const atCallback = (u: URL) => u.pathname.endsWith('/federation/acme/callback');
    const browser = new Browser({ 'accept-language': 'de' });
    const { page, signInPage } = await viaButton(browser, 'acme', someone(), { stopAt: atCallback });
    expect(signInPage.html).toContain('Mit IdP acme anmelden');
    const form = Object.fromEntries(page.url.searchParams);
    const posted = await browser.go(page.url.href.split('?')[0] ?? '', { method: 'POST', form, stopAt: atApp });
    expect(posted.status, posted.html.slice(0, 300)).toBe(200);
    expect(posted.html).toContain('Neues Konto erstellen');
  });
});
