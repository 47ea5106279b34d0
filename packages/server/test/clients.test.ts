import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorize, clientCredentialsGrant, discover, introspection, redeem, tokenRequest } from './helpers/oidc.js';
import {
  type ApiClient,
  apiClient,
  expectOneOfPatchAndDelete,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';

const oidcScopes = ['openid', 'profile', 'email', 'offline_access'];

/** How many grants and refresh tokens a tenant has stored, read straight from the test database. */
async function storedGrants(ts: TestServer, slug: string): Promise<number> {
  const sql =
    "select count(*) as n from oidc_payloads p join tenants t on t.id = p.tenant_id where p.model in ('Grant', 'RefreshToken') and t.slug = ";
  if (ts.database.dialect === 'sqlite') {
    const db = new Database(ts.database.url.replace(/^sqlite:/, ''), { readonly: true, fileMustExist: true });
    try {
      return Number((db.prepare(`${sql}?`).get(slug) as { n: number }).n);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: ts.database.url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(`${sql}$1`, [slug])).rows[0]?.n);
  } finally {
    await client.end();
  }
}

function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

describe.each(dialects)('applications (OAuth clients) (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let api: ApiClient;
  let otherSlug: string;
  let otherApi: ApiClient;
  const path = () => `/api/v1/tenants/${slug}/clients`;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    ({ slug, api } = await tenantWithAdmin(ts));
    ({ slug: otherSlug, api: otherApi } = await tenantWithAdmin(ts));
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('creates a web client: confidential, with a secret shown only in the create response', async () => {
    const created = await api('POST', path(), {
      body: { kind: 'web', name: 'Web', redirectUris: ['https://app.example.com/callback'] },
    });
    expect(created.status).toBe(201);
    const c = created.body;
    expect(c).toMatchObject({
      kind: 'web',
      name: 'Web',
      confidential: true,
      tokenEndpointAuthMethod: 'client_secret_basic',
      idTokenSigningAlg: 'RS256',
      redirectUris: ['https://app.example.com/callback'],
      firstParty: false,
      roles: [],
      builtin: false,
      version: 1,
      defaultApi: null,
    });
    expect(c.id).toMatch(/^cli_/);
    expect(c.clientId).toBe(c.id);
    expect([...c.scopes].sort()).toEqual([...oidcScopes].sort());
    expect(typeof c.clientSecret).toBe('string');
    expect(c.clientSecret.length).toBeGreaterThanOrEqual(32);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.headers.get('location')).toBe(`/api/v1/tenants/${slug}/clients/${c.id}`);

    const got = await api('GET', `${path()}/${c.id}`);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('clientSecret');
    expect(got.text).not.toContain(c.clientSecret);
    expect(got.headers.get('etag')).toBe('"1"');
    const list = await api('GET', path());
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: { id: string }) => i.id)).toContain(c.id);
    expect(list.text).not.toContain(c.clientSecret);
    for (const item of list.body.items) expect(item).not.toHaveProperty('clientSecret');
  });

  it('creates a service client: confidential, no redirect URIs, no OIDC scopes, roles, admin API by default', async () => {
    const created = await api('POST', path(), {
      body: { kind: 'service', name: 'Worker', roles: ['tenant:admin'] },
    });
    expect(created.status).toBe(201);
    const c = created.body;
    expect(c).toMatchObject({
      kind: 'service',
      confidential: true,
      tokenEndpointAuthMethod: 'client_secret_basic',
      redirectUris: [],
      postLogoutRedirectUris: [],
      scopes: [],
      roles: ['tenant:admin'],
      defaultApi: `${ts.url}/api`,
    });
    expect(typeof c.clientSecret).toBe('string');
    const got = await api('GET', `${path()}/${c.id}`);
    expect(got.body).not.toHaveProperty('clientSecret');
    expect(got.body.roles).toEqual(['tenant:admin']);

    // Its token is a JWT for the admin API carrying its roles, and the admin API accepts it here.
    const token = await clientCredentialsGrant(ts, slug, { id: c.clientId, secret: c.clientSecret });
    expect(token.status).toBe(200);
    const claims = jwtPayload(String(token.body.access_token));
    expect(claims.aud).toBe(`${ts.url}/api`);
    expect(claims.client_id).toBe(c.clientId);
    expect(claims.roles).toEqual(['tenant:admin']);
    const viaToken = apiClient(ts.url, String(token.body.access_token));
    expect((await viaToken('GET', path())).status).toBe(200);
    expect((await viaToken('GET', `/api/v1/tenants/${otherSlug}/clients`)).status).toBe(404);

    for (const body of [
      { kind: 'service', name: 'S', redirectUris: ['https://app.example.com/cb'] },
      { kind: 'service', name: 'S', postLogoutRedirectUris: ['https://app.example.com/bye'] },
      { kind: 'service', name: 'S', scopes: ['openid'] },
      { kind: 'service', name: 'S', scopes: ['offline_access'] },
    ]) {
      const res = await api('POST', path(), { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    // Nor can a PATCH give it a redirect URI or an OIDC scope later.
    expect((await api('PATCH', `${path()}/${c.id}`, { body: { scopes: ['profile'] } })).status).toBe(400);
    expect(
      (await api('PATCH', `${path()}/${c.id}`, { body: { redirectUris: ['https://app.example.com/cb'] } })).status,
    ).toBe(400);
  });

  it.each(['spa', 'native'] as const)('creates a %s client: public, auth method none, no secret', async (kind) => {
    const created = await api('POST', path(), {
      body: { kind, name: kind, redirectUris: ['http://127.0.0.1:5173/callback'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind, confidential: false, tokenEndpointAuthMethod: 'none' });
    expect(created.body).not.toHaveProperty('clientSecret');
    expect([...created.body.scopes].sort()).toEqual([...oidcScopes].sort());
    // A public client has no secret to rotate, and cannot be given a secret auth method.
    const rotate = await api('POST', `${path()}/${created.body.id}/secret`);
    expect(rotate.status).toBe(409);
    expect(rotate.text).not.toContain('clientSecret');
    const withMethod = await api('POST', path(), {
      body: {
        kind,
        name: kind,
        redirectUris: ['http://localhost/cb'],
        tokenEndpointAuthMethod: 'client_secret_post',
      },
    });
    expect(withMethod.status).toBe(400);
    const patched = await api('PATCH', `${path()}/${created.body.id}`, {
      body: { tokenEndpointAuthMethod: 'client_secret_basic' },
    });
    expect(patched.status).toBe(400);
  });

  it('requires a redirect URI for browser-based kinds', async () => {
    for (const kind of ['web', 'spa', 'native']) {
      const res = await api('POST', path(), { body: { kind, name: 'x' } });
      expect(res.status, kind).toBe(400);
    }
  });

  it('accepts https anywhere and http only on localhost / 127.0.0.1', async () => {
    const good = [
      'https://app.example.com/callback',
      'https://app.example.com:8443/cb?tenant=1',
      'http://localhost/cb',
      'http://localhost:3000/cb',
      'http://127.0.0.1:8080/callback',
    ];
    const res = await api('POST', path(), {
      body: { kind: 'web', name: 'ok', redirectUris: good, postLogoutRedirectUris: good },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.redirectUris).toEqual(good);
  });

  it.each([
    'http://app.example.com/callback',
    'http://localhost.example.com/cb',
    'http://127.0.0.1.nip.io/cb',
    'http://10.0.0.1/cb',
    'https://app.example.com/cb#frag',
    'https://app.example.com/cb#',
    'http://localhost/cb#x',
    'https://user:pass@app.example.com/cb',
    'ftp://app.example.com/cb',
    'javascript:alert(1)',
    'data:text/html,hi',
    'app.example.com/cb',
    '/callback',
    '',
  ])('rejects the redirect URI %j with 400 (create, PATCH, post-logout)', async (uri) => {
    const create = await api('POST', path(), { body: { kind: 'web', name: 'bad', redirectUris: [uri] } });
    expect(create.status).toBe(400);
    const logout = await api('POST', path(), {
      body: { kind: 'spa', name: 'bad', redirectUris: ['https://ok.example.com/cb'], postLogoutRedirectUris: [uri] },
    });
    expect(logout.status).toBe(400);
    const base = await api('POST', path(), {
      body: { kind: 'native', name: 'base', redirectUris: ['http://127.0.0.1/cb'] },
    });
    expect(base.status).toBe(201);
    const patch = await api('PATCH', `${path()}/${base.body.id}`, { body: { redirectUris: [uri] } });
    expect(patch.status).toBe(400);
    const after = await api('GET', `${path()}/${base.body.id}`);
    expect(after.body.redirectUris).toEqual(['http://127.0.0.1/cb']);
  });

  it('gives roles to service clients only', async () => {
    for (const kind of ['web', 'spa', 'native']) {
      const res = await api('POST', path(), {
        body: { kind, name: 'r', redirectUris: ['https://app.example.com/cb'], roles: ['tenant:admin'] },
      });
      expect(res.status, kind).toBe(400);
    }
    const web = await api('POST', path(), {
      body: { kind: 'web', name: 'r', redirectUris: ['https://app.example.com/cb'] },
    });
    const patch = await api('PATCH', `${path()}/${web.body.id}`, { body: { roles: ['tenant:admin'] } });
    expect(patch.status).toBe(400);
    expect((await api('GET', `${path()}/${web.body.id}`)).body.roles).toEqual([]);
    const unknown = await api('POST', path(), { body: { kind: 'service', name: 's', roles: ['no-such-role'] } });
    expect(unknown.status).toBe(400);
  });

  it('never lets a creator give a service client more than it holds', async () => {
    const role = await api('POST', `/api/v1/tenants/${slug}/roles`, {
      body: { name: 'app-manager', permissions: ['clients:read', 'clients:write'] },
    });
    expect(role.status).toBe(201);
    const key = await api('POST', `/api/v1/tenants/${slug}/api-keys`, {
      body: { name: 'apps', roles: ['app-manager'] },
    });
    expect(key.status).toBe(201);
    const manager = apiClient(ts.url, key.body.secret);

    const tooStrong = await manager('POST', path(), {
      body: { kind: 'service', name: 'escalate', roles: ['tenant:admin'] },
    });
    expect(tooStrong.status).toBe(403);
    const mixed = await manager('POST', path(), {
      body: { kind: 'service', name: 'escalate', roles: ['app-manager', 'tenant:admin'] },
    });
    expect(mixed.status).toBe(403);
    const list = await api('GET', `${path()}?kind=service`);
    expect(list.body.items.map((c: { name: string }) => c.name)).not.toContain('escalate');

    const ok = await manager('POST', path(), { body: { kind: 'service', name: 'peer', roles: ['app-manager'] } });
    expect(ok.status).toBe(201);
    const patch = await manager('PATCH', `${path()}/${ok.body.id}`, { body: { roles: ['tenant:admin'] } });
    expect(patch.status).toBe(403);
    expect((await api('GET', `${path()}/${ok.body.id}`)).body.roles).toEqual(['app-manager']);
    // The system-wide role stays out of reach of a tenant admin.
    const system = await api('POST', path(), { body: { kind: 'service', name: 'sys', roles: ['system:admin'] } });
    expect([400, 403]).toContain(system.status);
  });

  it('rotates a secret: the old one stops working at the token endpoint, the new one works', async () => {
    const created = await api('POST', path(), { body: { kind: 'service', name: 'rotating' } });
    expect(created.status).toBe(201);
    const { clientId, clientSecret: oldSecret } = created.body;
    const before = await clientCredentialsGrant(ts, slug, { id: clientId, secret: oldSecret });
    expect(before.status).toBe(200);

    const rotated = await api('POST', `${path()}/${created.body.id}/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const newSecret = rotated.body.clientSecret;
    expect(typeof newSecret).toBe('string');
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.body.version).toBe(2);

    const old = await clientCredentialsGrant(ts, slug, { id: clientId, secret: oldSecret });
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_client');
    const fresh = await clientCredentialsGrant(ts, slug, { id: clientId, secret: newSecret });
    expect(fresh.status).toBe(200);
    expect(fresh.body.access_token).toBeTruthy();
    const got = await api('GET', `${path()}/${created.body.id}`);
    expect(got.text).not.toContain(newSecret);
  });

  it('honours If-Match on PATCH and DELETE', async () => {
    const created = await api('POST', path(), {
      body: { kind: 'web', name: 'v1', redirectUris: ['https://app.example.com/cb'] },
    });
    const id = created.body.id;
    expect(created.headers.get('etag')).toBe('"1"');
    const first = await api('PATCH', `${path()}/${id}`, { body: { name: 'v2' }, headers: { 'if-match': '"1"' } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ name: 'v2', version: 2 });
    expect(first.headers.get('etag')).toBe('"2"');
    const stale = await api('PATCH', `${path()}/${id}`, { body: { name: 'v3' }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    expect((await api('GET', `${path()}/${id}`)).body.name).toBe('v2');
    const staleDelete = await api('DELETE', `${path()}/${id}`, { headers: { 'if-match': '"1"' } });
    expect(staleDelete.status).toBe(412);
    expect((await api('GET', `${path()}/${id}`)).status).toBe(200);
    const del = await api('DELETE', `${path()}/${id}`, { headers: { 'if-match': '"2"' } });
    expect(del.status).toBe(204);
    expect((await api('GET', `${path()}/${id}`)).status).toBe(404);
  });

  it('lets one of a PATCH and a DELETE sent at once with the same If-Match win, never both', async () => {
    for (let i = 0; i < 6; i++) {
      const created = await api('POST', path(), {
        body: { kind: 'web', name: `race ${i}`, redirectUris: ['https://app.example.com/cb'] },
      });
      await expectOneOfPatchAndDelete(api, `${path()}/${created.body.id}`, { name: 'changed' });
    }
  });

  it('gives each of several secret rotations at once its own version, and keeps the last secret', async () => {
    const created = await api('POST', path(), {
      body: { kind: 'web', name: 'rotated', redirectUris: ['https://app.example.com/cb'] },
    });
    const rotations = await Promise.all(
      Array.from({ length: 5 }, () => api('POST', `${path()}/${created.body.id}/secret`)),
    );
    expect(rotations.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const versions = rotations.map((r) => r.body.version as number).sort();
    expect(new Set(versions).size).toBe(5);
    expect((await api('GET', `${path()}/${created.body.id}`)).body.version).toBe(6);
  });

  it('rejects unknown fields', async () => {
    const res = await api('POST', path(), {
      body: { kind: 'web', name: 'x', redirectUris: ['https://a.example.com/cb'], clientSecret: 'mine' },
    });
    expect(res.status).toBe(400);
  });

  it('has the built-in admin-console client in every tenant, which cannot be deleted', async () => {
    for (const [s, call, base] of [
      [slug, api, `${ts.url}/admin/t/${slug}`],
      [otherSlug, otherApi, `${ts.url}/admin/t/${otherSlug}`],
      ['system', ts.api, `${ts.url}/admin`],
    ] as const) {
      const got = await call('GET', `/api/v1/tenants/${s}/clients/admin-console`);
      expect(got.status, s).toBe(200);
      expect(got.body).toMatchObject({
        clientId: 'admin-console',
        kind: 'spa',
        confidential: false,
        tokenEndpointAuthMethod: 'none',
        firstParty: true,
        builtin: true,
        redirectUris: [`${base}/callback`],
        // OpenID Connect's registration default, like every application (issue 9, item 18).
        idTokenSigningAlg: 'RS256',
      });
      const del = await call('DELETE', `/api/v1/tenants/${s}/clients/admin-console`);
      expect(del.status, s).toBe(409);
      const byId = await call('DELETE', `/api/v1/tenants/${s}/clients/${got.body.id}`);
      expect(byId.status, s).toBe(409);
      expect((await call('GET', `/api/v1/tenants/${s}/clients/admin-console`)).status).toBe(200);
    }
    const list = await api('GET', path());
    expect(list.body.items.some((c: { clientId: string }) => c.clientId === 'admin-console')).toBe(true);
    // Its discovery-level presence: the provider knows it as a public client.
    const auth = await fetch(
      `${ts.url}/t/${slug}/auth?${new URLSearchParams({
        client_id: 'admin-console',
        redirect_uri: `${ts.url}/admin/t/${slug}/callback`,
        response_type: 'code',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    );
    expect(auth.status).toBe(303);
    expect(auth.headers.get('location')).toMatch(new RegExp(`^/t/${slug}/interaction/`));
  });

  it('deleting a client makes its refresh tokens stop working', async () => {
    const redirectUri = 'http://127.0.0.1:9/callback';
    const email = 'client-delete@example.test';
    const password = 'delete the client please';
    expect(
      (await api('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password, displayName: 'D' } })).status,
    ).toBe(201);
    const web = await api('POST', path(), {
      body: { kind: 'web', name: 'doomed', redirectUris: [redirectUri], firstParty: true },
    });
    const config = await discover(ts, slug, web.body);
    const a = await authorize(
      config,
      new Browser(),
      redirectUri,
      { email, password },
      { scope: 'openid offline_access', prompt: 'consent' },
    );
    const tokens = await redeem(config, a);
    const refreshToken = tokens.refresh_token ?? '';
    expect(refreshToken).not.toBe('');
    const webClient = { id: web.body.clientId, secret: web.body.clientSecret };
    const introspect = () => introspection(ts, slug, webClient, refreshToken);
    expect((await introspect()).body.active).toBe(true);
    expect(await storedGrants(ts, slug)).toBeGreaterThanOrEqual(2);

    expect((await api('DELETE', `${path()}/${web.body.id}`)).status).toBe(204);
    // Gone from storage, not merely unusable because the client is gone.
    expect(await storedGrants(ts, slug)).toBe(0);
    const refresh = await tokenRequest(
      ts,
      slug,
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      webClient,
    );
    expect(refresh.status).toBe(401);
    expect(refresh.body.error).toBe('invalid_client');
    expect(refresh.body.access_token).toBeUndefined();
    expect((await introspect()).status).toBe(401);
  });

  it('answers 404 for another tenant’s clients (tenant:admin of A against B)', async () => {
    const theirs = await otherApi('POST', `/api/v1/tenants/${otherSlug}/clients`, {
      body: { kind: 'service', name: 'theirs' },
    });
    expect(theirs.status).toBe(201);
    const id = theirs.body.id;
    const b = `/api/v1/tenants/${otherSlug}/clients`;
    const attempts: [string, string, unknown][] = [
      ['GET', b, undefined],
      ['POST', b, { kind: 'service', name: 'planted' }],
      ['GET', `${b}/${id}`, undefined],
      ['GET', `${b}/admin-console`, undefined],
      ['PATCH', `${b}/${id}`, { name: 'pwned' }],
      ['POST', `${b}/${id}/secret`, undefined],
      ['DELETE', `${b}/${id}`, undefined],
      // B's client through A's own path
      ['GET', `${path()}/${id}`, undefined],
      ['PATCH', `${path()}/${id}`, { name: 'pwned' }],
      ['POST', `${path()}/${id}/secret`, undefined],
      ['DELETE', `${path()}/${id}`, undefined],
    ];
    for (const [method, p, body] of attempts) {
      const res = await api(method, p, { body });
      expect(res.status, `${method} ${p}`).toBe(404);
      expect(res.text).not.toContain('clientSecret');
    }
    const still = await otherApi('GET', `${b}/${id}`);
    expect(still.status).toBe(200);
    expect(still.body).toMatchObject({ name: 'theirs', version: 1 });
    const theirsClient = { id: theirs.body.clientId, secret: theirs.body.clientSecret };
    const token = await clientCredentialsGrant(ts, otherSlug, theirsClient);
    expect(token.status).toBe(200);
    // The client id means nothing at tenant A's token endpoint.
    const elsewhere = await clientCredentialsGrant(ts, slug, theirsClient);
    expect(elsewhere.status).toBe(401);
  });
});
