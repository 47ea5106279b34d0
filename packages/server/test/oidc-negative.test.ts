/**
 * Attacks on the OAuth endpoints: redirect URI tampering, unknown clients, authorization code
 * replay (sequential and concurrent), PKCE downgrades, tokens carried across tenants, and
 * the grants the profile leaves out (implicit, password).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { basicAuth, type ClientCredentials, introspection, pkce, tokenRequest } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const registered = 'https://app.example.test/cb/path';

/** At least 20 ways to almost match `registered`; exact matching must refuse them all. */
const mutatedRedirectUris = [
  'https://APP.example.test/cb/path', // host case
  'https://app.EXAMPLE.TEST/cb/path',
  'https://app.example.test/CB/path', // path case
  'https://app.example.test/cb/Path',
  'HTTPS://app.example.test/cb/path', // scheme case
  'https://app.example.test/cb/path/', // trailing slash
  'https://app.example.test/cb/path?x=1', // added query
  'https://app.example.test/cb/path?',
  'https://app.example.test/cb/path?redirect=https://evil.example/',
  'https://app.example.test/cb/path#frag', // fragment
  'https://app.example.test/cb/path#',
  'https://user@app.example.test/cb/path', // userinfo
  'https://user:pass@app.example.test/cb/path',
  'https://app.example.test@evil.example/cb/path',
  'https://app.example.test:8443/cb/path', // other port
  'https://app.example.test:443/cb/path', // explicit default port: still not the same string
  'http://app.example.test/cb/path', // other scheme
  'ftp://app.example.test/cb/path',
  'javascript://app.example.test/cb/path',
  '//app.example.test/cb/path', // scheme-relative
  'https://app.example.test/cb/pat%68', // percent-encoded characters
  'https://app.example.test/cb%2Fpath',
  'https://app.example.test/cb/path%2F',
  'https://app.example.test/cb/path%00',
  'https://app.example.test/cb/path%20',
  'https://app.example.test/cb/../cb/path', // path traversal
  'https://app.example.test/cb/./path',
  'https://app.example.test/cb/path/../../evil',
  'https://app.example.test/cb/path/..%2F..%2Fevil',
  'https://app.example.test/cb/pathx', // longer
  'https://app.example.test/cb', // prefix
  'https://app.example.test./cb/path', // trailing dot in host
  'https://app.example.test.evil.example/cb/path', // suffix host
  'https://evil.example/https://app.example.test/cb/path',
  'https://app.example.test\\@evil.example/cb/path', // backslash
  ' https://app.example.test/cb/path', // whitespace
  'https://app.example.test/cb/path ',
  'https://xn--pp-8ja.example.test/cb/path', // look-alike (IDN) host
];

describe.each(dialects)('OAuth negative paths (%s)', (dialect) => {
  let ts: TestServer;
  let slugA: string;
  let slugB: string;
  let adminA: ApiClient;
  let web: { id: string; secret: string };
  let webB: { id: string; secret: string };
  const spaRedirect = 'http://127.0.0.1:9/spa';
  let spaId: string;
  /** Signed in to tenant A. */
  const browser = new Browser();
  const alice = { email: 'alice@example.test', password: 'correct horse battery staple' };

  const authUrl = (slug: string, params: Record<string, string>) =>
    `${ts.url}/t/${slug}/auth?${new URLSearchParams(params).toString()}`;

  const token = (slug: string, params: Record<string, string>, auth?: ClientCredentials) =>
    tokenRequest(ts, slug, params, auth);

  async function introspect(slug: string, auth: ClientCredentials, value: string) {
    const res = await introspection(ts, slug, auth, value);
    expect(res.status).toBe(200);
    return res.body as { active: boolean };
  }

  async function userinfo(slug: string, accessToken: string) {
    return fetch(`${ts.url}/t/${slug}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  }

  /** An authorization code for the web client from the signed-in browser. */
  async function webCode(scope = 'openid email offline_access') {
    const { verifier, challenge } = pkce();
    const page = await browser.go(
      authUrl(slugA, {
        client_id: web.id,
        redirect_uri: registered,
        response_type: 'code',
        scope,
        prompt: 'consent',
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
      { stopAt: (u) => u.href.startsWith(registered) },
    );
    const code = page.url.searchParams.get('code');
    expect(code, `${page.url} ${page.html.slice(0, 300)}`).toBeTruthy();
    return { code: code ?? '', verifier };
  }

  const redeemWeb = (c: { code: string; verifier: string }) =>
    token(
      slugA,
      { grant_type: 'authorization_code', code: c.code, redirect_uri: registered, code_verifier: c.verifier },
      web,
    );

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const a = await tenantWithAdmin(ts);
    slugA = a.slug;
    adminA = a.api;
    const b = await tenantWithAdmin(ts);
    slugB = b.slug;
    const w = await adminA('POST', `/api/v1/tenants/${slugA}/clients`, {
      body: { kind: 'web', name: 'Web', redirectUris: [registered], firstParty: true },
    });
    expect(w.status).toBe(201);
    web = { id: w.body.clientId, secret: w.body.clientSecret };
    const s = await adminA('POST', `/api/v1/tenants/${slugA}/clients`, {
      body: { kind: 'spa', name: 'SPA', redirectUris: [spaRedirect], firstParty: true },
    });
    expect(s.status).toBe(201);
    spaId = s.body.clientId;
    const wb = await b.api('POST', `/api/v1/tenants/${slugB}/clients`, {
      body: { kind: 'web', name: 'Web B', redirectUris: [registered], firstParty: true },
    });
    expect(wb.status).toBe(201);
    webB = { id: wb.body.clientId, secret: wb.body.clientSecret };
    expect((await adminA('POST', `/api/v1/tenants/${slugA}/users`, { body: alice })).status).toBe(201);

    // Sign in once; later requests in this browser get codes without the form.
    const { challenge } = pkce();
    const login = await browser.go(
      authUrl(slugA, {
        client_id: web.id,
        redirect_uri: registered,
        response_type: 'code',
        scope: 'openid',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(login.html).toContain('Sign in');
    const done = await browser.submit(login, alice, { stopAt: (u) => u.href.startsWith(registered) });
    expect(done.url.searchParams.get('code')).toBeTruthy();
  });
  afterAll(async () => {
    await ts?.close();
  });

  // The provider's requests are served before Fastify routes anything (http/app.ts): what its
  // hooks give every answer must hold for them too.
  it("gives the provider's answers the request id, nosniff, its body limit and tenant rule", async () => {
    const discovery = await fetch(`${ts.url}/t/${slugA}/.well-known/openid-configuration`, {
      headers: { 'x-request-id': 'trace-42' },
    });
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get('x-request-id')).toBe('trace-42');
    expect(discovery.headers.get('x-content-type-options')).toBe('nosniff');
    const refused = await fetch(`${ts.url}/t/${slugA}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(web.id, 'wrong') },
      body: 'grant_type=client_credentials',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Past oidc-provider's own 56 KiB limit: refused before the provider reads it.
    const huge = await fetch(`${ts.url}/t/${slugA}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&pad=${'x'.repeat(60 * 1024)}`,
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    for (const path of ['/t/no-such-tenant/token', '/t/NOT_A_SLUG/.well-known/openid-configuration', '/t/%ZZ/token']) {
      const res = await fetch(`${ts.url}${path}`, { method: 'POST' });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: string }).error, path).toBe('not_found');
    }
    // The sign-in pages stay Fastify's: an unknown interaction is its answer, not the provider's.
    const page = await fetch(`${ts.url}/t/${slugA}/interaction/nope`);
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(page.status).toBeLessThan(500);
  });

  it('never redirects to a mutated redirect URI, even for a signed-in user', async () => {
    expect(mutatedRedirectUris.length).toBeGreaterThanOrEqual(20);
    const { challenge } = pkce();
    const params = (redirect: string) => ({
      client_id: web.id,
      redirect_uri: redirect,
      response_type: 'code',
      scope: 'openid',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const cookie = browser.jar.header(new URL(`${ts.url}/t/${slugA}/auth`));
    expect(cookie).toContain('_lk_session');
    // The registered URI itself is redirected to straight away (so the session works).
    const ok = await fetch(authUrl(slugA, params(registered)), { redirect: 'manual', headers: { cookie } });
    expect(ok.status).toBeGreaterThanOrEqual(300);
    expect(ok.status).toBeLessThan(400);
    expect(ok.headers.get('location')?.startsWith(`${registered}?code=`)).toBe(true);

    for (const mutated of mutatedRedirectUris) {
      const res = await fetch(authUrl(slugA, params(mutated)), { redirect: 'manual', headers: { cookie } });
      const body = await res.text();
      expect(res.status, `${mutated} → ${res.status} ${res.headers.get('location')}`).toBe(400);
      expect(res.headers.get('location'), mutated).toBeNull();
      expect(res.headers.get('content-type'), mutated).toContain('text/html');
      expect(body, mutated).toContain('Something went wrong');
      expect(body, mutated).not.toContain('code=');
    }
  });

  it('shows an error page, without redirecting, for an unknown client or a client of another tenant', async () => {
    const { challenge } = pkce();
    for (const [slug, clientId] of [
      [slugA, 'cli_doesnotexist0000000000'],
      [slugA, webB.id], // B's client, asked at A
      [slugB, web.id], // A's client, asked at B
    ] as const) {
      const res = await fetch(
        authUrl(slug, {
          client_id: clientId,
          redirect_uri: registered,
          response_type: 'code',
          scope: 'openid',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
        { redirect: 'manual' },
      );
      expect(res.status, `${slug} ${clientId}`).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      const body = await res.text();
      expect(body).toContain('invalid_client');
    }
    // An unregistered post-logout redirect URI is not followed either.
    const end = await fetch(
      `${ts.url}/t/${slugA}/session/end?${new URLSearchParams({
        client_id: web.id,
        post_logout_redirect_uri: 'https://evil.example/bye',
      })}`,
      { redirect: 'manual' },
    );
    expect(end.status).toBe(400);
    expect(end.headers.get('location')).toBeNull();
  });

  it('refuses a reused authorization code and revokes what its first redemption issued', async () => {
    const code = await webCode();
    const first = await redeemWeb(code);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.refresh_token).toBeTruthy();
    expect((await userinfo(slugA, first.body.access_token)).status).toBe(200);

    const second = await redeemWeb(code);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');

    const refreshed = await token(slugA, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, web);
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
    expect((await userinfo(slugA, first.body.access_token)).status).toBe(401);
    expect((await introspect(slugA, web, first.body.refresh_token)).active).toBe(false);
  });

  it('binds a code to its redirect URI, its client and its tenant', async () => {
    const c = await webCode();
    const base = { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier };
    for (const mutated of ['https://app.example.test/cb/path/', 'https://evil.example/cb/path']) {
      const res = await token(slugA, { ...base, redirect_uri: mutated }, web);
      expect(res.status, mutated).toBe(400);
      expect(res.body.error, mutated).toBe('invalid_grant');
    }
    // Another client of the same tenant (public, so only its id is needed).
    const otherClient = await token(slugA, { ...base, redirect_uri: registered, client_id: spaId });
    expect(otherClient.status).toBe(400);
    expect(otherClient.body.access_token).toBeUndefined();
    // Tenant B's token endpoint, with B's client.
    const otherTenant = await token(slugB, { ...base, redirect_uri: registered }, webB);
    expect(otherTenant.status).toBe(400);
    expect(otherTenant.body.error).toBe('invalid_grant');
    // The code itself was good: its own client, with its own redirect URI, redeems it.
    const ok = await token(slugA, { ...base, redirect_uri: registered }, web);
    expect(ok.status).toBe(200);
  });

  it('gives exactly one success for 10 concurrent redemptions of one code', async () => {
    const code = await webCode();
    const results = await Promise.all(Array.from({ length: 10 }, () => redeemWeb(code)));
    const ok = results.filter((r) => r.status === 200);
    const failed = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(9);
    for (const f of failed) {
      expect(f.status).toBe(400);
      expect(f.body.error).toBe('invalid_grant');
    }
    // The replays revoked the grant: the winner's refresh token is no good either.
    const winner = ok[0]?.body;
    const refreshed = await token(slugA, { grant_type: 'refresh_token', refresh_token: winner.refresh_token }, web);
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  it('enforces PKCE S256: required for public clients, plain refused, the verifier checked', async () => {
    const stopAt = (u: URL) => u.href.startsWith(spaRedirect);
    const base = { client_id: spaId, redirect_uri: spaRedirect, response_type: 'code', scope: 'openid', state: 'x' };

    // A public client without code_challenge: refused (an error to the registered redirect URI).
    const missing = await browser.go(authUrl(slugA, base), { stopAt });
    expect(missing.url.searchParams.get('error')).toBe('invalid_request');
    expect(missing.url.searchParams.get('code')).toBeNull();

    const { verifier, challenge } = pkce();
    // plain is not offered.
    const plain = await browser.go(
      authUrl(slugA, { ...base, code_challenge: verifier, code_challenge_method: 'plain' }),
      { stopAt },
    );
    expect(plain.url.searchParams.get('error')).toBe('invalid_request');
    expect(plain.url.searchParams.get('code')).toBeNull();
    // Nor is omitting the method (it would mean plain).
    const noMethod = await browser.go(authUrl(slugA, { ...base, code_challenge: challenge }), { stopAt });
    expect(noMethod.url.searchParams.get('code')).toBeNull();

    const good = await browser.go(
      authUrl(slugA, { ...base, code_challenge: challenge, code_challenge_method: 'S256' }),
      { stopAt },
    );
    const code = good.url.searchParams.get('code') ?? '';
    expect(code).toBeTruthy();
    const redeem = (extra: Record<string, string>) =>
      token(slugA, { grant_type: 'authorization_code', code, redirect_uri: spaRedirect, client_id: spaId, ...extra });
    const wrong = await redeem({ code_verifier: pkce().verifier });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const none = await redeem({});
    expect(none.status).toBe(400);
    expect(none.body.access_token).toBeUndefined();
    // The challenge itself is not a verifier (a plain downgrade at the token endpoint).
    const asPlain = await redeem({ code_verifier: challenge });
    expect(asPlain.body.access_token).toBeUndefined();

    // A confidential client that sent a challenge must send its verifier too.
    const webCodeWithChallenge = await webCode('openid');
    const webNoVerifier = await token(
      slugA,
      { grant_type: 'authorization_code', code: webCodeWithChallenge.code, redirect_uri: registered },
      web,
    );
    expect(webNoVerifier.status).toBe(400);
    expect(webNoVerifier.body.access_token).toBeUndefined();
  });

  it('refuses tokens of tenant A at tenant B: userinfo, introspection, token endpoint, admin API', async () => {
    const code = await webCode();
    const issued = await redeemWeb(code);
    expect(issued.status).toBe(200);
    const { access_token: at, refresh_token: rt } = issued.body as { access_token: string; refresh_token: string };
    expect((await userinfo(slugA, at)).status).toBe(200);
    expect((await introspect(slugA, web, at)).active).toBe(true);

    expect((await userinfo(slugB, at)).status).toBe(401);
    expect((await introspect(slugB, webB, at)).active).toBe(false);
    expect((await introspect(slugB, webB, rt)).active).toBe(false);
    // A's refresh token at B's token endpoint (with B's client): refused.
    const crossRefresh = await token(slugB, { grant_type: 'refresh_token', refresh_token: rt }, webB);
    expect(crossRefresh.status).toBe(400);
    expect(crossRefresh.body.error).toBe('invalid_grant');
    // A's client credentials do not authenticate at B.
    const crossClient = await token(slugB, { grant_type: 'refresh_token', refresh_token: rt }, web);
    expect(crossClient.status).toBe(401);
    expect(crossClient.body.error).toBe('invalid_client');
    // Tried at B, the token was neither spent nor revoked: it still refreshes at A.
    const stillGood = await token(slugA, { grant_type: 'refresh_token', refresh_token: rt }, web);
    expect(stillGood.status, JSON.stringify(stillGood.body)).toBe(200);

    // A tenant:admin access token of A works for A's admin routes only.
    const svc = await adminA('POST', `/api/v1/tenants/${slugA}/clients`, {
      body: { kind: 'service', name: 'A admin', roles: ['tenant:admin'] },
    });
    expect(svc.status, svc.text).toBe(201);
    const cc = await token(
      slugA,
      { grant_type: 'client_credentials' },
      { id: svc.body.clientId, secret: svc.body.clientSecret },
    );
    expect(cc.status).toBe(200);
    const adminToken = cc.body.access_token as string;
    expect((await ts.api('GET', `/api/v1/tenants/${slugA}/users`, { token: adminToken })).status).toBe(200);
    for (const path of [
      `/api/v1/tenants/${slugB}`,
      `/api/v1/tenants/${slugB}/users`,
      `/api/v1/tenants/${slugB}/clients`,
      `/api/v1/tenants/${slugB}/keys`,
      '/api/v1/tenants/system/users',
    ]) {
      const res = await ts.api('GET', path, { token: adminToken });
      expect(res.status, path).toBe(404);
    }
    const write = await ts.api('POST', `/api/v1/tenants/${slugB}/users`, {
      token: adminToken,
      body: { email: 'mallory@example.test' },
    });
    expect(write.status).toBe(404);
    // Its opaque user access token is no admin API credential anywhere.
    expect((await ts.api('GET', `/api/v1/tenants/${slugA}/users`, { token: at })).status).toBe(401);
    // And B's userinfo does not take A's admin API JWT either.
    expect((await userinfo(slugB, adminToken)).status).toBe(401);
  });

  it('refuses the implicit flow and the password grant', async () => {
    const { challenge } = pkce();
    for (const responseType of ['token', 'id_token', 'id_token token', 'code id_token', 'code token']) {
      const res = await fetch(
        authUrl(slugA, {
          client_id: web.id,
          redirect_uri: registered,
          response_type: responseType,
          scope: 'openid',
          nonce: 'n',
          state: 's',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }),
        { redirect: 'manual', headers: { cookie: browser.jar.header(new URL(`${ts.url}/t/${slugA}/auth`)) } },
      );
      const location = res.headers.get('location') ?? '';
      const body = await res.text();
      expect(location, responseType).not.toContain('access_token');
      expect(location, responseType).not.toContain('id_token=');
      expect(location, responseType).not.toContain('code=');
      if (location) expect(location, responseType).toContain('error=unsupported_response_type');
      else expect(body, responseType).toContain('unsupported_response_type');
    }
    const password = await token(
      slugA,
      { grant_type: 'password', username: alice.email, password: alice.password, scope: 'openid' },
      web,
    );
    expect(password.status).toBe(400);
    expect(password.body.error).toBe('unsupported_grant_type');
    expect(password.body.access_token).toBeUndefined();
    // A web client may not use client credentials either.
    const cc = await token(slugA, { grant_type: 'client_credentials' }, web);
    expect(cc.status).toBe(400);
    expect(cc.body.error_description).toBe('requested grant type is not allowed for this client');
    expect(cc.body.access_token).toBeUndefined();
  });
});
