/**
 * The whole relying-party journey with openid-client, the sign-in form driven over HTTP:
 * discovery, authorization code + PKCE, ID token, userinfo, refresh rotation with reuse
 * detection, introspection, revocation, RP-initiated logout; client credentials and access
 * tokens for APIs (JWTs verified offline against the JWKS); key rotation.
 */
import { createRemoteJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorize, discover, redeem } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

/**
 * This file's usual authorization request: every scope, and a refresh token. OpenID Connect
 * Core 11: offline_access needs prompt=consent; first-party clients get the consent granted
 * without a page.
 */
const everything = { scope: 'openid email profile offline_access', prompt: 'consent' };

describe.each(dialects)('OpenID Connect flow (%s)', (dialect) => {
  let ts: TestServer;
  let admin: ApiClient;
  let slug: string;
  let issuer: URL;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const postLogoutUri = 'http://127.0.0.1:9/bye';
  const apiIdentifier = 'https://orders.example.test/api';
  let clientId: string;
  let clientSecret: string;
  let config: oidc.Configuration;
  let userId: string;
  const email = 'alice@example.test';
  const password = 'correct horse battery staple';
  const alice = { email, password };

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    issuer = new URL(`${ts.url}/t/${slug}`);
    const created = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: {
        kind: 'web',
        name: 'Web app',
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [postLogoutUri],
        firstParty: true,
      },
    });
    expect(created.status).toBe(201);
    clientId = created.body.clientId;
    clientSecret = created.body.clientSecret;
    const api = await admin('POST', `/api/v1/tenants/${slug}/apis`, {
      body: {
        identifier: apiIdentifier,
        name: 'Orders',
        scopes: [{ name: 'orders:read' }, { name: 'orders:write' }],
      },
    });
    expect(api.status).toBe(201);
    // The application may ask both scopes; the role grants one (docs/authorization.md).
    const scopes = ['openid', 'email', 'profile', 'offline_access', 'orders:read', 'orders:write'];
    const patched = await admin('PATCH', `/api/v1/tenants/${slug}/clients/${clientId}`, { body: { scopes } });
    expect(patched.status, patched.text).toBe(200);
    const role = await admin('POST', `/api/v1/tenants/${slug}/roles`, {
      body: { name: 'order-clerk', apiPermissions: [{ api: apiIdentifier, scope: 'orders:read' }] },
    });
    expect(role.status).toBe(201);
    const user = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email, password, displayName: 'Alice', emailVerified: true },
    });
    expect(user.status, user.text).toBe(201);
    userId = user.body.id;
    expect((await admin('PUT', `/api/v1/tenants/${slug}/users/${userId}/roles/order-clerk`)).status).toBeLessThan(300);
    config = await discover(ts, slug, { clientId, clientSecret });
    jwks = createRemoteJWKSet(new URL(`${issuer.href}/jwks`));
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('publishes discovery for the required profile only', async () => {
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(issuer.href);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
    );
    expect(meta.grant_types_supported).not.toContain('implicit');
    expect(meta.grant_types_supported).not.toContain('password');
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.jwks_uri).toBe(`${issuer.href}/jwks`);
    for (const endpoint of [
      meta.authorization_endpoint,
      meta.token_endpoint,
      meta.userinfo_endpoint,
      meta.introspection_endpoint,
      meta.revocation_endpoint,
      meta.end_session_endpoint,
    ]) {
      expect(endpoint?.startsWith(`${issuer.href}/`), String(endpoint)).toBe(true);
    }
  });

  it('signs in with code + PKCE; ID token, userinfo, introspection, revocation and logout', async () => {
    const browser = new Browser();
    const a = await authorize(config, browser, redirectUri, alice, everything);
    expect(a.signInShown).toBe(true);
    // RFC 9207: the authorization response names the issuer.
    expect(a.callback.searchParams.get('iss')).toBe(issuer.href);
    expect(a.callback.searchParams.get('state')).toBe(a.state);
    const tokens = await redeem(config, a);

    // ID token: RS256 by default (what certified relying parties assume), signed by a key the JWKS publishes.
    const idToken = tokens.id_token ?? '';
    const header = decodeProtectedHeader(idToken);
    expect(header.alg).toBe('RS256');
    const { payload } = await jwtVerify(idToken, jwks, { issuer: issuer.href, audience: clientId });
    expect(payload.sub).toBe(userId);
    expect(payload.nonce).toBe(a.nonce);
    expect(payload.email).toBe(email);
    expect(payload.email_verified).toBe(true);
    expect(payload.name).toBe('Alice');
    // How the user proved who they are (RFC 8176): a password.
    expect(payload.amr).toEqual(['pwd']);
    const claims = tokens.claims();
    expect(claims?.sub).toBe(userId);

    // No resource asked: an opaque access token that works at userinfo.
    const accessToken = tokens.access_token;
    expect(accessToken.split('.')).toHaveLength(1);
    const info = await oidc.fetchUserInfo(config, accessToken, userId);
    expect(info).toMatchObject({ sub: userId, email, email_verified: true, name: 'Alice' });

    // Introspection: live tokens are active.
    const refreshToken = tokens.refresh_token ?? '';
    expect(refreshToken).toBeTruthy();
    const atInfo = await oidc.tokenIntrospection(config, accessToken);
    expect(atInfo).toMatchObject({ active: true, client_id: clientId, sub: userId, token_type: 'Bearer' });
    const rtInfo = await oidc.tokenIntrospection(config, refreshToken);
    expect(rtInfo).toMatchObject({ active: true, client_id: clientId, sub: userId });

    // Revocation of the access token: it stops working at once, and (as oidc-provider does)
    // the other tokens of the same grant go with it.
    await oidc.tokenRevocation(config, accessToken, { token_type_hint: 'access_token' });
    expect((await oidc.tokenIntrospection(config, accessToken)).active).toBe(false);
    await expect(oidc.fetchUserInfo(config, accessToken, userId)).rejects.toThrow();
    expect((await oidc.tokenIntrospection(config, refreshToken)).active).toBe(false);

    // Still signed in: a new authorization request needs no sign-in page.
    const again = await authorize(config, browser, redirectUri, alice, everything);
    expect(again.signInShown).toBe(false);
    const second = await redeem(config, again);
    const secondRefresh = second.refresh_token ?? '';
    expect((await oidc.tokenIntrospection(config, secondRefresh)).active).toBe(true);
    expect((await oidc.tokenIntrospection(config, second.access_token)).active).toBe(true);
    // Revoking a refresh token ends it and the access tokens of its grant.
    await oidc.tokenRevocation(config, secondRefresh, { token_type_hint: 'refresh_token' });
    expect((await oidc.tokenIntrospection(config, secondRefresh)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(config, secondRefresh)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(config, second.access_token)).active).toBe(false);
    await expect(oidc.fetchUserInfo(config, second.access_token, userId)).rejects.toThrow();

    // RP-initiated logout with the ID token of this session: no confirmation page (logout.test.ts).
    const logoutState = oidc.randomState();
    const endSession = oidc.buildEndSessionUrl(config, {
      id_token_hint: second.id_token ?? '',
      post_logout_redirect_uri: postLogoutUri,
      state: logoutState,
    });
    const loggedOut = await browser.go(endSession, { stopAt: (u) => u.href.startsWith(postLogoutUri) });
    expect(loggedOut.url.origin + loggedOut.url.pathname).toBe(postLogoutUri);
    expect(loggedOut.url.searchParams.get('state')).toBe(logoutState);

    // The session is over: the next authorization request shows the sign-in page again.
    const afterLogout = await authorize(config, browser, redirectUri, alice, everything);
    expect(afterLogout.signInShown).toBe(true);
  });

  it('rotates refresh tokens; replaying the old one fails and revokes the new one', async () => {
    const browser = new Browser();
    const tokens = await redeem(config, await authorize(config, browser, redirectUri, alice, everything));
    const first = tokens.refresh_token ?? '';
    const refreshed = await oidc.refreshTokenGrant(config, first);
    const second = refreshed.refresh_token ?? '';
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);
    // The refreshed ID token still names the same user.
    expect(refreshed.claims()?.sub).toBe(userId);
    expect((await oidc.tokenIntrospection(config, second)).active).toBe(true);
    expect((await oidc.fetchUserInfo(config, refreshed.access_token, userId)).email).toBe(email);

    // Reuse of the rotated-out token: refused, and the whole family is revoked.
    await expect(oidc.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(config, second)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(config, second)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(config, refreshed.access_token, userId)).rejects.toThrow();
  });

  it('releases only the claims the scopes allow', async () => {
    const browser = new Browser();
    const a = await authorize(config, browser, redirectUri, alice, { ...everything, scope: 'openid' });
    const tokens = await redeem(config, a);
    const { payload } = await jwtVerify(tokens.id_token ?? '', jwks, { issuer: issuer.href, audience: clientId });
    expect(payload.sub).toBe(userId);
    expect(payload).not.toHaveProperty('email');
    expect(payload).not.toHaveProperty('email_verified');
    expect(payload).not.toHaveProperty('name');
    // No offline_access, no refresh token.
    expect(tokens.refresh_token).toBeUndefined();
    const info = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    expect(info.sub).toBe(userId);
    expect(info).not.toHaveProperty('email');
    expect(info).not.toHaveProperty('name');

    // email without profile: the email claims and not the name.
    const b = await authorize(config, browser, redirectUri, alice, { ...everything, scope: 'openid email' });
    const emailOnly = await redeem(config, b);
    const info2 = await oidc.fetchUserInfo(config, emailOnly.access_token, userId);
    expect(info2).toMatchObject({ email, email_verified: true });
    expect(info2).not.toHaveProperty('name');
  });

  it('gives first-party clients a refresh token for offline_access without prompt=consent', async () => {
    const browser = new Browser();
    const a = await authorize(config, browser, redirectUri, alice, { ...everything, prompt: '' });
    const tokens = await redeem(config, a);
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope?.split(' ')).toContain('offline_access');
    // Without offline_access there is still none.
    const b = await authorize(config, browser, redirectUri, alice, {
      ...everything,
      prompt: '',
      scope: 'openid email',
    });
    expect((await redeem(config, b)).refresh_token).toBeUndefined();
  });

  it('signs ID tokens with ES256 for a client configured for it', async () => {
    const esRedirect = 'http://127.0.0.1:9/es-callback';
    const created = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'ES app', redirectUris: [esRedirect], firstParty: true, idTokenSigningAlg: 'ES256' },
    });
    expect(created.status).toBe(201);
    expect(created.body.idTokenSigningAlg).toBe('ES256');
    const esConfig = await discover(ts, slug, created.body, { id_token_signed_response_alg: 'ES256' });
    const tokens = await redeem(esConfig, await authorize(esConfig, new Browser(), esRedirect, alice, everything));
    const idToken = tokens.id_token ?? '';
    const header = decodeProtectedHeader(idToken);
    expect(header.alg).toBe('ES256');
    const published = (await (await fetch(`${issuer.href}/jwks`)).json()) as { keys: JWK[] };
    const key = published.keys.find((k) => k.kid === header.kid);
    expect(key?.kty).toBe('EC');
    expect(key).not.toHaveProperty('d');
    const { payload } = await jwtVerify(idToken, jwks, {
      issuer: issuer.href,
      audience: created.body.clientId,
      algorithms: ['ES256'],
    });
    expect(payload.email).toBe(email);
  });

  it('issues a JWT access token with the user’s roles for an API (resource=)', async () => {
    const browser = new Browser();
    const a = await authorize(config, browser, redirectUri, alice, {
      ...everything,
      scope: 'openid email orders:read',
      resource: apiIdentifier,
    });
    const tokens = await redeem(config, a);
    const at = tokens.access_token;
    const header = decodeProtectedHeader(at);
    expect(header.typ).toBe('at+jwt');
    const { payload } = await jwtVerify(at, jwks, { issuer: issuer.href, audience: apiIdentifier, typ: 'at+jwt' });
    expect(payload.sub).toBe(userId);
    expect(payload.client_id).toBe(clientId);
    expect(String(payload.scope).split(' ')).toContain('orders:read');
    expect(String(payload.scope).split(' ')).not.toContain('orders:write');
    expect(payload.roles).toEqual(['order-clerk']);
    expect(typeof payload.jti).toBe('string');
    expect(typeof payload.exp).toBe('number');
    // An API token is no admin API token.
    expect((await ts.api('GET', `/api/v1/tenants/${slug}`, { token: at })).status).toBe(401);
  });

  it('client credentials: a JWT for a registered API and, by default, for the admin API', async () => {
    const created = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'service', name: 'Order sync', roles: ['order-clerk'], scopes: ['orders:read', 'orders:write'] },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.defaultApi).toBe(`${ts.url}/api`);
    const svcId = created.body.clientId as string;
    const svc = await discover(ts, slug, created.body);

    const forApi = await oidc.clientCredentialsGrant(svc, { resource: apiIdentifier, scope: 'orders:read' });
    expect(forApi.token_type.toLowerCase()).toBe('bearer');
    const { payload, protectedHeader } = await jwtVerify(forApi.access_token, jwks, {
      issuer: issuer.href,
      audience: apiIdentifier,
      typ: 'at+jwt',
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ iss: issuer.href, sub: svcId, aud: apiIdentifier, client_id: svcId });
    expect(payload.scope).toBe('orders:read');
    expect(payload.roles).toEqual(['order-clerk']);
    expect(typeof payload.jti).toBe('string');
    expect(Number(payload.exp)).toBeGreaterThan(Date.now() / 1000);

    // A scope the API does not define is not granted.
    const unknownScope = await oidc.clientCredentialsGrant(svc, { resource: apiIdentifier, scope: 'orders:delete' });
    const unknown = await jwtVerify(unknownScope.access_token, jwks, { issuer: issuer.href, audience: apiIdentifier });
    expect(String(unknown.payload.scope ?? '')).not.toContain('orders:delete');

    // An unregistered resource is refused.
    await expect(
      oidc.clientCredentialsGrant(svc, { resource: 'https://not-registered.example.test/' }),
    ).rejects.toMatchObject({ error: 'invalid_target' });

    // No resource: the service client's default, the admin API.
    const byDefault = await oidc.clientCredentialsGrant(svc);
    const def = await jwtVerify(byDefault.access_token, jwks, {
      issuer: issuer.href,
      audience: `${ts.url}/api`,
      typ: 'at+jwt',
    });
    expect(def.payload).toMatchObject({ sub: svcId, client_id: svcId, roles: ['order-clerk'] });
    expect(typeof def.payload.jti).toBe('string');
    expect(def.payload.jti).not.toBe(payload.jti);
  });

  it('rotates keys: next key published before it signs, old key kept, old tokens still verify', async () => {
    const t = await tenantWithAdmin(ts);
    const tIssuer = new URL(`${ts.url}/t/${t.slug}`);
    const svcRes = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'service', name: 'svc', roles: [] },
    });
    expect(svcRes.status).toBe(201);
    const svc = await discover(ts, t.slug, svcRes.body);
    const publishedKids = async () =>
      ((await (await fetch(`${tIssuer.href}/jwks`)).json()) as { keys: JWK[] }).keys.map((k) => k.kid);

    const before = await t.api('GET', `/api/v1/tenants/${t.slug}/keys`);
    expect(before.status).toBe(200);
    const es = (items: { alg: string; status: string; kid: string }[], status: string) =>
      items.filter((k) => k.alg === 'ES256' && k.status === status).map((k) => k.kid);
    const [current] = es(before.body.items, 'current');
    const [next] = es(before.body.items, 'next');
    expect(current && next).toBeTruthy();
    for (const k of before.body.items) expect(k.publicJwk).not.toHaveProperty('d');
    // The next key is already published before it signs anything.
    expect(await publishedKids()).toEqual(expect.arrayContaining([current, next]));

    const oldToken = (await oidc.clientCredentialsGrant(svc)).access_token;
    expect(decodeProtectedHeader(oldToken).kid).toBe(current);

    const rotated = await t.api('POST', `/api/v1/tenants/${t.slug}/keys/rotate`);
    expect(rotated.status).toBe(200);
    expect(es(rotated.body.items, 'current')).toEqual([next]);
    expect(es(rotated.body.items, 'previous')).toEqual([current]);
    const [newNext] = es(rotated.body.items, 'next');
    expect(newNext).toBeTruthy();
    expect([current, next]).not.toContain(newNext);

    const newToken = (await oidc.clientCredentialsGrant(svc)).access_token;
    expect(decodeProtectedHeader(newToken).kid).toBe(next);
    const kids = await publishedKids();
    expect(kids).toEqual(expect.arrayContaining([current, next, newNext]));

    // A verifier that fetches the JWKS now accepts tokens from before and after rotation.
    const fresh = createRemoteJWKSet(new URL(`${tIssuer.href}/jwks`));
    const opts = { issuer: tIssuer.href, audience: `${ts.url}/api`, typ: 'at+jwt' };
    expect((await jwtVerify(oldToken, fresh, opts)).protectedHeader.kid).toBe(current);
    expect((await jwtVerify(newToken, fresh, opts)).protectedHeader.kid).toBe(next);
    // So does the admin API (the token authenticates; it holds no role, so the route is forbidden).
    expect((await ts.api('GET', `/api/v1/tenants/${t.slug}/users`, { token: oldToken })).status).toBe(403);
    expect((await ts.api('GET', `/api/v1/tenants/${t.slug}/users`, { token: newToken })).status).toBe(403);
  });
});
