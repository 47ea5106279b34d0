/**
 * Identity providers and users' identities, the admin side (issue 13), over HTTP against a
 * real server on each database: CRUD with versions (ETag, If-Match, 412), the presets'
 * issuers, validation (issuer, domains, scopes, role mappings, credentials), secrets sealed
 * and never answered nor stored in clear, and the grant rule. Tries to break it: a caller with
 * `identity_providers:write` but not tenant-wide reach can neither turn on `trustEmails` or
 * `allowLink` nor map a role it does not hold; another tenant's provider is not there; the last
 * way to sign in cannot be unlinked. Identities are seeded through the store (the sign-in flow
 * makes them for real, tested with it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/audit/service.js';
import type { Tenant } from '../src/tenants/service.js';
import { dialects } from './helpers/databases.js';
import {
  type ApiClient,
  apiClient,
  createApiKey,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';
import { everythingStored } from './helpers/stored.js';

const CLIENT_SECRET = 'upstream-client-secret-Zq8vW3pL0xN5';
const PRIVATE_D = 'private-part-of-the-key-Jr7mT2kQ9sB4';
const privateJwk = { kty: 'EC', crv: 'P-256', x: 'x-coordinate', y: 'y-coordinate', d: PRIVATE_D };

describe.each(dialects)('identity providers (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let admin: ApiClient;
  let tenant: Tenant;
  let n = 0;

  const base = () => `/api/v1/tenants/${slug}/identity-providers`;

  /** A provider body: OpenID Connect at a local issuer, with a secret; `extra` on top. */
  function body(extra: Record<string, unknown> = {}): Record<string, unknown> {
    n += 1;
    return {
      slug: `idp-${n}`,
      displayName: `Provider ${n}`,
      issuer: 'http://127.0.0.1:9/issuer',
      clientId: `latchkey-${n}`,
      clientSecret: CLIENT_SECRET,
      ...extra,
    };
  }

  async function create(extra: Record<string, unknown> = {}, api = admin) {
    const res = await api('POST', base(), { body: body(extra) });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; slug: string; version: number };
  }

  async function newUser(email: string, password?: string): Promise<string> {
    const res = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email, ...(password ? { password } : {}) },
    });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    const found = await ts.server.ctx.tenants.findBySlug(slug);
    if (!found) throw new Error('tenant missing');
    tenant = found;
  });
  afterAll(async () => {
    await ts?.close();
  });

  describe('CRUD with versions', () => {
    it('creates, reads, lists, changes and deletes a provider', async () => {
      const res = await admin('POST', base(), {
        body: body({ slug: 'acme-sso', displayName: 'Acme SSO', domains: ['Acme.COM', 'acme.com', 'eu.acme.com'] }),
      });
      expect(res.status, res.text).toBe(201);
      expect(res.headers.get('etag')).toBe('"1"');
      const idp = res.body;
      expect(idp).toMatchObject({
        slug: 'acme-sso',
        kind: 'oidc',
        displayName: 'Acme SSO',
        buttonText: null,
        iconUrl: null,
        enabled: true,
        issuer: 'http://127.0.0.1:9/issuer',
        tokenEndpointAuthMethod: 'client_secret_basic',
        scopes: ['openid', 'email', 'profile'],
        allowSignUp: false,
        allowLink: false,
        allowUnlink: true,
        trustEmails: false,
        domains: ['acme.com', 'eu.acme.com'],
        claims: { email: 'email', emailVerified: 'email_verified', name: 'name', roles: null },
        roleMappings: [],
        clientSecretSet: true,
        privateKeySet: false,
        version: 1,
      });
      expect(idp.id).toMatch(/^idp_[0-9a-z]{26}$/);

      const got = await admin('GET', `${base()}/${idp.id}`);
      expect(got.status).toBe(200);
      expect(got.headers.get('etag')).toBe('"1"');
      expect(got.body).toEqual(idp);
      const list = await admin('GET', base());
      expect(list.status).toBe(200);
      expect(list.body.nextCursor).toBeNull();
      expect(list.body.items.map((i: { id: string }) => i.id)).toContain(idp.id);

      const patched = await admin('PATCH', `${base()}/${idp.id}`, {
        body: { displayName: 'Acme', buttonText: 'Sign in with Acme', enabled: false },
        headers: { 'if-match': '"1"' },
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.headers.get('etag')).toBe('"2"');
      expect(patched.body).toMatchObject({ displayName: 'Acme', buttonText: 'Sign in with Acme', enabled: false });
      expect(patched.body.version).toBe(2);

      const stale = await admin('PATCH', `${base()}/${idp.id}`, {
        body: { displayName: 'Stale' },
        headers: { 'if-match': '"1"' },
      });
      expect(stale.status).toBe(412);
      expect(stale.body.error.code).toBe('version_mismatch');
      const staleDelete = await admin('DELETE', `${base()}/${idp.id}`, { headers: { 'if-match': '"1"' } });
      expect(staleDelete.status).toBe(412);

      const deleted = await admin('DELETE', `${base()}/${idp.id}`, { headers: { 'if-match': '"2"' } });
      expect(deleted.status).toBe(204);
      const gone = await admin('GET', `${base()}/${idp.id}`);
      expect(gone.status).toBe(404);
      expect(gone.body.error.code).toBe('identity_provider_not_found');
      // Its domains are free again.
      await create({ domains: ['acme.com'] });

      const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${idp.id}`);
      expect(audit.body.items.map((e: { action: string }) => e.action).sort()).toEqual([
        'identity_provider.create',
        'identity_provider.delete',
        'identity_provider.delete',
        'identity_provider.update',
        'identity_provider.update',
      ]);
      const outcomes = audit.body.items.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`);
      expect(outcomes.filter((o: string) => o.endsWith('failure'))).toEqual([
        'identity_provider.delete failure',
        'identity_provider.update failure',
      ]);
    });

    it('fills in the issuer of the google and microsoft presets, and takes another Entra tenant', async () => {
      const google = await admin('POST', base(), { body: body({ kind: 'google', issuer: undefined }) });
      expect(google.status, google.text).toBe(201);
      expect(google.body.issuer).toBe('https://accounts.google.com');
      const microsoft = await admin('POST', base(), { body: body({ kind: 'microsoft', issuer: undefined }) });
      expect(microsoft.body.issuer).toBe('https://login.microsoftonline.com/common/v2.0');
      const entra = await admin('POST', base(), {
        body: body({ kind: 'microsoft', issuer: 'https://login.microsoftonline.com/organizations/v2.0' }),
      });
      expect(entra.body.issuer).toBe('https://login.microsoftonline.com/organizations/v2.0');
      const oidc = await admin('POST', base(), { body: body({ issuer: undefined }) });
      expect(oidc.status).toBe(400);
      expect(oidc.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: '/issuer' }] });
    });

    it('answers exactly one of a PATCH and a DELETE sent at once with the same If-Match', async () => {
      const idp = await create();
      const headers = { 'if-match': '"1"' };
      const [patched, deleted] = await Promise.all([
        admin('PATCH', `${base()}/${idp.id}`, { body: { displayName: 'raced' }, headers }),
        admin('DELETE', `${base()}/${idp.id}`, { headers }),
      ]);
      expect([
        [200, 412],
        [412, 204],
        [404, 204],
      ]).toContainEqual([patched.status, deleted.status]);
    });
  });

  describe('validation', () => {
    it.each([
      ['an unknown field', { colour: 'blue' }],
      ['an issuer over plain http elsewhere than loopback', { issuer: 'http://idp.example.com' }],
      ['an issuer with a query', { issuer: 'https://idp.example.com/?tenant=1' }],
      ['an issuer with a fragment', { issuer: 'https://idp.example.com/#x' }],
      ['an issuer that is no URL', { issuer: 'idp.example.com' }],
      ['scopes without openid', { scopes: ['email', 'profile'] }],
      ['a scope with a space', { scopes: ['openid', 'a b'] }],
      ['a domain that is an email', { domains: ['someone@acme.com'] }],
      ['a domain without a dot', { domains: ['localhost'] }],
      ['a domain with a path', { domains: ['acme.com/x'] }],
      ['a slug in capitals', { slug: 'Acme' }],
      ['a slug of 41 characters', { slug: 'a'.repeat(41) }],
      ['an unknown kind', { kind: 'saml' }],
      ['an unknown auth method', { tokenEndpointAuthMethod: 'none' }],
      ['an unknown claims member', { claims: { email: 'mail', groups: 'groups' } }],
      ['a public JWK as the private key', { privateKeyJwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' } }],
      ['an icon over http', { iconUrl: 'http://cdn.example.com/icon.png' }],
      ['client_secret_basic without a secret', { clientSecret: undefined }],
      ['private_key_jwt without a key', { tokenEndpointAuthMethod: 'private_key_jwt', clientSecret: undefined }],
    ])('refuses %s (400)', async (_what, extra) => {
      const res = await admin('POST', base(), { body: body(extra) });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    });

    it('refuses a NUL byte in any text field (400 invalid_text)', async () => {
      for (const extra of [{ displayName: 'a\u0000b' }, { clientSecret: 'x\u0000' }, { claims: { name: 'n\u0000' } }]) {
        const res = await admin('POST', base(), { body: body(extra) });
        expect(res.status, res.text).toBe(400);
        expect(res.body.error.code).toBe('invalid_text');
      }
    });

    it('refuses a role mapping to a role the tenant lacks (400 unknown_role)', async () => {
      const res = await admin('POST', base(), {
        body: body({ roleMappings: [{ upstream: 'admins', role: 'no-such-role' }] }),
      });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('unknown_role');
      const idp = await create();
      const patched = await admin('PATCH', `${base()}/${idp.id}`, {
        body: { roleMappings: [{ upstream: 'admins', role: 'no-such-role' }] },
      });
      expect(patched.status).toBe(400);
      expect(patched.body.error.code).toBe('unknown_role');
    });

    it('keeps slugs unique (409 identity_provider_slug_taken) and each domain to one provider (409 identity_provider_domain_taken)', async () => {
      const first = await create({ domains: ['one.example.com'] });
      const again = await admin('POST', base(), { body: body({ slug: first.slug }) });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('identity_provider_slug_taken');
      const domain = await admin('POST', base(), { body: body({ domains: ['two.example.com', 'ONE.example.com'] }) });
      expect(domain.status).toBe(409);
      expect(domain.body.error).toMatchObject({
        code: 'identity_provider_domain_taken',
        details: { domains: ['one.example.com'] },
      });
      // A provider keeps its own domains when its list changes.
      const kept = await admin('PATCH', `${base()}/${first.id}`, {
        body: { domains: ['one.example.com', 'three.example.com'] },
      });
      expect(kept.status, kept.text).toBe(200);
      const second = await create();
      const taken = await admin('PATCH', `${base()}/${second.id}`, { body: { domains: ['three.example.com'] } });
      expect(taken.status).toBe(409);
      expect(taken.body.error.code).toBe('identity_provider_domain_taken');
      const renamed = await admin('PATCH', `${base()}/${second.id}`, { body: { slug: first.slug } });
      expect(renamed.status).toBe(409);
      expect(renamed.body.error.code).toBe('identity_provider_slug_taken');
      // Two providers claiming one domain at once: one wins.
      const results = await Promise.all(
        [0, 1].map(() => admin('POST', base(), { body: body({ domains: ['race.example.com'] }) })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    });

    it('routes an email domain to its enabled provider only (home-realm discovery)', async () => {
      const idp = await create({ domains: ['hrd.example.com'] });
      const store = ts.server.ctx.identityProviders;
      expect((await store.forEmailDomain(tenant, 'HRD.example.com'))?.id).toBe(idp.id);
      expect(await store.forEmailDomain(tenant, 'other.example.com')).toBeUndefined();
      await admin('PATCH', `${base()}/${idp.id}`, { body: { enabled: false } });
      expect(await store.forEmailDomain(tenant, 'hrd.example.com')).toBeUndefined();
      expect((await store.findBySlug(tenant, idp.slug))?.id).toBe(idp.id);
      expect((await store.enabled(tenant)).map((p) => p.id)).not.toContain(idp.id);
    });
  });

  describe('secrets', () => {
    it('never answers the client secret or the private key, nor stores them in clear', async () => {
      const res = await admin('POST', base(), {
        body: body({ tokenEndpointAuthMethod: 'private_key_jwt', privateKeyJwk: privateJwk }),
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ clientSecretSet: true, privateKeySet: true });
      const id = res.body.id as string;
      const answers = [
        res.text,
        (await admin('GET', `${base()}/${id}`)).text,
        (await admin('GET', base())).text,
        (await admin('PATCH', `${base()}/${id}`, { body: { clientSecret: `${CLIENT_SECRET}-2` } })).text,
        (await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${id}`)).text,
      ];
      for (const text of answers) {
        expect(text).not.toContain(CLIENT_SECRET);
        expect(text).not.toContain(PRIVATE_D);
      }
      expect(JSON.parse(answers[0] as string)).not.toHaveProperty('clientSecret');

      // The sign-in flow opens them.
      const opened = await ts.server.ctx.identityProviders.secrets(tenant, id);
      expect(opened.clientSecret).toBe(`${CLIENT_SECRET}-2`);
      expect(opened.privateKeyJwk).toEqual(privateJwk);

      // Nothing in any table, nor in the SQLite files, holds them in clear.
      const row = await ts.server.ctx.database.db
        .selectFrom('identity_providers')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.client_secret_sealed).toMatch(/^v1\./);
      expect(row.private_key_sealed).toMatch(/^v1\./);
      const stored = await everythingStored(ts);
      expect(stored.rows).toContain(id);
      for (const secret of [CLIENT_SECRET, PRIVATE_D]) {
        expect(stored.rows).not.toContain(secret);
        expect(stored.files).not.toContain(secret);
      }
    });

    it('removes a secret with null, and refuses to leave the auth method without its credential', async () => {
      const res = await admin('POST', base(), {
        body: body({ tokenEndpointAuthMethod: 'private_key_jwt', privateKeyJwk: privateJwk }),
      });
      const id = res.body.id as string;
      const dropped = await admin('PATCH', `${base()}/${id}`, { body: { clientSecret: null } });
      expect(dropped.status, dropped.text).toBe(200);
      expect(dropped.body).toMatchObject({ clientSecretSet: false, privateKeySet: true });
      const back = await admin('PATCH', `${base()}/${id}`, { body: { tokenEndpointAuthMethod: 'client_secret_post' } });
      expect(back.status).toBe(400);
      expect(back.body.error.details[0].path).toBe('/clientSecret');
      const noKey = await admin('PATCH', `${base()}/${id}`, { body: { privateKeyJwk: null } });
      expect(noKey.status).toBe(400);
      expect(noKey.body.error.details[0].path).toBe('/privateKeyJwk');
      expect((await ts.server.ctx.identityProviders.secrets(tenant, id)).clientSecret).toBeUndefined();
    });
  });

  describe('the grant rule', () => {
    let limited: ApiClient;

    beforeAll(async () => {
      for (const [name, permissions] of [
        ['idp-managers', ['identity_providers:read', 'identity_providers:write']],
        ['helpers', ['users:read']],
        ['strong', ['users:read', 'users:write', 'roles:write']],
      ] as const) {
        const res = await admin('POST', `/api/v1/tenants/${slug}/roles`, { body: { name, permissions } });
        expect(res.status, res.text).toBe(201);
      }
      limited = apiClient(ts.url, await createApiKey(admin, slug, ['idp-managers', 'helpers'], 'idp manager'));
    });

    it('lets identity_providers:write make a provider that signs in no existing user, mapping roles it holds', async () => {
      await create({ allowSignUp: true, roleMappings: [{ upstream: 'staff', role: 'helpers' }] }, limited);
    });

    it.each([
      ['trustEmails', { trustEmails: true }],
      ['allowLink', { allowLink: true }],
      ['a mapping to a role it does not hold', { roleMappings: [{ upstream: 'admins', role: 'strong' }] }],
      ['a mapping to tenant:admin', { roleMappings: [{ upstream: 'admins', role: 'tenant:admin' }] }],
    ])('refuses it %s without the reach (403), before anything is written', async (_what, extra) => {
      const before = await admin('GET', base());
      const res = await limited('POST', base(), { body: body(extra) });
      expect(res.status, res.text).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect((await admin('GET', base())).body.items).toHaveLength(before.body.items.length);
    });

    it('refuses changes that hand out more; allows those that do not', async () => {
      const idp = await create({}, limited);
      for (const change of [
        { trustEmails: true },
        { allowLink: true },
        { roleMappings: [{ upstream: 'x', role: 'strong' }] },
      ]) {
        const res = await limited('PATCH', `${base()}/${idp.id}`, { body: change });
        expect(res.status, `${JSON.stringify(change)} ${res.text}`).toBe(403);
      }
      // A tenant admin turns trustEmails on and maps a strong role.
      const trusted = await admin('PATCH', `${base()}/${idp.id}`, {
        body: { trustEmails: true, roleMappings: [{ upstream: 'x', role: 'strong' }] },
      });
      expect(trusted.status, trusted.text).toBe(200);
      // Renaming it, or sending its settings back unchanged, hands out nothing new.
      const renamed = await limited('PATCH', `${base()}/${idp.id}`, {
        body: {
          displayName: 'Renamed',
          trustEmails: true,
          roleMappings: [{ upstream: 'x', role: 'strong' }],
          issuer: trusted.body.issuer,
          clientId: trusted.body.clientId,
        },
      });
      expect(renamed.status, renamed.text).toBe(200);
      // Pointing it elsewhere, or taking the strong mapping away, hands it all out anew.
      for (const change of [
        { issuer: 'https://elsewhere.example.com' },
        { clientSecret: 'another-secret' },
        { roleMappings: [] },
      ]) {
        const res = await limited('PATCH', `${base()}/${idp.id}`, { body: change });
        expect(res.status, `${JSON.stringify(change)} ${res.text}`).toBe(403);
      }
      // Disabled by the admin, then enabled again by the limited caller: refused.
      await admin('PATCH', `${base()}/${idp.id}`, { body: { enabled: false } });
      const enabled = await limited('PATCH', `${base()}/${idp.id}`, { body: { enabled: true } });
      expect(enabled.status).toBe(403);
      // Deleting is no grant.
      expect((await limited('DELETE', `${base()}/${idp.id}`)).status).toBe(204);
    });

    it('needs identity_providers:read to read and :write to change', async () => {
      const reader = apiClient(ts.url, await createApiKey(admin, slug, ['helpers'], 'no idp rights'));
      expect((await reader('GET', base())).status).toBe(403);
      expect((await reader('POST', base(), { body: body() })).status).toBe(403);
    });
  });

  describe('another tenant', () => {
    it('neither sees nor changes a provider of tenant A through tenant B (404)', async () => {
      const idp = await create({ domains: ['only-a.example.com'] });
      const other = await tenantWithAdmin(ts);
      const otherBase = `/api/v1/tenants/${other.slug}/identity-providers`;
      for (const [method, options] of [
        ['GET', {}],
        ['PATCH', { body: { displayName: 'Owned' } }],
        ['DELETE', {}],
      ] as const) {
        const res = await other.api(method, `${otherBase}/${idp.id}`, options);
        expect(res.status, `${method} ${res.text}`).toBe(404);
        expect(res.body.error.code).toBe('identity_provider_not_found');
      }
      expect((await other.api('GET', otherBase)).body.items).toEqual([]);
      // Tenant B's admin on tenant A's slug: no such tenant for it.
      const cross = await other.api('GET', `${base()}/${idp.id}`);
      expect(cross.status).toBe(404);
      expect(cross.body.error.code).toBe('tenant_not_found');
      // The same domain is B's to route.
      const mine = await other.api('POST', otherBase, { body: body({ domains: ['only-a.example.com'] }) });
      expect(mine.status, mine.text).toBe(201);
      const unchanged = await admin('GET', `${base()}/${idp.id}`);
      expect(unchanged.body.version).toBe(1);
      const otherTenant = await ts.server.ctx.tenants.findBySlug(other.slug);
      if (!otherTenant) throw new Error('tenant missing');
      expect(await ts.server.ctx.identityProviders.findBySlug(otherTenant, idp.slug)).toBeUndefined();
      await expect(ts.server.ctx.identityProviders.secrets(otherTenant, idp.id)).rejects.toMatchObject({
        code: 'identity_provider_not_found',
      });
    });
  });

  describe("users' identities", () => {
    const link = (userId: string, providerId: string, subject: string) =>
      ts.server.ctx.identities.link(
        tenant,
        { userId, providerId, subject, email: `${subject}@upstream.example.com` },
        systemActor,
      );
    const identities = (userId: string) => `/api/v1/tenants/${slug}/users/${userId}/identities`;

    it('lists them, and never unlinks the last way to sign in (409 last_sign_in_method)', async () => {
      const idp = await create({ allowUnlink: false });
      const userId = await newUser('federated-only@example.test');
      const identity = await link(userId, idp.id, 'sub-federated-only');
      const list = await admin('GET', identities(userId));
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        items: [
          {
            id: identity.id,
            userId,
            providerId: idp.id,
            providerSlug: idp.slug,
            providerName: expect.any(String),
            subject: 'sub-federated-only',
            email: 'sub-federated-only@upstream.example.com',
            createdAt: expect.any(String),
            lastSignInAt: null,
          },
        ],
        nextCursor: null,
      });
      expect(identity.id).toMatch(/^ident_[0-9a-z]{26}$/);
      const last = await admin('DELETE', `${identities(userId)}/${identity.id}`);
      expect(last.status).toBe(409);
      expect(last.body.error.code).toBe('last_sign_in_method');

      // With a second identity, the first goes (an admin may, whatever allowUnlink says).
      const second = await link(userId, (await create()).id, 'sub-second');
      const unlinked = await admin('DELETE', `${identities(userId)}/${identity.id}`);
      expect(unlinked.status, unlinked.text).toBe(204);
      // The account page may not where the provider says no.
      const third = await link(userId, idp.id, 'sub-third');
      await expect(ts.server.ctx.identities.unlink(tenant, userId, third.id, systemActor)).rejects.toMatchObject({
        code: 'unlink_not_allowed',
      });
      expect((await admin('GET', identities(userId))).body.items.map((i: { id: string }) => i.id)).toEqual([
        second.id,
        third.id,
      ]);
      const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${userId}&action=user.identity.*`);
      expect(audit.body.items.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`)).toEqual(
        expect.arrayContaining([
          'user.identity.link success',
          'user.identity.unlink success',
          'user.identity.unlink failure',
        ]),
      );
    });

    it('unlinks the only identity of a user who has a password', async () => {
      const idp = await create();
      const userId = await newUser('with-password@example.test', 'correct horse battery staple 7');
      const identity = await link(userId, idp.id, 'sub-with-password');
      const res = await admin('DELETE', `${identities(userId)}/${identity.id}`);
      expect(res.status, res.text).toBe(204);
      expect((await admin('GET', identities(userId))).body.items).toEqual([]);
      const again = await admin('DELETE', `${identities(userId)}/${identity.id}`);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('identity_not_found');
    });

    it('keeps one user per upstream subject, finds it, records sign-ins, and goes with its provider', async () => {
      const idp = await create();
      const a = await newUser('subject-a@example.test', 'correct horse battery staple 8');
      const b = await newUser('subject-b@example.test', 'correct horse battery staple 9');
      const identity = await link(a, idp.id, 'sub-shared');
      await expect(link(b, idp.id, 'sub-shared')).rejects.toMatchObject({ status: 409, code: 'identity_linked' });
      const store = ts.server.ctx.identities;
      expect((await store.find(tenant, idp.id, 'sub-shared'))?.userId).toBe(a);
      const at = Date.now();
      await store.touch(identity.id, at);
      expect((await store.find(tenant, idp.id, 'sub-shared'))?.lastSignInAt).toBe(new Date(at).toISOString());
      const deleted = await admin('DELETE', `${base()}/${idp.id}`);
      expect(deleted.status).toBe(204);
      expect(await store.find(tenant, idp.id, 'sub-shared')).toBeUndefined();
      expect((await admin('GET', identities(a))).body.items).toEqual([]);
    });

    it("answers 404 for another tenant's user or identity, and needs the user's rights to unlink", async () => {
      const idp = await create();
      const userId = await newUser('guarded@example.test', 'correct horse battery staple 10');
      const identity = await link(userId, idp.id, 'sub-guarded');
      const other = await tenantWithAdmin(ts);
      const theirs = `/api/v1/tenants/${other.slug}/users/${userId}/identities`;
      for (const [method, path] of [
        ['GET', theirs],
        ['DELETE', `${theirs}/${identity.id}`],
      ] as const) {
        const res = await other.api(method, path);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('user_not_found');
      }
      await expect(
        link(
          userId,
          (await other.api('POST', `/api/v1/tenants/${other.slug}/identity-providers`, { body: body() })).body.id,
          'sub-x',
        ),
      ).rejects.toMatchObject({ code: 'identity_provider_not_found' });
      // A users:write caller may not unlink an identity of a user who holds more than it.
      await admin('PUT', `/api/v1/tenants/${slug}/users/${userId}/roles/tenant:admin`);
      await admin('POST', `/api/v1/tenants/${slug}/roles`, {
        body: { name: 'user-writers', permissions: ['users:read', 'users:write'] },
      });
      const writer = apiClient(ts.url, await createApiKey(admin, slug, ['user-writers'], 'user writer'));
      expect((await writer('GET', identities(userId))).status).toBe(200);
      const refused = await writer('DELETE', `${identities(userId)}/${identity.id}`);
      expect(refused.status).toBe(403);
      expect((await admin('GET', identities(userId))).body.items).toHaveLength(1);
    });
  });
});
