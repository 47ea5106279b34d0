/**
 * Tries to break access control on the admin API: missing, malformed, unknown, expired and
 * revoked credentials on every documented route; a tenant admin reaching into another
 * tenant; narrow custom roles reaching beyond their permissions; credentials stronger than
 * their creator; deleting the credential one acts with; and removing the last holder of
 * `system:admin`, one request at a time and two at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import {
  type DocumentedRoute,
  documentedRoutes,
  fillPath,
  type PathValues,
  routeKey,
  sampleFromSchema,
} from './helpers/openapi-routes.js';
import { listAll } from './helpers/pagination.js';
import {
  type ApiClient,
  type ApiResponse,
  apiClient,
  createTenant,
  randomApiKey,
  startTestServer,
  type TestServer,
  uniqueSlug,
} from './helpers/server.js';

// ---------------------------------------------------------------------------------------
// The routes, from the committed OpenAPI document: a new route is covered without edits here
// (or fails loudly, naming what this file needs to learn about it).

const allRouteKeys = documentedRoutes.map(routeKey).sort();
/** Routes about one tenant's resources: `/api/v1/tenants/{slug}` and below. */
const tenantRoutes = documentedRoutes.filter((r) => r.template.startsWith('/api/v1/tenants/{slug}'));

let bodyCounter = 0;
/**
 * A body for the route: hand-written (and known to pass validation, so that a refusal is
 * about authorization, not input) for the routes this file knows, else made from the
 * documented schema (`generated`: it may still fail a rule the schema cannot express).
 */
function sampleBody(route: DocumentedRoute): { body: unknown; generated: boolean } {
  if (!route.bodySchema) return { body: undefined, generated: false };
  bodyCounter += 1;
  const known: Record<string, unknown> = {
    'POST /api/v1/tenants': { slug: uniqueSlug('evil'), displayName: 'Evil' },
    'PATCH /api/v1/tenants/{slug}': { displayName: 'Taken over', settings: { selfRegistration: true } },
    'POST /api/v1/tenants/{slug}/users': {
      email: `intruder-${bodyCounter}@example.test`,
      password: 'correct horse battery staple 42',
    },
    'PATCH /api/v1/tenants/{slug}/users/{id}': { displayName: 'Taken over', status: 'disabled' },
    'POST /api/v1/tenants/{slug}/users/{id}/password': { password: 'correct horse battery staple 42' },
    'POST /api/v1/tenants/{slug}/roles': { name: `evil-${bodyCounter}`, permissions: ['users:read'] },
    'POST /api/v1/tenants/{slug}/api-keys': { name: 'evil', roles: ['tenant:admin'] },
  };
  // Other features' routes: likely valid today, but their rules are not this file's to pin.
  const hints: Record<string, unknown> = {
    'POST /api/v1/tenants/{slug}/clients': { kind: 'service', name: 'Evil' },
    'POST /api/v1/tenants/{slug}/apis': { identifier: 'https://api.example.com/evil', name: 'Evil' },
  };
  const key = routeKey(route);
  if (Object.hasOwn(known, key)) return { body: known[key], generated: false };
  if (Object.hasOwn(hints, key)) return { body: hints[key], generated: true };
  return { body: sampleFromSchema(route.bodySchema), generated: true };
}

/**
 * Expects `expected` (status and code); a generated body may instead fail validation (400),
 * which also comes before any data is touched.
 */
function expectRefusal(res: ApiResponse, expected: { status: number; code: string }, generated: boolean, what: string) {
  if (generated && res.status === 400) {
    expect(res.body.error.code, what).toBe('validation_failed');
    return;
  }
  expect(res.status, `${what}: ${res.text}`).toBe(expected.status);
  expect(res.body.error.code, what).toBe(expected.code);
}

const isMutating = (route: DocumentedRoute) => route.method !== 'GET';

// ---------------------------------------------------------------------------------------
// Small helpers on top of the shared harness.

interface Key {
  id: string;
  secret: string;
  api: ApiClient;
}

async function makeKey(
  ts: TestServer,
  creator: ApiClient,
  slug: string,
  roles: string[],
  extra: Record<string, unknown> = {},
): Promise<Key> {
  const res = await creator('POST', `/api/v1/tenants/${slug}/api-keys`, { body: { name: 'key', roles, ...extra } });
  if (res.status !== 201) throw new Error(`api key create failed: ${res.status} ${res.text}`);
  return { id: res.body.id, secret: res.body.secret, api: apiClient(ts.url, res.body.secret) };
}

async function makeRole(api: ApiClient, slug: string, name: string, permissions: string[]): Promise<void> {
  const res = await api('POST', `/api/v1/tenants/${slug}/roles`, { body: { name, permissions } });
  if (res.status !== 201) throw new Error(`role create failed: ${res.status} ${res.text}`);
}

async function makeUser(api: ApiClient, slug: string, email: string): Promise<string> {
  const res = await api('POST', `/api/v1/tenants/${slug}/users`, { body: { email } });
  if (res.status !== 201) throw new Error(`user create failed: ${res.status} ${res.text}`);
  return res.body.id;
}

async function grant(api: ApiClient, slug: string, userId: string, role: string): Promise<void> {
  const res = await api('PUT', `/api/v1/tenants/${slug}/users/${userId}/roles/${role}`);
  if (res.status !== 204) throw new Error(`grant failed: ${res.status} ${res.text}`);
}

/** Everything a tenant holds, read with the system key: equal before and after means untouched. */
async function snapshot(ts: TestServer, slug: string) {
  const tenant = await ts.api('GET', `/api/v1/tenants/${slug}`);
  expect(tenant.status).toBe(200);
  return {
    tenant: tenant.body,
    users: await listAll(ts.api, `/api/v1/tenants/${slug}/users`),
    roles: await listAll(ts.api, `/api/v1/tenants/${slug}/roles`),
    // Without lastUsedAt: using a key of this tenant (as some tests do) is no change to it.
    apiKeys: ((await listAll(ts.api, `/api/v1/tenants/${slug}/api-keys`)) as Record<string, unknown>[]).map(
      ({ lastUsedAt: _used, ...key }) => key,
    ),
    auditEvents: await listAll(ts.api, `/api/v1/tenants/${slug}/audit-events`),
  };
}

interface AuditEvent {
  action: string;
  outcome: string;
  actor: { type: string; id: string | null };
  details: Record<string, unknown> | null;
}

async function auditEvents(ts: TestServer, slug: string, query = ''): Promise<AuditEvent[]> {
  return (await listAll(ts.api, `/api/v1/tenants/${slug}/audit-events${query}`)) as AuditEvent[];
}

function expectUnauthorized(res: ApiResponse, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(401);
  expect(res.body.error.code, what).toBe('unauthorized');
  expect(res.headers.get('www-authenticate'), what).toMatch(/^Bearer realm="latchkey"/);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------

describe.each(dialects)('authentication on every /api/v1 route (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let values: PathValues;
  let expiring: Key & { expiresAt: number };
  const exercised = new Set<string>();

  /** Sends `route` with `headers`/`token` and expects 401 whatever the route. */
  async function expectEveryRouteRefuses(options: { token?: string | null; headers?: Record<string, string> }) {
    for (const route of documentedRoutes) {
      exercised.add(routeKey(route));
      const path = fillPath(route, values);
      const res = await ts.api(route.method, path, {
        token: options.token ?? null,
        ...options,
        body: sampleBody(route).body,
      });
      expectUnauthorized(res, `${route.method} ${path}`);
    }
  }

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    slug = await createTenant(ts.api);
    // Ahead of everything else, so that the wait for it to expire is mostly spent already.
    const expiresAt = Date.now() + 1_200;
    expiring = {
      ...(await makeKey(ts, ts.api, slug, ['tenant:admin'], { expiresAt: new Date(expiresAt).toISOString() })),
      expiresAt,
    };
    await makeRole(ts.api, slug, 'reader', ['users:read']);
    values = {
      slug,
      ids: {
        users: await makeUser(ts.api, slug, 'someone@example.test'),
        'api-keys': (await makeKey(ts, ts.api, slug, ['reader'])).id,
        roles: 'reader',
      },
    };
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('reads a sane route list from openapi.json', () => {
    expect(documentedRoutes.length).toBeGreaterThanOrEqual(20);
    expect(allRouteKeys).toContain('GET /api/v1/tenants/{slug}/users/{id}');
    expect(allRouteKeys).toContain('DELETE /api/v1/tenants/{slug}/api-keys/{id}');
  });

  it('serves the OpenAPI document without a credential, and with a bad one', async () => {
    const res = await ts.api('GET', '/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toContain('/api/v1/tenants/{slug}/users/{id}');
    const withJunk = await ts.api('GET', '/api/v1/openapi.json', { token: randomApiKey() });
    expect(withJunk.status).toBe(200);
  });

  it('refuses every route without a credential', async () => {
    await expectEveryRouteRefuses({ token: null });
  });

  it.each([
    ['another scheme', 'Basic YWRtaW46YWRtaW4='],
    ['a scheme without a token', 'Bearer'],
    ['a scheme and a blank', 'Bearer   '],
    ['two tokens', 'Bearer lk_a lk_b'],
    ['no space after the scheme', 'Bearerlk_abcdefghijklmnopqrstuvwxyz'],
    ['a token without a scheme', 'lk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'],
    ['a token that is not an API key nor a JWT', 'Bearer not-a-credential'],
    ['an oversized lk_ token', `Bearer lk_${'A'.repeat(500)}`],
  ])('refuses every route with a malformed Authorization header: %s', async (_what, header) => {
    await expectEveryRouteRefuses({ headers: { authorization: header } });
  });

  it('refuses every route with an unknown lk_ key, even one differing from a real key by one character', async () => {
    await expectEveryRouteRefuses({ token: randomApiKey() });
    const real = expiring.secret;
    const last = real.at(-1) === 'A' ? 'B' : 'A';
    await expectEveryRouteRefuses({ token: `${real.slice(0, -1)}${last}` });
    await expectEveryRouteRefuses({ token: real.toUpperCase() === real ? real.toLowerCase() : real.toUpperCase() });
  });

  it('refuses every route with a revoked (deleted) key, at once, even though it was just used', async () => {
    const key = await makeKey(ts, ts.api, slug, ['tenant:admin']);
    expect((await key.api('GET', `/api/v1/tenants/${slug}/users`)).status).toBe(200);
    const del = await ts.api('DELETE', `/api/v1/tenants/${slug}/api-keys/${key.id}`);
    expect(del.status).toBe(204);
    await expectEveryRouteRefuses({ token: key.secret });
  });

  it('refuses every route with a key of a deleted tenant', async () => {
    const gone = await createTenant(ts.api);
    const key = await makeKey(ts, ts.api, gone, ['tenant:admin']);
    expect((await key.api('GET', `/api/v1/tenants/${gone}`)).status).toBe(200);
    expect((await ts.api('DELETE', `/api/v1/tenants/${gone}`)).status).toBe(204);
    await expectEveryRouteRefuses({ token: key.secret });
  });

  it('refuses every route with an expired key', async () => {
    // It worked while valid (checked before the wait, if there is still time)...
    if (Date.now() < expiring.expiresAt - 300) {
      expect((await expiring.api('GET', `/api/v1/tenants/${slug}`)).status).toBe(200);
    }
    await sleep(Math.max(0, expiring.expiresAt - Date.now() + 100));
    // ...and is refused everywhere once expired.
    await expectEveryRouteRefuses({ token: expiring.secret });
    // Still listed (expired, not deleted), so the 401 is about expiry.
    const listed = await ts.api('GET', `/api/v1/tenants/${slug}/api-keys/${expiring.id}`);
    expect(listed.status).toBe(200);
    expect(Date.parse(listed.body.expiresAt)).toBeLessThan(Date.now());
  });

  it('exercised every route in the OpenAPI document', () => {
    expect([...exercised].sort()).toEqual(allRouteKeys);
  });
});

describe.each(dialects)('tenant isolation for a tenant admin (%s)', (dialect) => {
  let ts: TestServer;
  let a: { slug: string; admin: Key; userId: string };
  let b: { slug: string; admin: Key; userId: string; key: Key };
  let bBefore: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const aSlug = await createTenant(ts.api);
    const bSlug = await createTenant(ts.api);
    a = {
      slug: aSlug,
      admin: await makeKey(ts, ts.api, aSlug, ['tenant:admin']),
      userId: await makeUser(ts.api, aSlug, 'alice@example.test'),
    };
    await makeRole(ts.api, bSlug, 'b-helpers', ['users:read', 'users:write']);
    const bUser = await makeUser(ts.api, bSlug, 'bob@example.test');
    await grant(ts.api, bSlug, bUser, 'b-helpers');
    b = {
      slug: bSlug,
      admin: await makeKey(ts, ts.api, bSlug, ['tenant:admin']),
      userId: bUser,
      key: await makeKey(ts, ts.api, bSlug, ['b-helpers']),
    };
    bBefore = await snapshot(ts, b.slug);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('gets 404 tenant_not_found on every route of another tenant, exactly as for a tenant that does not exist', async () => {
    const targets: PathValues[] = [
      { slug: b.slug, ids: { users: b.userId, 'api-keys': b.key.id, roles: 'b-helpers' } },
      { slug: b.slug, ids: { users: b.userId, 'api-keys': b.admin.id, roles: 'tenant:admin' } },
    ];
    for (const values of targets) {
      for (const route of tenantRoutes) {
        const path = fillPath(route, values);
        const { body, generated } = sampleBody(route);
        const res = await a.admin.api(route.method, path, { body });
        expectRefusal(res, { status: 404, code: 'tenant_not_found' }, generated, `${route.method} ${path}`);
        // The answer for a tenant that does not exist is the same, but for the slug.
        const ghost = fillPath(route, { ...values, slug: `${b.slug}-x` });
        const other = await a.admin.api(route.method, ghost, { body });
        expect(other.status).toBe(res.status);
        expect(other.text.replaceAll(`${b.slug}-x`, b.slug)).toBe(res.text);
      }
    }
  });

  it('gets 404 on its own tenant for ids that belong to the other tenant', async () => {
    const values = { slug: a.slug, ids: { users: b.userId, 'api-keys': b.key.id, roles: 'b-helpers' } };
    const routes = tenantRoutes.filter((r) => /\/(users|api-keys|roles)\/\{/.test(r.template));
    expect(routes.length).toBeGreaterThanOrEqual(9);
    for (const route of routes) {
      const path = fillPath(route, values);
      const { body, generated } = sampleBody(route);
      const res = await a.admin.api(route.method, path, { body });
      const what = `${route.method} ${path}: ${res.text}`;
      if (generated && res.status === 400) continue;
      expect(res.status, what).toBe(404);
      expect(['user_not_found', 'api_key_not_found', 'role_not_found'], what).toContain(res.body.error.code);
    }
    // Filtering its own users by the other tenant's role name finds no such role here.
    const filtered = await a.admin.api('GET', `/api/v1/tenants/${a.slug}/users?role=b-helpers`);
    expect(filtered.status).toBe(400);
    expect(filtered.body.error.code).toBe('unknown_role');
  });

  it('cannot reach the other tenant through path tricks', async () => {
    const tricks = [
      `/api/v1/tenants/${a.slug}%2F..%2F${b.slug}/users`,
      `/api/v1/tenants/${a.slug}/..%2F${b.slug}/users`,
      `/api/v1/tenants/${b.slug.toUpperCase()}/users`,
      `/api/v1/tenants/${b.slug}%20/users`,
      `/api/v1/tenants/${b.slug}/users/`,
      `/api/v1/tenants//${b.slug}/users`,
      `/api/v1/tenants/${b.slug}/users?slug=${a.slug}`,
      `/api/v1/tenants/${a.slug}/users/${b.userId}%2F`,
      `/api/v1/tenants/${a.slug}/users?role=b-helpers&slug=${b.slug}`,
    ];
    for (const path of tricks) {
      const res = await a.admin.api('GET', path);
      expect([400, 404], `${path}: ${res.text}`).toContain(res.status);
      expect(res.text).not.toContain('bob@example.test');
    }
  });

  it('sees only its own tenant in the tenant list', async () => {
    const all = await a.admin.api('GET', '/api/v1/tenants?limit=200');
    expect(all.status).toBe(200);
    expect(all.body.items.map((t: { slug: string }) => t.slug)).toEqual([a.slug]);
    const search = await a.admin.api('GET', `/api/v1/tenants?q=${b.slug}`);
    expect(search.status).toBe(200);
    expect(search.body.items).toEqual([]);
    const system = await a.admin.api('GET', '/api/v1/tenants?q=system');
    expect(system.body.items).toEqual([]);
  });

  it('cannot create tenants, nor delete its own or another', async () => {
    const create = await a.admin.api('POST', '/api/v1/tenants', { body: { slug: uniqueSlug(), displayName: 'X' } });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    const own = await a.admin.api('DELETE', `/api/v1/tenants/${a.slug}`);
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('forbidden');
    const other = await a.admin.api('DELETE', `/api/v1/tenants/${b.slug}`);
    expect(other.status).toBe(404);
    const system = await a.admin.api('DELETE', '/api/v1/tenants/system');
    expect(system.status).toBe(404);
    expect((await ts.api('GET', `/api/v1/tenants/${a.slug}`)).status).toBe(200);
  });

  it('cannot reach the system tenant nor hand out system:admin', async () => {
    const sys = await a.admin.api('GET', '/api/v1/tenants/system/users');
    expect(sys.status).toBe(404);
    // system:admin does not exist outside the system tenant.
    const grantIt = await a.admin.api('PUT', `/api/v1/tenants/${a.slug}/users/${a.userId}/roles/system:admin`);
    expect(grantIt.status).toBe(404);
    expect(grantIt.body.error.code).toBe('role_not_found');
    const keyIt = await a.admin.api('POST', `/api/v1/tenants/${a.slug}/api-keys`, {
      body: { name: 'up', roles: ['system:admin'] },
    });
    expect(keyIt.status).toBe(400);
    expect(keyIt.body.error.code).toBe('unknown_role');
    // Nor can it make a role by that name to pretend.
    const fake = await a.admin.api('POST', `/api/v1/tenants/${a.slug}/roles`, {
      body: { name: 'system:admin', permissions: [] },
    });
    expect(fake.status).toBe(400);
  });

  it('in the system tenant, a tenant:admin (not system:admin) cannot grant system:admin to anyone', async () => {
    const sysAdmin = await makeKey(ts, ts.api, 'system', ['tenant:admin']);
    const userId = await makeUser(ts.api, 'system', `op-${Date.now()}@example.test`);
    await grant(ts.api, 'system', userId, 'tenant:admin');
    const grantIt = await sysAdmin.api('PUT', `/api/v1/tenants/system/users/${userId}/roles/system:admin`);
    expect(grantIt.status).toBe(403);
    expect(grantIt.body.error.code).toBe('forbidden');
    const keyIt = await sysAdmin.api('POST', '/api/v1/tenants/system/api-keys', {
      body: { name: 'up', roles: ['system:admin'] },
    });
    expect(keyIt.status).toBe(403);
    expect(keyIt.body.error.code).toBe('forbidden');
    const mixed = await sysAdmin.api('POST', '/api/v1/tenants/system/api-keys', {
      body: { name: 'up', roles: ['tenant:admin', 'system:admin'] },
    });
    expect(mixed.status).toBe(403);
    // It holds tenant:admin there, so it may hand that out.
    const ok = await sysAdmin.api('POST', '/api/v1/tenants/system/api-keys', {
      body: { name: 'peer', roles: ['tenant:admin'] },
    });
    expect(ok.status).toBe(201);
    // It is still no system admin: other tenants stay invisible and closed.
    expect((await sysAdmin.api('GET', `/api/v1/tenants/${a.slug}`)).status).toBe(404);
    const list = await sysAdmin.api('GET', '/api/v1/tenants');
    expect(list.body.items.map((t: { slug: string }) => t.slug)).toEqual(['system']);
    expect(
      (await sysAdmin.api('POST', '/api/v1/tenants', { body: { slug: uniqueSlug(), displayName: 'X' } })).status,
    ).toBe(403);
    const user = await ts.api('GET', `/api/v1/tenants/system/users/${userId}`);
    expect(user.body.roles).toEqual(['tenant:admin']);
    const keys = (await listAll(ts.api, '/api/v1/tenants/system/api-keys')) as { roles: string[]; createdBy: string }[];
    expect(keys.filter((k) => k.createdBy === sysAdmin.id).map((k) => k.roles)).toEqual([['tenant:admin']]);
  });

  it('cannot create an API key or grant a role carrying more than it holds', async () => {
    await makeRole(a.admin.api, a.slug, 'key-maker', ['api_keys:read', 'api_keys:write']);
    await makeRole(a.admin.api, a.slug, 'user-admin', ['users:read', 'users:write']);
    await makeRole(a.admin.api, a.slug, 'user-reader', ['users:read']);
    const keyMaker = await makeKey(ts, a.admin.api, a.slug, ['key-maker']);
    for (const roles of [['tenant:admin'], ['user-admin'], ['key-maker', 'user-reader']]) {
      const res = await keyMaker.api('POST', `/api/v1/tenants/${a.slug}/api-keys`, { body: { name: 'up', roles } });
      expect(res.status, roles.join()).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const same = await keyMaker.api('POST', `/api/v1/tenants/${a.slug}/api-keys`, {
      body: { name: 'peer', roles: ['key-maker'] },
    });
    expect(same.status).toBe(201);

    const userAdmin = await makeKey(ts, a.admin.api, a.slug, ['user-admin']);
    for (const role of ['tenant:admin', 'key-maker']) {
      const res = await userAdmin.api('PUT', `/api/v1/tenants/${a.slug}/users/${a.userId}/roles/${role}`);
      expect(res.status, role).toBe(403);
    }
    expect((await userAdmin.api('PUT', `/api/v1/tenants/${a.slug}/users/${a.userId}/roles/user-reader`)).status).toBe(
      204,
    );
    // Nor take away a role stronger than itself.
    await grant(a.admin.api, a.slug, a.userId, 'tenant:admin');
    const revoke = await userAdmin.api('DELETE', `/api/v1/tenants/${a.slug}/users/${a.userId}/roles/tenant:admin`);
    expect(revoke.status).toBe(403);
    const user = await a.admin.api('GET', `/api/v1/tenants/${a.slug}/users/${a.userId}`);
    expect(user.body.roles).toEqual(['tenant:admin', 'user-reader']);
  });

  it('cannot delete the API key it acts with', async () => {
    const res = await a.admin.api('DELETE', `/api/v1/tenants/${a.slug}/api-keys/${a.admin.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('cannot_delete_self');
    expect((await a.admin.api('GET', `/api/v1/tenants/${a.slug}`)).status).toBe(200);
    const sysKeys = (await listAll(ts.api, '/api/v1/tenants/system/api-keys')) as { id: string; name: string }[];
    const bootstrap = sysKeys.find((k) => k.name === 'bootstrap');
    expect(bootstrap).toBeDefined();
    const self = await ts.api('DELETE', `/api/v1/tenants/system/api-keys/${bootstrap?.id}`);
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe('cannot_delete_self');
  });

  it('left the other tenant exactly as it was', async () => {
    expect(await snapshot(ts, b.slug)).toEqual(bBefore);
    // B's own admin still works there.
    expect((await b.admin.api('GET', `/api/v1/tenants/${b.slug}/users/${b.userId}`)).status).toBe(200);
  });

  it('recorded the refused changes as failures in the actor’s own tenant', async () => {
    const events = await auditEvents(ts, a.slug, `?outcome=failure&actor=${a.admin.id}`);
    const byAction = new Set(events.map((e) => e.action));
    for (const action of [
      'tenant.update',
      'tenant.delete',
      'tenant.create',
      'user.create',
      'user.update',
      'user.delete',
      'user.password.set',
      'user.role.grant',
      'user.role.revoke',
      'role.create',
      'role.delete',
      'api_key.create',
      'api_key.delete',
    ]) {
      expect(byAction, action).toContain(action);
    }
    for (const e of events) {
      expect(e.outcome).toBe('failure');
      expect(e.actor).toMatchObject({ type: 'api_key', id: a.admin.id });
      expect([400, 403, 404, 409]).toContain(e.details?.status);
    }
    const crossTenant = events.filter((e) => new RegExp(`/tenants/${b.slug}(/|$)`).test(String(e.details?.url)));
    expect(crossTenant.length).toBeGreaterThanOrEqual(tenantRoutes.filter(isMutating).length);
    expect(crossTenant.every((e) => e.details?.status === 404 || e.details?.status === 400)).toBe(true);
    expect(crossTenant.filter((e) => e.details?.status === 404).length).toBeGreaterThanOrEqual(14);
    // The other tenant's log holds nothing by this actor.
    const inB = await auditEvents(ts, b.slug, `?actor=${a.admin.id}`);
    expect(inB).toEqual([]);
  });
});

describe.each(dialects)('a custom role with only users:read (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let reader: Key;
  let values: PathValues;
  let before: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    slug = await createTenant(ts.api);
    await makeRole(ts.api, slug, 'user-reader', ['users:read']);
    reader = await makeKey(ts, ts.api, slug, ['user-reader']);
    const userId = await makeUser(ts.api, slug, 'carol@example.test');
    await makeUser(ts.api, slug, 'dave@example.test');
    const apiKeyId = (await makeKey(ts, ts.api, slug, ['user-reader'])).id;
    values = { slug, ids: { users: userId, 'api-keys': apiKeyId, roles: 'user-reader' } };
    before = await snapshot(ts, slug);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('lists and reads the users of its tenant', async () => {
    const list = await reader.api('GET', `/api/v1/tenants/${slug}/users`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((u: { email: string }) => u.email)).toEqual(['carol@example.test', 'dave@example.test']);
    const one = await reader.api('GET', `/api/v1/tenants/${slug}/users/${values.ids.users}`);
    // And whatever else reads users (users:read is all these need).
    for (const route of tenantRoutes.filter((r) => r.method === 'GET' && r.template.includes('/users/{id}/'))) {
      const res = await reader.api('GET', fillPath(route, values));
      expect(res.status, routeKey(route)).toBe(200);
    }
    expect(one.status).toBe(200);
    expect(one.body.email).toBe('carol@example.test');
  });

  it('gets 403 forbidden on every other route of its tenant, naming the permission', async () => {
    const allowed = (r: DocumentedRoute) => r.method === 'GET' && r.template.startsWith('/api/v1/tenants/{slug}/users');
    const refused = tenantRoutes.filter((r) => !allowed(r));
    expect(refused.length).toBeGreaterThanOrEqual(17);
    for (const route of refused) {
      const path = fillPath(route, values);
      const { body, generated } = sampleBody(route);
      const res = await reader.api(route.method, path, { body });
      expectRefusal(res, { status: 403, code: 'forbidden' }, generated, `${route.method} ${path}`);
    }
    const patch = await reader.api('PATCH', `/api/v1/tenants/${slug}/users/${values.ids.users}`, {
      body: { displayName: 'x' },
    });
    expect(patch.body.error.details).toEqual({ permission: 'users:write' });
    const audit = await reader.api('GET', `/api/v1/tenants/${slug}/audit-events`);
    expect(audit.body.error.details).toEqual({ permission: 'audit:read' });
  });

  it('cannot create tenants and sees none in the tenant list (it lacks tenant:read)', async () => {
    const create = await reader.api('POST', '/api/v1/tenants', { body: { slug: uniqueSlug(), displayName: 'X' } });
    expect(create.status).toBe(403);
    const list = await reader.api('GET', '/api/v1/tenants');
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
  });

  it('changed nothing, and its refused writes are in the audit log as failures', async () => {
    expect(await snapshot(ts, slug)).toEqual({
      ...before,
      auditEvents: expect.any(Array),
    });
    const events = await auditEvents(ts, slug, `?actor=${reader.id}`);
    expect(events.length).toBeGreaterThanOrEqual(tenantRoutes.filter(isMutating).length);
    expect(events.every((e) => e.outcome === 'failure' && [400, 403].includes(Number(e.details?.status)))).toBe(true);
    expect(events.filter((e) => e.details?.status === 403).length).toBeGreaterThanOrEqual(12);
    expect(new Set(events.map((e) => e.action))).toContain('user.create');
    expect(new Set(events.map((e) => e.action))).toContain('api_key.delete');
  });
});

describe.each(dialects)('no escalation through another user’s credentials (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let userAdmin: Key;
  let adminUser: string;
  let plainUser: string;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    slug = await createTenant(ts.api);
    await makeRole(ts.api, slug, 'user-admin', ['users:read', 'users:write']);
    userAdmin = await makeKey(ts, ts.api, slug, ['user-admin']);
    adminUser = await makeUser(ts.api, slug, 'boss@example.test');
    await grant(ts.api, slug, adminUser, 'tenant:admin');
    plainUser = await makeUser(ts.api, slug, 'plain@example.test');
    await grant(ts.api, slug, plainUser, 'user-admin');
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('a users:write key cannot set the password or the email of a user holding more than it does', async () => {
    const password = await userAdmin.api('POST', `/api/v1/tenants/${slug}/users/${adminUser}/password`, {
      body: { password: 'correct horse battery staple 42' },
    });
    expect(password.status).toBe(403);
    expect(password.body.error.code).toBe('forbidden');
    expect(password.body.error.details).toMatchObject({ roles: ['tenant:admin'] });
    const email = await userAdmin.api('PATCH', `/api/v1/tenants/${slug}/users/${adminUser}`, {
      body: { email: 'attacker@example.test' },
    });
    expect(email.status).toBe(403);
    const user = await ts.api('GET', `/api/v1/tenants/${slug}/users/${adminUser}`);
    expect(user.body).toMatchObject({ email: 'boss@example.test', hasPassword: false, version: 1 });
    // Harmless changes, and users holding no more than the key, are fine.
    const name = await userAdmin.api('PATCH', `/api/v1/tenants/${slug}/users/${adminUser}`, {
      body: { displayName: 'The Boss' },
    });
    expect(name.status).toBe(200);
    for (const target of [plainUser, await makeUser(userAdmin.api, slug, 'fresh@example.test')]) {
      const ok = await userAdmin.api('POST', `/api/v1/tenants/${slug}/users/${target}/password`, {
        body: { password: 'correct horse battery staple 42' },
      });
      expect(ok.status).toBe(204);
      expect(
        (
          await userAdmin.api('PATCH', `/api/v1/tenants/${slug}/users/${target}`, {
            body: { email: `n-${target}@x.test` },
          })
        ).status,
      ).toBe(200);
    }
    // The tenant's admin may do it.
    const admin = await makeKey(ts, ts.api, slug, ['tenant:admin']);
    expect(
      (
        await admin.api('POST', `/api/v1/tenants/${slug}/users/${adminUser}/password`, {
          body: { password: 'correct horse battery staple 42' },
        })
      ).status,
    ).toBe(204);
  });

  it('a users:write key cannot delete, disable or re-enable a user holding more than it does', async () => {
    const path = `/api/v1/tenants/${slug}/users/${adminUser}`;
    const disable = await userAdmin.api('PATCH', path, { body: { status: 'disabled' } });
    expect(disable.status).toBe(403);
    expect(disable.body.error).toMatchObject({ code: 'forbidden', details: { roles: ['tenant:admin'] } });
    const remove = await userAdmin.api('DELETE', path);
    expect(remove.status).toBe(403);
    expect(remove.body.error.details).toMatchObject({ roles: ['tenant:admin'] });
    const after = await ts.api('GET', path);
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('active');
    // A disabled admin is not re-enabled by the weaker key either.
    expect((await ts.api('PATCH', path, { body: { status: 'disabled' } })).status).toBe(200);
    const enable = await userAdmin.api('PATCH', path, { body: { status: 'active' } });
    expect(enable.status).toBe(403);
    expect((await ts.api('GET', path)).body.status).toBe('disabled');
    // Sending the status back unchanged, as a form does, is no act against the user.
    const same = await userAdmin.api('PATCH', path, { body: { status: 'disabled', displayName: 'Boss' } });
    expect(same.status).toBe(200);
    expect((await ts.api('PATCH', path, { body: { status: 'active' } })).status).toBe(200);
    // Users holding no more than the key may be disabled and deleted by it.
    const target = await makeUser(userAdmin.api, slug, 'weak@example.test');
    expect(
      (await userAdmin.api('PATCH', `/api/v1/tenants/${slug}/users/${target}`, { body: { status: 'disabled' } }))
        .status,
    ).toBe(200);
    expect((await userAdmin.api('DELETE', `/api/v1/tenants/${slug}/users/${target}`)).status).toBe(204);
    // A user that is gone is a 404, not a 403.
    const unknown = await userAdmin.api('DELETE', `/api/v1/tenants/${slug}/users/${target}`);
    expect(unknown.status).toBe(404);
  });

  it('a tenant:admin of the system tenant cannot take over a system:admin user', async () => {
    const sysTenantAdmin = await makeKey(ts, ts.api, 'system', ['tenant:admin']);
    const { userId } = await bootstrapIds(ts);
    const password = await sysTenantAdmin.api('POST', `/api/v1/tenants/system/users/${userId}/password`, {
      body: { password: 'correct horse battery staple 42' },
    });
    expect(password.status).toBe(403);
    expect(password.body.error.details).toMatchObject({ roles: ['system:admin'] });
    const email = await sysTenantAdmin.api('PATCH', `/api/v1/tenants/system/users/${userId}`, {
      body: { email: 'attacker@example.test' },
    });
    expect(email.status).toBe(403);
    const user = await ts.api('GET', `/api/v1/tenants/system/users/${userId}`);
    expect(user.body.email).toBe(ts.adminEmail);
    // The system admin may.
    expect(
      (
        await ts.api('POST', `/api/v1/tenants/system/users/${userId}/password`, {
          body: { password: 'correct horse battery staple 42' },
        })
      ).status,
    ).toBe(204);
  });
});

/** Ids of the system tenant's holders of system:admin, read with `api`. */
async function systemAdminHolders(api: ApiClient) {
  const users = (await listAll(api, '/api/v1/tenants/system/users?role=system:admin&status=active')) as {
    id: string;
  }[];
  const keys = (await listAll(api, '/api/v1/tenants/system/api-keys')) as {
    id: string;
    roles: string[];
    expiresAt: string | null;
  }[];
  return {
    users: users.map((u) => u.id).sort(),
    keys: keys
      .filter((k) => k.roles.includes('system:admin') && (k.expiresAt === null || Date.parse(k.expiresAt) > Date.now()))
      .map((k) => k.id)
      .sort(),
  };
}

async function bootstrapIds(ts: TestServer) {
  const users = (await listAll(ts.api, '/api/v1/tenants/system/users')) as { id: string; email: string }[];
  const keys = (await listAll(ts.api, '/api/v1/tenants/system/api-keys')) as { id: string; name: string }[];
  const userId = users.find((u) => u.email === ts.adminEmail)?.id;
  const keyId = keys.find((k) => k.name === 'bootstrap')?.id;
  if (!userId || !keyId) throw new Error('bootstrap user or key not found');
  return { userId, keyId };
}

/** A system-tenant key that manages users and API keys but holds no system:admin. */
async function operatorKey(ts: TestServer): Promise<Key> {
  await makeRole(ts.api, 'system', 'operator', [
    'users:read',
    'users:write',
    'api_keys:read',
    'api_keys:write',
    'audit:read',
  ]);
  return makeKey(ts, ts.api, 'system', ['operator']);
}

describe.each(dialects)('the last system:admin (%s)', (dialect) => {
  let ts: TestServer;
  let operator: Key;
  let bootstrap: { userId: string; keyId: string };

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    operator = await operatorKey(ts);
    bootstrap = await bootstrapIds(ts);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('starts with the bootstrap user and key as the only holders', async () => {
    expect(await systemAdminHolders(ts.api)).toEqual({ users: [bootstrap.userId], keys: [bootstrap.keyId] });
  });

  it('does not let a non-system-admin take system:admin away from anyone', async () => {
    const res = await operator.api('DELETE', `/api/v1/tenants/system/users/${bootstrap.userId}/roles/system:admin`);
    expect(res.status).toBe(403);
  });

  it('lets the key delete the admin user while the key still holds system:admin', async () => {
    const res = await ts.api('DELETE', `/api/v1/tenants/system/users/${bootstrap.userId}`);
    expect(res.status).toBe(204);
    expect(await systemAdminHolders(ts.api)).toEqual({ users: [], keys: [bootstrap.keyId] });
  });

  it('refuses to delete the last holder, a key, from another credential', async () => {
    const res = await operator.api('DELETE', `/api/v1/tenants/system/api-keys/${bootstrap.keyId}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('last_system_admin');
    expect((await ts.api('GET', '/api/v1/tenants')).status).toBe(200);
  });

  it('ignores an expired system:admin key when counting holders', async () => {
    const expiresAt = Date.now() + 1_000;
    const shortLived = await makeKey(ts, ts.api, 'system', ['system:admin'], {
      expiresAt: new Date(expiresAt).toISOString(),
    });
    await sleep(Math.max(0, expiresAt - Date.now() + 100));
    expect((await shortLived.api('GET', '/api/v1/tenants')).status).toBe(401);
    const res = await operator.api('DELETE', `/api/v1/tenants/system/api-keys/${bootstrap.keyId}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('last_system_admin');
  });

  it('allows removing the key once a user holds the role, then refuses to disable, delete or demote that user', async () => {
    const userId = await makeUser(ts.api, 'system', 'heir@example.test');
    await grant(ts.api, 'system', userId, 'system:admin');
    const del = await operator.api('DELETE', `/api/v1/tenants/system/api-keys/${bootstrap.keyId}`);
    expect(del.status).toBe(204);
    expectUnauthorized(await ts.api('GET', '/api/v1/tenants'), 'deleted bootstrap key');
    expect(await systemAdminHolders(operator.api)).toEqual({ users: [userId], keys: [] });

    // The operator holds less than that user: it may neither disable nor delete them.
    const disable = await operator.api('PATCH', `/api/v1/tenants/system/users/${userId}`, {
      body: { status: 'disabled' },
    });
    expect(disable.status).toBe(403);
    expect(disable.body.error.details).toMatchObject({ roles: ['system:admin'] });
    const remove = await operator.api('DELETE', `/api/v1/tenants/system/users/${userId}`);
    expect(remove.status).toBe(403);
    const demote = await operator.api('DELETE', `/api/v1/tenants/system/users/${userId}/roles/system:admin`);
    expect(demote.status).toBe(403);
    const user = await operator.api('GET', `/api/v1/tenants/system/users/${userId}`);
    expect(user.body.status).toBe('active');
    expect(user.body.roles).toEqual(['system:admin']);

    // Users who do not hold the role can still be disabled and deleted.
    const other = await makeUser(operator.api, 'system', 'nobody@example.test');
    expect(
      (await operator.api('PATCH', `/api/v1/tenants/system/users/${other}`, { body: { status: 'disabled' } })).status,
    ).toBe(200);
    expect((await operator.api('DELETE', `/api/v1/tenants/system/users/${other}`)).status).toBe(204);
  });

  it('recorded the refusals as failures in the system tenant', async () => {
    const events = (await listAll(
      operator.api,
      `/api/v1/tenants/system/audit-events?outcome=failure&actor=${operator.id}`,
    )) as AuditEvent[];
    const conflicts = events.filter((e) => e.details?.status === 409).map((e) => e.action);
    expect(conflicts.sort()).toEqual(['api_key.delete', 'api_key.delete']);
    const forbidden = events.filter((e) => e.details?.status === 403).map((e) => e.action);
    expect(new Set(forbidden)).toEqual(new Set(['user.role.revoke', 'user.update', 'user.delete']));
  });
});

/** Sends both at once; returns their statuses in the order given. */
async function race(first: () => Promise<ApiResponse>, second: () => Promise<ApiResponse>) {
  const [x, y] = await Promise.all([first(), second()]);
  return [x, y] as const;
}

function expectOneWon(results: readonly ApiResponse[], what: string): number {
  const statuses = results.map((r) => r.status);
  expect([...statuses].sort(), `${what}: ${results.map((r) => r.text).join(' | ')}`).toEqual([204, 409].sort());
  const loser = results.find((r) => r.status === 409);
  expect(loser?.body.error.code).toBe('last_system_admin');
  return statuses.indexOf(204);
}

describe.each(dialects)('racing to remove the last two system:admin holders (%s)', (dialect) => {
  let ts: TestServer;
  let operator: Key;
  let bootstrapKey: Key;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    operator = await operatorKey(ts);
    const { userId, keyId } = await bootstrapIds(ts);
    bootstrapKey = { id: keyId, secret: ts.adminKey, api: ts.api };
    // Only keys hold system:admin from here on, so that the survivor of each round can go on.
    expect((await ts.api('DELETE', `/api/v1/tenants/system/users/${userId}`)).status).toBe(204);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('deletes at most one of two keys deleted at once, round after round', async () => {
    let anchor = bootstrapKey;
    for (let round = 0; round < 6; round++) {
      const other = await makeKey(ts, anchor.api, 'system', ['system:admin']);
      expect(await systemAdminHolders(operator.api)).toEqual({ users: [], keys: [anchor.id, other.id].sort() });
      const pair = [anchor, other] as const;
      const results = await race(
        () => operator.api('DELETE', `/api/v1/tenants/system/api-keys/${pair[0].id}`),
        () => operator.api('DELETE', `/api/v1/tenants/system/api-keys/${pair[1].id}`),
      );
      const won = expectOneWon(results, `round ${round}`);
      const survivor = pair[1 - won];
      const gone = pair[won];
      if (!survivor || !gone) throw new Error('unreachable');
      expect(await systemAdminHolders(operator.api)).toEqual({ users: [], keys: [survivor.id] });
      expect((await survivor.api('GET', '/api/v1/tenants')).status).toBe(200);
      expectUnauthorized(await gone.api('GET', '/api/v1/tenants'), 'deleted key');
      anchor = survivor;
    }

    // Last round: the anchor takes the role from the only user holding it while the operator
    // deletes the anchor. One of the two must fail, whichever runs second.
    const heir = await makeUser(anchor.api, 'system', 'heir@example.test');
    await grant(anchor.api, 'system', heir, 'system:admin');
    const results = await race(
      () => anchor.api('DELETE', `/api/v1/tenants/system/users/${heir}/roles/system:admin`),
      () => operator.api('DELETE', `/api/v1/tenants/system/api-keys/${anchor.id}`),
    );
    const won = expectOneWon(results, 'revoke vs delete');
    const holders = await systemAdminHolders(operator.api);
    expect(holders).toEqual(won === 0 ? { users: [], keys: [anchor.id] } : { users: [heir], keys: [] });
  });
});

describe.each(dialects)('racing to disable the last user and delete the last key (%s)', (dialect) => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('leaves one of them holding system:admin', async () => {
    // The key (a holder) disables the only user holding the role while another credential
    // deletes that key: whichever runs second must fail (409, or 401 for a key already gone).
    const operator = await operatorKey(ts);
    const { userId, keyId } = await bootstrapIds(ts);
    const results = await race(
      () => ts.api('PATCH', `/api/v1/tenants/system/users/${userId}`, { body: { status: 'disabled' } }),
      () => operator.api('DELETE', `/api/v1/tenants/system/api-keys/${keyId}`),
    );
    const statuses = results.map((r) => r.status);
    // A successful PATCH answers 200, a successful DELETE 204.
    const ok = [statuses[0] === 200, statuses[1] === 204];
    expect(ok.filter(Boolean).length, results.map((r) => r.text).join(' | ')).toBe(1);
    const loser = results[ok[0] ? 1 : 0];
    if (loser?.status === 401) expect(ok[1]).toBe(true);
    else {
      expect(loser?.status).toBe(409);
      expect(loser?.body.error.code).toBe('last_system_admin');
    }
    const holders = await systemAdminHolders(operator.api);
    expect(holders).toEqual(ok[0] ? { users: [], keys: [keyId] } : { users: [userId], keys: [] });
  });
});
