import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import {
  authorize,
  type ClientCredentials,
  clientCredentialsGrant,
  discover,
  redeem,
  serviceClient,
} from './helpers/oidc.js';
import {
  type ApiClient,
  expectOneOfPatchAndDelete,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h = '', p = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

describe.each(dialects)('APIs (resource servers) (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let api: ApiClient;
  let service: ClientCredentials;
  const path = () => `/api/v1/tenants/${slug}/apis`;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    ({ slug, api } = await tenantWithAdmin(ts));
    service = await serviceClient(api, slug);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('registers an API with scopes and a lifetime', async () => {
    const res = await api('POST', path(), {
      body: {
        identifier: 'https://orders.example.com/api',
        name: 'Orders',
        scopes: [{ name: 'orders:read', description: 'Read orders' }, { name: 'orders:write' }],
        accessTokenTtlSeconds: 900,
      },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      identifier: 'https://orders.example.com/api',
      name: 'Orders',
      scopes: [
        { name: 'orders:read', description: 'Read orders' },
        { name: 'orders:write', description: '' },
      ],
      accessTokenTtlSeconds: 900,
      builtin: false,
      version: 1,
    });
    expect(res.body.id).toMatch(/^api_/);
    expect(res.headers.get('etag')).toBe('"1"');
    const got = await api('GET', `${path()}/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    const list = await api('GET', path());
    expect(list.body.items.map((a: { id: string }) => a.id)).toContain(res.body.id);

    // Without a lifetime it takes the tenant's access token lifetime (3600 s by default).
    const plain = await api('POST', path(), { body: { identifier: 'urn:example:plain', name: 'Plain' } });
    expect(plain.status, plain.text).toBe(201);
    expect(plain.body.accessTokenTtlSeconds).toBe(3600);
    expect(plain.body.scopes).toEqual([]);
  });

  it.each([
    ['a relative identifier', { identifier: '/orders', name: 'x' }],
    ['a bare word', { identifier: 'orders', name: 'x' }],
    ['a fragment', { identifier: 'https://x.example.com/api#v1', name: 'x' }],
    ['an empty name', { identifier: 'https://x.example.com/e', name: '' }],
    ['a lifetime over a day', { identifier: 'https://x.example.com/a', name: 'x', accessTokenTtlSeconds: 86_401 }],
    ['a lifetime under a minute', { identifier: 'https://x.example.com/b', name: 'x', accessTokenTtlSeconds: 59 }],
    ['an OIDC scope', { identifier: 'https://x.example.com/c', name: 'x', scopes: [{ name: 'openid' }] }],
    ['a scope with a space', { identifier: 'https://x.example.com/d', name: 'x', scopes: [{ name: 'a b' }] }],
    [
      'duplicate scopes',
      { identifier: 'https://x.example.com/f', name: 'x', scopes: [{ name: 'read' }, { name: 'read' }] },
    ],
    ['an unknown field', { identifier: 'https://x.example.com/g', name: 'x', audience: 'y' }],
  ])('refuses %s with 400', async (_what, body) => {
    const res = await api('POST', path(), { body });
    expect(res.status, res.text).toBe(400);
  });

  it('accepts a lifetime of exactly one day', async () => {
    const res = await api('POST', path(), {
      body: { identifier: 'https://day.example.com/', name: 'Day', accessTokenTtlSeconds: 86_400 },
    });
    expect(res.status, res.text).toBe(201);
  });

  it('refuses a duplicate identifier, and the admin API identifier, with 409', async () => {
    const body = { identifier: 'https://dup.example.com/api', name: 'Dup' };
    expect((await api('POST', path(), { body })).status).toBe(201);
    const again = await api('POST', path(), { body: { ...body, name: 'Dup again' } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('api_exists');
    const admin = await api('POST', path(), { body: { identifier: `${ts.url}/api`, name: 'Fake admin' } });
    expect(admin.status).toBe(409);
  });

  it('lists the built-in admin API first; it cannot be changed or deleted', async () => {
    const list = await api('GET', path());
    expect(list.status).toBe(200);
    expect(list.body.items[0]).toMatchObject({ id: 'api_admin', identifier: `${ts.url}/api`, builtin: true });
    const got = await api('GET', `${path()}/api_admin`);
    expect(got.status).toBe(200);
    expect(got.body.identifier).toBe(`${ts.url}/api`);
    const patch = await api('PATCH', `${path()}/api_admin`, { body: { accessTokenTtlSeconds: 86_400 } });
    expect(patch.status).toBe(409);
    const del = await api('DELETE', `${path()}/api_admin`);
    expect(del.status).toBe(409);
    expect((await api('GET', `${path()}/api_admin`)).body).toEqual(got.body);
  });

  it('honours If-Match on PATCH and DELETE', async () => {
    const created = await api('POST', path(), { body: { identifier: 'https://cc.example.com/', name: 'CC' } });
    const id = created.body.id;
    const patched = await api('PATCH', `${path()}/${id}`, {
      body: { name: 'CC 2', scopes: [{ name: 'cc:read' }] },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'CC 2', version: 2, scopes: [{ name: 'cc:read', description: '' }] });
    expect(patched.headers.get('etag')).toBe('"2"');
    const stale = await api('PATCH', `${path()}/${id}`, { body: { name: 'CC 3' }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    const tooLong = await api('PATCH', `${path()}/${id}`, { body: { accessTokenTtlSeconds: 86_401 } });
    expect(tooLong.status).toBe(400);
    const identifier = await api('PATCH', `${path()}/${id}`, { body: { identifier: 'https://other.example.com/' } });
    expect(identifier.status).toBe(400);
    expect((await api('GET', `${path()}/${id}`)).body).toMatchObject({ name: 'CC 2', version: 2 });
    const staleDelete = await api('DELETE', `${path()}/${id}`, { headers: { 'if-match': '"1"' } });
    expect(staleDelete.status).toBe(412);
    expect((await api('DELETE', `${path()}/${id}`, { headers: { 'if-match': '"2"' } })).status).toBe(204);
    expect((await api('GET', `${path()}/${id}`)).status).toBe(404);
    expect((await api('DELETE', `${path()}/${id}`)).status).toBe(404);
  });

  it('lets one of a PATCH and a DELETE sent at once with the same If-Match win, never both', async () => {
    for (let i = 0; i < 6; i++) {
      const created = await api('POST', path(), {
        body: { identifier: `https://race-${i}.example.test/`, name: `race ${i}` },
      });
      expect(created.status, created.text).toBe(201);
      await expectOneOfPatchAndDelete(api, `${path()}/${created.body.id}`, { name: 'changed' });
    }
  });

  it('holds the limit of APIs per tenant when many are created at once', async () => {
    const own = await tenantWithAdmin(ts);
    const apisOf = `/api/v1/tenants/${own.slug}/apis`;
    for (let i = 0; i < 95; i++) {
      expect(
        (await own.api('POST', apisOf, { body: { identifier: `https://a${i}.example.test/`, name: `a${i}` } })).status,
      ).toBe(201);
    }
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        own.api('POST', apisOf, { body: { identifier: `https://b${i}.example.test/`, name: `b${i}` } }),
      ),
    );
    expect(burst.filter((r) => r.status === 201)).toHaveLength(5);
    expect(burst.filter((r) => r.status === 409).every((r) => r.body.error.code === 'too_many_apis')).toBe(true);
    expect(burst.map((r) => r.status).sort()).toEqual([...Array(5).fill(201), ...Array(7).fill(409)]);
    const list = await own.api('GET', apisOf);
    // The built-in admin API is listed too and does not count.
    expect((list.body.items as unknown[]).length).toBe(101);
  });

  it('answers 404 for another tenant’s APIs', async () => {
    const other = await tenantWithAdmin(ts);
    const theirs = await other.api('POST', `/api/v1/tenants/${other.slug}/apis`, {
      body: { identifier: 'https://theirs.example.com/', name: 'Theirs' },
    });
    expect(theirs.status).toBe(201);
    const b = `/api/v1/tenants/${other.slug}/apis`;
    for (const [method, p, body] of [
      ['GET', b, undefined],
      ['POST', b, { identifier: 'https://planted.example.com/', name: 'x' }],
      ['GET', `${b}/${theirs.body.id}`, undefined],
      ['PATCH', `${b}/${theirs.body.id}`, { name: 'pwned' }],
      ['DELETE', `${b}/${theirs.body.id}`, undefined],
      ['GET', `${path()}/${theirs.body.id}`, undefined],
      ['PATCH', `${path()}/${theirs.body.id}`, { name: 'pwned' }],
      ['DELETE', `${path()}/${theirs.body.id}`, undefined],
    ] as const) {
      expect((await api(method, p, { body })).status, `${method} ${p}`).toBe(404);
    }
    expect((await other.api('GET', `${b}/${theirs.body.id}`)).body).toMatchObject({ name: 'Theirs', version: 1 });
    // Nor is B's API a valid resource at A's token endpoint.
    const res = await clientCredentialsGrant(ts, slug, service, { resource: 'https://theirs.example.com/' });
    expect(res.body.error).toBe('invalid_target');
  });

  it('answers invalid_target for an unknown resource at the token endpoint', async () => {
    const res = await clientCredentialsGrant(ts, slug, service, { resource: 'https://unknown.example.com/api' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
    expect(res.body.access_token).toBeUndefined();
    // A deleted API is unknown too.
    const created = await api('POST', path(), { body: { identifier: 'https://gone.example.com/', name: 'Gone' } });
    const ok = await clientCredentialsGrant(ts, slug, service, { resource: 'https://gone.example.com/' });
    expect(ok.status).toBe(200);
    expect((await api('DELETE', `${path()}/${created.body.id}`)).status).toBe(204);
    const gone = await clientCredentialsGrant(ts, slug, service, { resource: 'https://gone.example.com/' });
    expect(gone.status).toBe(400);
    expect(gone.body.error).toBe('invalid_target');
  });

  it('issues access tokens that live as long as the API says (client credentials)', async () => {
    const identifier = 'https://ttl.example.com/api';
    const created = await api('POST', path(), {
      body: { identifier, name: 'TTL', accessTokenTtlSeconds: 600, scopes: [{ name: 'ttl:read' }] },
    });
    expect(created.status).toBe(201);
    // The scope is the application's to ask and its role's to grant (docs/authorization.md).
    const reader = await serviceClient(api, slug, {
      name: 'ttl reader',
      scopes: ['ttl:read'],
      roles: ['tenant:admin'],
    });
    const first = await clientCredentialsGrant(ts, slug, reader, { resource: identifier, scope: 'ttl:read' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.expires_in).toBe(600);
    const { header, payload } = decodeJwt(String(first.body.access_token));
    expect(header.typ).toBe('at+jwt');
    expect(payload.aud).toBe(identifier);
    expect(payload.scope).toBe('ttl:read');
    expect(Number(payload.exp) - Number(payload.iat)).toBe(600);

    const patched = await api('PATCH', `${path()}/${created.body.id}`, { body: { accessTokenTtlSeconds: 120 } });
    expect(patched.status).toBe(200);
    const second = await clientCredentialsGrant(ts, slug, service, { resource: identifier });
    const p2 = decodeJwt(String(second.body.access_token)).payload;
    expect(Number(p2.exp) - Number(p2.iat)).toBe(120);

    // A client-level override wins over the API's lifetime.
    const shortLived = await serviceClient(api, slug, { name: 'short', accessTokenTtlSeconds: 60 });
    const third = await clientCredentialsGrant(ts, slug, shortLived, { resource: identifier });
    const p3 = decodeJwt(String(third.body.access_token)).payload;
    expect(Number(p3.exp) - Number(p3.iat)).toBe(60);
  });

  it('issues user access tokens for an API with its lifetime (authorization code + resource)', async () => {
    const identifier = 'https://user-ttl.example.com/api';
    expect(
      (
        await api('POST', path(), {
          body: { identifier, name: 'User TTL', accessTokenTtlSeconds: 300, scopes: [{ name: 'things:read' }] },
        })
      ).status,
    ).toBe(201);
    const redirectUri = 'http://127.0.0.1:9/cb';
    const email = 'api-user@example.test';
    const password = 'resource indicators rock';
    const user = await api('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password } });
    expect(user.status).toBe(201);
    const role = { name: 'things-reader', apiPermissions: [{ api: identifier, scope: 'things:read' }] };
    expect((await api('POST', `/api/v1/tenants/${slug}/roles`, { body: role })).status).toBe(201);
    expect((await api('PUT', `/api/v1/tenants/${slug}/users/${user.body.id}/roles/things-reader`)).status).toBe(204);
    const web = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: {
        kind: 'web',
        name: 'web',
        redirectUris: [redirectUri],
        firstParty: true,
        scopes: ['openid', 'things:read'],
      },
    });
    const config = await discover(ts, slug, web.body);
    const a = await authorize(
      config,
      new Browser(),
      redirectUri,
      { email, password },
      { scope: 'openid things:read', resource: identifier },
    );
    const tokens = await redeem(config, a, { resource: identifier });
    const { header, payload } = decodeJwt(tokens.access_token);
    expect(header.typ).toBe('at+jwt');
    expect(payload.aud).toBe(identifier);
    expect(payload.scope).toBe('things:read');
    expect(Number(payload.exp) - Number(payload.iat)).toBe(300);
    expect(tokens.expires_in).toBe(300);
  });
});
