/**
 * Property: a tenant admin never reads or changes another tenant's data. Over random pairs
 * of tenants from a pool and random routes from the OpenAPI document, filled with the other
 * tenant's slug and real ids (or its own slug with the other tenant's ids), with valid or
 * junk bodies and query strings, the answer is never a success, and nothing in any tenant
 * has changed afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/audit/service.js';
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
import { type ApiClient, apiClient, createTenant, startTestServer, type TestServer } from './helpers/server.js';

const hasResourceParam = (r: DocumentedRoute) => /\/\{(id|name)\}/.test(r.template);

interface Member {
  slug: string;
  adminKeyId: string;
  api: ApiClient;
  userIds: string[];
  apiKeyIds: string[];
  /** Custom role names, unique across the pool (so that "own slug, their role" finds nothing). */
  roleNames: string[];
  identityProviderId: string;
  /** An identity of the first user at that provider. */
  identityId: string;
}

/**
 * A body for the route that passes validation, so that the request reaches the tenant check:
 * hand-written for the routes this file knows, else made from the documented schema.
 */
function validBody(route: DocumentedRoute, n: number): unknown {
  const known: Record<string, unknown> = {
    'POST /api/v1/tenants': { slug: `evil-${n}`, displayName: 'Evil' },
    'PATCH /api/v1/tenants/{slug}': {
      displayName: 'Taken over',
      settings: { selfRegistration: true, passwordMinLength: 8 },
    },
    'POST /api/v1/tenants/{slug}/users': { email: `intruder-${n}@example.test`, status: 'active' },
    'PATCH /api/v1/tenants/{slug}/users/{id}': {
      email: `taken-${n}@example.test`,
      status: 'disabled',
      attributes: { owned: true },
    },
    'POST /api/v1/tenants/{slug}/users/{id}/password': { password: 'correct horse battery staple 42' },
    'POST /api/v1/tenants/{slug}/roles': { name: `evil-${n}`, permissions: ['users:read', 'users:write'] },
    'POST /api/v1/tenants/{slug}/api-keys': { name: 'evil', roles: ['tenant:admin'] },
    'POST /api/v1/tenants/{slug}/clients': { kind: 'service', name: 'Evil' },
    'POST /api/v1/tenants/{slug}/apis': { identifier: 'https://api.example.com/evil', name: 'Evil' },
    'POST /api/v1/tenants/{slug}/identity-providers': {
      slug: `evil-${n}`,
      displayName: 'Evil',
      issuer: 'https://idp.example.com',
      clientId: 'evil',
      clientSecret: 'evil',
      trustEmails: true,
    },
    'PATCH /api/v1/tenants/{slug}/identity-providers/{id}': {
      issuer: 'https://evil.example.com',
      trustEmails: true,
      domains: ['evil.example.com'],
    },
  };
  const key = routeKey(route);
  return Object.hasOwn(known, key) ? known[key] : sampleFromSchema(route.bodySchema);
}

const queryArb = fc.dictionary(
  fc.constantFrom('limit', 'q', 'sort', 'cursor', 'status', 'role', 'action', 'outcome', 'since', 'bogus'),
  fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('1', '200', 'email', '-createdAt', 'active', 'user.*')),
  { maxKeys: 3 },
);

interface Case {
  attacker: number;
  victim: number;
  route: DocumentedRoute;
  /** Whose slug goes in the path: the victim's, or the attacker's own with the victim's ids. */
  slugOf: 'victim' | 'own';
  user: number;
  key: number;
  role: number;
  body: { kind: 'valid' } | { kind: 'junk'; value: unknown } | { kind: 'none' };
  query: Record<string, string>;
}

const POOL = 4;

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    attacker: fc.nat(POOL - 1),
    offset: fc.integer({ min: 1, max: POOL - 1 }),
    route: fc.constantFrom(...documentedRoutes),
    ownSlug: fc.boolean(),
    user: fc.nat(1),
    key: fc.nat(1),
    role: fc.nat(1),
    body: fc.oneof(
      { weight: 3, arbitrary: fc.constant({ kind: 'valid' as const }) },
      { weight: 1, arbitrary: fc.jsonValue().map((value) => ({ kind: 'junk' as const, value })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    ),
    query: fc.option(queryArb, { nil: undefined }),
  })
  .map(({ attacker, offset, route, ownSlug, user, key, role, body, query }) => ({
    attacker,
    victim: (attacker + offset) % POOL,
    route,
    // Own slug only makes sense where the path names a resource of the victim.
    slugOf: ownSlug && hasResourceParam(route) ? ('own' as const) : ('victim' as const),
    user,
    key,
    role,
    body,
    query: route.method === 'GET' ? (query ?? {}) : {},
  }));

/** A tenant's data, read with the system key (API keys without lastUsedAt: use is no change). */
async function snapshot(ts: TestServer, slug: string) {
  const tenant = await ts.api('GET', `/api/v1/tenants/${slug}`);
  if (tenant.status !== 200) throw new Error(`tenant ${slug} gone: ${tenant.status}`);
  const users = await listAll(ts.api, `/api/v1/tenants/${slug}/users`);
  return {
    tenant: tenant.body,
    users,
    roles: await listAll(ts.api, `/api/v1/tenants/${slug}/roles`),
    apiKeys: (await listAll(ts.api, `/api/v1/tenants/${slug}/api-keys`)).map(({ lastUsedAt: _used, ...k }) => k),
    identityProviders: (await ts.api('GET', `/api/v1/tenants/${slug}/identity-providers`)).body,
    identities: await Promise.all(
      users.map(async (u) => (await ts.api('GET', `/api/v1/tenants/${slug}/users/${u.id}/identities`)).body),
    ),
  };
}

describe.each(dialects)('a tenant admin never touches another tenant (%s)', (dialect) => {
  let ts: TestServer;
  const pool: Member[] = [];
  const before = new Map<string, Awaited<ReturnType<typeof snapshot>>>();
  const auditBefore = new Map<string, Set<string>>();

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    for (let i = 0; i < POOL; i++) {
      const slug = await createTenant(ts.api);
      const roleNames = [`editors-${i}`, `viewers-${i}`];
      for (const [name, permissions] of [
        [roleNames[0], ['users:read', 'users:write']],
        [roleNames[1], ['users:read', 'roles:read', 'api_keys:read']],
      ] as const) {
        const res = await ts.api('POST', `/api/v1/tenants/${slug}/roles`, { body: { name, permissions } });
        expect(res.status).toBe(201);
      }
      const userIds: string[] = [];
      for (const email of ['first@example.test', 'second@example.test']) {
        const res = await ts.api('POST', `/api/v1/tenants/${slug}/users`, {
          body: { email, displayName: `${email} of ${slug}`, attributes: { tenant: slug } },
        });
        expect(res.status).toBe(201);
        userIds.push(res.body.id);
      }
      const grant = await ts.api('PUT', `/api/v1/tenants/${slug}/users/${userIds[0]}/roles/${roleNames[0]}`);
      expect(grant.status).toBe(204);
      const settings = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { settings: { passwordMinLength: 10 + i, branding: { loginMessage: `Welcome to ${slug}` } } },
      });
      expect(settings.status).toBe(200);
      const admin = await ts.api('POST', `/api/v1/tenants/${slug}/api-keys`, {
        body: { name: 'admin', roles: ['tenant:admin'] },
      });
      const other = await ts.api('POST', `/api/v1/tenants/${slug}/api-keys`, {
        body: { name: 'viewer', roles: [roleNames[1]] },
      });
      expect([admin.status, other.status]).toEqual([201, 201]);
      const idp = await ts.api('POST', `/api/v1/tenants/${slug}/identity-providers`, {
        body: {
          slug: 'corp',
          displayName: `Corp of ${slug}`,
          issuer: 'https://idp.example.com',
          clientId: slug,
          clientSecret: `secret of ${slug}`,
          domains: [`${slug}.example.com`],
          roleMappings: [{ upstream: 'editors', role: roleNames[0] }],
        },
      });
      expect(idp.status, idp.text).toBe(201);
      const found = await ts.server.ctx.tenants.findBySlug(slug);
      if (!found || !userIds[0]) throw new Error('tenant or user missing');
      const identity = await ts.server.ctx.identities.link(
        found,
        { userId: userIds[0], providerId: idp.body.id, subject: `sub-${slug}`, email: null },
        systemActor,
      );
      pool.push({
        slug,
        adminKeyId: admin.body.id,
        api: apiClient(ts.url, admin.body.secret),
        userIds,
        apiKeyIds: [admin.body.id, other.body.id],
        roleNames,
        identityProviderId: idp.body.id,
        identityId: identity.id,
      });
    }
    for (const m of pool) {
      before.set(m.slug, await snapshot(ts, m.slug));
      auditBefore.set(
        m.slug,
        new Set((await listAll(ts.api, `/api/v1/tenants/${m.slug}/audit-events`)).map((e) => String(e.id))),
      );
    }
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('answers 404 (or 400 for a bad request) and never a success, on random routes', async () => {
    let n = 0;
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        n += 1;
        const attacker = pool[c.attacker];
        const victim = pool[c.victim];
        if (!attacker || !victim) throw new Error('pool index out of range');
        const values: PathValues = {
          slug: c.slugOf === 'own' ? attacker.slug : victim.slug,
          ids: {
            users: victim.userIds[c.user] ?? '',
            'api-keys': victim.apiKeyIds[c.key] ?? '',
            'identity-providers': victim.identityProviderId,
            identities: victim.identityId,
            // With its own slug, only the victim's custom role names (tenant:admin is everyone's).
            roles: c.slugOf === 'own' || c.role === 0 ? (victim.roleNames[c.role] ?? '') : 'tenant:admin',
          },
        };
        const path = fillPath(c.route, values);
        const query = new URLSearchParams(c.query).toString();
        const url = query ? `${path}?${query}` : path;
        let body: unknown;
        if (c.route.method !== 'GET' && c.route.method !== 'DELETE') {
          if (c.body.kind === 'valid') body = validBody(c.route, n);
          else if (c.body.kind === 'junk') body = c.body.value;
        }
        seen.add(routeKey(c.route));
        const res = await attacker.api(c.route.method, url, { body });
        const what = `${c.route.method} ${url} ${JSON.stringify(body)} -> ${res.status} ${res.text}`;

        expect(res.status, what).toBeLessThan(500);
        if (c.route.template === '/api/v1/tenants' && c.route.method === 'GET') {
          // The one list across tenants: only ever the caller's own tenant in it.
          expect([200, 400], what).toContain(res.status);
          if (res.status === 200) {
            for (const t of res.body.items as { slug: string }[]) expect(t.slug, what).toBe(attacker.slug);
          }
          return;
        }
        if (c.route.template === '/api/v1/tenants') {
          expect([400, 403], what).toContain(res.status);
          return;
        }
        expect([400, 404], what).toContain(res.status);
        if (res.status === 404) {
          if (c.slugOf === 'victim') expect(res.body.error.code, what).toBe('tenant_not_found');
          else expect(res.body.error.code, what).toMatch(/^(?!tenant_)\w+_not_found$/);
        }
        // Nothing of the victim's data in the answer, whatever it is.
        expect(res.text, what).not.toContain(`of ${victim.slug}`);
        expect(res.text, what).not.toContain(`Welcome to ${victim.slug}`);
      }),
      { numRuns: 150 },
    );
    // The generator reached a fair share of the routes.
    expect(seen.size).toBeGreaterThanOrEqual(Math.min(documentedRoutes.length, 15));
  });

  it('left every tenant’s data as it was', async () => {
    for (const m of pool) {
      expect(await snapshot(ts, m.slug), m.slug).toEqual(before.get(m.slug));
    }
  });

  it('logged the attempts only as failures in each attacker’s own tenant', async () => {
    let failures = 0;
    for (const m of pool) {
      const known = auditBefore.get(m.slug) ?? new Set();
      const fresh = (await listAll(ts.api, `/api/v1/tenants/${m.slug}/audit-events`)).filter(
        (e) => !known.has(String(e.id)),
      ) as { outcome: string; actor: { id: string } }[];
      for (const e of fresh) {
        expect(e.actor.id, m.slug).toBe(m.adminKeyId);
        expect(e.outcome, m.slug).toBe('failure');
      }
      failures += fresh.length;
    }
    // Some of the 150 requests were refused changes, and they were recorded.
    expect(failures).toBeGreaterThan(0);
  });
});
