/**
 * The admin API with JWT access tokens instead of API keys: who they let in (a system
 * admin everywhere, a tenant admin in its own tenant), and the forged, altered, misdirected
 * and expired tokens they must keep out.
 */
import { randomBytes } from 'node:crypto';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { type ClientCredentials, clientCredentialsGrant, pkce, serviceClient, tokenRequest } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe.each(dialects)('admin API with access tokens (%s)', (dialect) => {
  let ts: TestServer;
  /** Tenant T: its admin API key client, a tenant:admin service client and its token. */
  let slugT: string;
  let apiT: ApiClient;
  let tenantIdT: string;
  let svcT: ClientCredentials & { rowId: string };
  let tokenT: string;
  /** Tenant U, another tenant. */
  let slugU: string;
  let tenantIdU: string;
  let adminApi: string;

  async function clientCredentials(slug: string, client: ClientCredentials, extra: Record<string, string> = {}) {
    const res = await clientCredentialsGrant(ts, slug, client, extra);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.access_token as string | undefined) ?? '';
  }

  const serviceWith = (api: ApiClient, slug: string, roles: string[], extra = {}) =>
    serviceClient(api, slug, { name: `svc ${roles.join(',')}`, roles, ...extra });

  /** A token signed with the tenant's real current key (read through the server's own key service). */
  async function mintWithTenantKey(tenantId: string, claims: JWTPayload, header: Record<string, unknown> = {}) {
    const { signing } = await ts.server.ctx.keys.keysFor(tenantId);
    const jwk = signing.find((k) => k.alg === 'ES256') as JWK;
    const key = await importJWK(jwk, 'ES256');
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid, ...header }).sign(key);
  }

  const status = async (token: string, path = `/api/v1/tenants/${slugT}/users`) =>
    (await ts.api('GET', path, { token })).status;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    adminApi = `${ts.url}/api`;
    const t = await tenantWithAdmin(ts);
    slugT = t.slug;
    apiT = t.api;
    tenantIdT = (await apiT('GET', `/api/v1/tenants/${slugT}`)).body.id;
    const u = await tenantWithAdmin(ts);
    slugU = u.slug;
    tenantIdU = (await u.api('GET', `/api/v1/tenants/${slugU}`)).body.id;
    svcT = await serviceWith(apiT, slugT, ['tenant:admin']);
    tokenT = await clientCredentials(slugT, svcT);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('a system-tenant service client with system:admin manages all tenants', async () => {
    const svc = await serviceWith(ts.api, 'system', ['system:admin']);
    const token = await clientCredentials('system', svc);
    expect(decodeJwt(token)).toMatchObject({ iss: `${ts.url}/t/system`, aud: adminApi, roles: ['system:admin'] });
    const list = await ts.api('GET', '/api/v1/tenants?limit=200', { token });
    expect(list.status).toBe(200);
    const slugs = (list.body.items as { slug: string }[]).map((x) => x.slug);
    expect(slugs).toEqual(expect.arrayContaining(['system', slugT, slugU]));
    expect((await ts.api('GET', `/api/v1/tenants/${slugU}/users`, { token })).status).toBe(200);
    const created = await ts.api('POST', '/api/v1/tenants', {
      token,
      body: { slug: `sys-${randomBytes(3).toString('hex')}`, displayName: 'Made with a token' },
    });
    expect(created.status).toBe(201);
  });

  it('a tenant:admin service client manages its own tenant only', async () => {
    expect(decodeJwt(tokenT)).toMatchObject({ iss: `${ts.url}/t/${slugT}`, aud: adminApi, sub: svcT.id });
    expect(await status(tokenT)).toBe(200);
    const created = await ts.api('POST', `/api/v1/tenants/${slugT}/users`, {
      token: tokenT,
      body: { email: 'bob@example.test' },
    });
    expect(created.status).toBe(201);
    // Its audit trail names the client.
    const audit = await apiT('GET', `/api/v1/tenants/${slugT}/audit-events?action=user.create`);
    expect(audit.body.items[0].actor).toMatchObject({ type: 'client', id: svcT.rowId });

    const list = await ts.api('GET', '/api/v1/tenants', { token: tokenT });
    expect(list.status).toBe(200);
    expect((list.body.items as { slug: string }[]).map((x) => x.slug)).toEqual([slugT]);
    for (const path of [`/api/v1/tenants/${slugU}`, `/api/v1/tenants/${slugU}/users`, '/api/v1/tenants/system']) {
      expect(await status(tokenT, path), path).toBe(404);
    }
    const foreignWrite = await ts.api('POST', `/api/v1/tenants/${slugU}/users`, {
      token: tokenT,
      body: { email: 'mallory@example.test' },
    });
    expect(foreignWrite.status).toBe(404);
    const newTenant = await ts.api('POST', '/api/v1/tenants', {
      token: tokenT,
      body: { slug: `no-${randomBytes(3).toString('hex')}`, displayName: 'No' },
    });
    expect(newTenant.status).toBe(403);
  });

  it('a user signed in with resource={PUBLIC_URL}/api gets an admin API token for their tenant', async () => {
    const email = 'tess@example.test';
    const password = 'tenant admin password 1';
    const user = await apiT('POST', `/api/v1/tenants/${slugT}/users`, { body: { email, password } });
    expect(user.status).toBe(201);
    expect(
      (await apiT('PUT', `/api/v1/tenants/${slugT}/users/${user.body.id}/roles/tenant:admin`)).status,
    ).toBeLessThan(300);
    const redirect = `${ts.url}/admin/t/${slugT}/callback`;
    const { verifier, challenge } = pkce();
    const url = `${ts.url}/t/${slugT}/auth?${new URLSearchParams({
      client_id: 'admin-console',
      redirect_uri: redirect,
      response_type: 'code',
      scope: 'openid',
      resource: adminApi,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const browser = new Browser();
    const stopAt = (u: URL) => u.href.startsWith(redirect);
    const done = await browser.submit(await browser.go(url), { email, password }, { stopAt });
    const code = done.url.searchParams.get('code') ?? '';
    expect(code).toBeTruthy();
    const res = await tokenRequest(ts, slugT, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirect,
      client_id: 'admin-console',
      code_verifier: verifier,
    });
    const body = res.body as { access_token: string };
    expect(res.status).toBe(200);
    expect(decodeJwt(body.access_token)).toMatchObject({ aud: adminApi, sub: user.body.id, roles: ['tenant:admin'] });
    expect(await status(body.access_token)).toBe(200);
    expect(await status(body.access_token, `/api/v1/tenants/${slugU}/users`)).toBe(404);
  });

  it('refuses the tokens of a deleted client, a user’s as well as a service’s', async () => {
    const user = await apiT('POST', `/api/v1/tenants/${slugT}/users`, { body: { email: 'gone-app@example.test' } });
    expect((await apiT('PUT', `/api/v1/tenants/${slugT}/users/${user.body.id}/roles/tenant:admin`)).status).toBe(204);
    const web = await apiT('POST', `/api/v1/tenants/${slugT}/clients`, {
      body: { kind: 'web', name: 'Soon gone', redirectUris: ['http://127.0.0.1:9/cb'] },
    });
    expect(web.status, web.text).toBe(201);
    const now = Math.floor(Date.now() / 1000);
    const token = await mintWithTenantKey(tenantIdT, {
      iss: `${ts.url}/t/${slugT}`,
      aud: adminApi,
      sub: user.body.id,
      client_id: web.body.clientId,
      iat: now,
      exp: now + 300,
      jti: randomBytes(8).toString('hex'),
    });
    expect(await status(token)).toBe(200);
    expect((await apiT('DELETE', `/api/v1/tenants/${slugT}/clients/${web.body.id}`)).status).toBe(204);
    expect(await status(token)).toBe(401);
  });

  it('caps admin API tokens at the admin API lifetime, whatever the client asks', async () => {
    const svc = await serviceWith(apiT, slugT, ['tenant:admin'], { accessTokenTtlSeconds: 86_400 });
    const claims = decodeJwt(await clientCredentials(slugT, svc));
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(3600);
  });

  it('refuses a token issued for another API (401)', async () => {
    const identifier = 'https://billing.example.test/';
    const api = await apiT('POST', `/api/v1/tenants/${slugT}/apis`, { body: { identifier, name: 'Billing' } });
    expect(api.status).toBe(201);
    // Same client, same roles; only the audience differs.
    const other = await clientCredentials(slugT, svcT, { resource: identifier });
    expect(decodeJwt(other).aud).toBe(identifier);
    expect(await status(other)).toBe(401);
    // A client whose default API is another one, likewise.
    const svc = await serviceWith(apiT, slugT, ['tenant:admin'], { defaultApi: identifier });
    expect(await status(await clientCredentials(slugT, svc))).toBe(401);
  });

  it('refuses crafted tokens with 401', async () => {
    const real = decodeJwt(tokenT);
    const realHeader = decodeProtectedHeader(tokenT);
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload = { ...real, iat: now, exp: now + 600, jti: randomBytes(8).toString('hex') };
    const jwks = (await (await fetch(`${ts.url}/t/${slugT}/jwks`)).json()) as { keys: JWK[] };
    const published = jwks.keys.find((k) => k.kid === realHeader.kid) as JWK;
    expect(published).toBeTruthy();

    // Control: the same claims signed with the tenant's real key are accepted, so each
    // refusal below is down to the one thing that differs.
    expect(await status(await mintWithTenantKey(tenantIdT, claims))).toBe(200);

    const refused: Record<string, string> = {};
    // alg: none, with and without a trailing signature.
    const noneHeader = { alg: 'none', typ: 'at+jwt', kid: realHeader.kid };
    refused['alg none'] = `${b64url(noneHeader)}.${b64url(claims)}.`;
    refused['alg none, signature kept'] = `${b64url(noneHeader)}.${b64url(claims)}.${tokenT.split('.')[2]}`;
    // HS256 keyed with the tenant's public key, in the forms an attacker would try.
    const publicKey = await importJWK(published, 'ES256');
    const secrets: Record<string, Uint8Array> = {
      'jwk json': new TextEncoder().encode(JSON.stringify(published)),
      pem: new TextEncoder().encode(await exportSPKI(publicKey as Parameters<typeof exportSPKI>[0])),
      'raw x': Buffer.from(published.x ?? '', 'base64url'),
    };
    for (const [name, secret] of Object.entries(secrets)) {
      refused[`HS256 with public key (${name})`] = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: published.kid })
        .sign(secret);
    }
    // Our own ES256 key: with an unknown kid, and with a kid the tenant publishes.
    const mine = await generateKeyPair('ES256');
    const signMine = (c: JWTPayload, kid: string) =>
      new SignJWT(c).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(mine.privateKey);
    refused['unknown kid'] = await signMine(claims, `key_${randomBytes(8).toString('hex')}`);
    refused['own key, published kid'] = await signMine(claims, published.kid ?? '');
    refused['own key, expired'] = await signMine({ ...claims, iat: now - 7200, exp: now - 3600 }, published.kid ?? '');
    // Real key, but expired / wrong audience / wrong type / missing expiry.
    refused.expired = await mintWithTenantKey(tenantIdT, { ...claims, iat: now - 7200, exp: now - 3600 });
    refused['wrong aud'] = await mintWithTenantKey(tenantIdT, { ...claims, aud: 'https://other.example.test/' });
    refused['not yet valid'] = await mintWithTenantKey(tenantIdT, { ...claims, nbf: now + 3600 });
    refused['typ JWT (not an access token)'] = await mintWithTenantKey(tenantIdT, claims, { typ: 'JWT' });
    const { exp: _exp, ...noExp } = claims;
    refused['no exp'] = await mintWithTenantKey(tenantIdT, noExp);
    // A flipped bit in the signature of a real token.
    const [h, p, sig = ''] = tokenT.split('.');
    const bytes = Buffer.from(sig, 'base64url');
    bytes[10] = (bytes[10] ?? 0) ^ 0x01;
    refused['flipped signature bit'] = `${h}.${p}.${bytes.toString('base64url')}`;
    // A flipped bit in the payload (sub changed) keeps the old signature.
    refused['altered payload'] = `${h}.${b64url({ ...real, roles: ['system:admin'] })}.${sig}`;
    // iss names T, signed by U's real key (with U's kid).
    refused['iss T signed by U'] = await mintWithTenantKey(tenantIdU, claims);
    // A token that names U as issuer but carries T's signature.
    refused['iss U signed by T'] = await mintWithTenantKey(tenantIdT, { ...claims, iss: `${ts.url}/t/${slugU}` });
    // An issuer outside this server.
    refused['foreign issuer'] = await mintWithTenantKey(tenantIdT, {
      ...claims,
      iss: `https://evil.example/t/${slugT}`,
    });

    for (const [name, token] of Object.entries(refused)) {
      const res = await ts.api('GET', `/api/v1/tenants/${slugT}/users`, { token });
      expect(res.status, name).toBe(401);
      expect(res.body.error.code, name).toBe('unauthorized');
      expect(res.headers.get('www-authenticate'), name).toContain('invalid_token');
      const write = await ts.api('POST', `/api/v1/tenants/${slugT}/users`, {
        token,
        body: { email: `forged-${randomBytes(4).toString('hex')}@example.test` },
      });
      expect(write.status, name).toBe(401);
    }
    // The real token still works (nothing above poisoned a cache).
    expect(await status(tokenT)).toBe(200);
  });

  it('stops honouring a removed role: at once on this node, within the cache TTL on another', async () => {
    // A second node on the same database, with a short cache TTL (the default is 5 s).
    const other = await startTestServer(
      dialect,
      { PUBLIC_URL: ts.url, LATCHKEY_BOOTSTRAP_API_KEY: ts.adminKey, CACHE_TTL_SECONDS: '1' },
      ts.database,
    );
    try {
      const svc = await serviceWith(apiT, slugT, ['tenant:admin']);
      const token = await clientCredentials(slugT, svc);
      const write = (node: TestServer) =>
        node.api('POST', `/api/v1/tenants/${slugT}/users`, {
          token,
          body: { email: `w-${randomBytes(4).toString('hex')}@example.test` },
        });
      /** Polls until `check` gives `want`, for at most the other node's TTL plus a margin. */
      async function eventually(check: () => Promise<number>, want: number) {
        const deadline = Date.now() + 3000;
        let last = await check();
        while (last !== want && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          last = await check();
        }
        return last;
      }
      // Both nodes accept it (and cache their verdict).
      expect((await write(ts)).status).toBe(201);
      expect((await write(other)).status).toBe(201);

      const patched = await apiT('PATCH', `/api/v1/tenants/${slugT}/clients/${svc.id}`, { body: { roles: [] } });
      expect(patched.status).toBe(200);
      expect(patched.body.roles).toEqual([]);
      // The node that made the change: the very next write is refused.
      expect((await write(ts)).status).toBe(403);
      expect(await status(token)).toBe(403);
      // The other node: once its cache entry expires.
      expect(await eventually(async () => (await write(other)).status, 403)).toBe(403);

      // Deleting the client ends its tokens altogether.
      expect((await apiT('DELETE', `/api/v1/tenants/${slugT}/clients/${svc.id}`)).status).toBe(204);
      expect(await status(token)).toBe(401);
      const viaOther = () => other.api('GET', `/api/v1/tenants/${slugT}/users`, { token }).then((r) => r.status);
      expect(await eventually(viaOther, 401)).toBe(401);
    } finally {
      await other.close();
    }
  });
});
