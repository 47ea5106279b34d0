/**
 * Roles of a tenant: create, list, get, delete; the built-in roles; granting and removing
 * roles on users; and what deleting a role does to the users and API keys holding it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { type ApiClient, apiClient, createTenant, startTestServer, type TestServer } from './helpers/server.js';

describe.each(dialects)('roles (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let admin: ApiClient;
  let userId: string;
  const base = () => `/api/v1/tenants/${slug}`;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    slug = await createTenant(ts.api);
    const key = await ts.api('POST', `/api/v1/tenants/${slug}/api-keys`, {
      body: { name: 'admin', roles: ['tenant:admin'] },
    });
    expect(key.status).toBe(201);
    admin = apiClient(ts.url, key.body.secret);
    const user = await admin('POST', `${base()}/users`, { body: { email: 'erin@example.test' } });
    expect(user.status).toBe(201);
    userId = user.body.id;
  });
  afterAll(async () => {
    await ts?.close();
  });

  describe('built-in roles', () => {
    it('every tenant has tenant:admin, holding every permission, and no system:admin', async () => {
      const res = await admin('GET', `${base()}/roles`);
      expect(res.status).toBe(200);
      expect(res.body.items.map((r: { name: string }) => r.name)).toEqual(['tenant:admin']);
      const [role] = res.body.items;
      expect(role).toMatchObject({ name: 'tenant:admin', builtin: true });
      expect(role.id).toMatch(/^rol_/);
      expect(role.permissions).toEqual(
        expect.arrayContaining([
          'tenant:read',
          'tenant:write',
          'users:read',
          'users:write',
          'roles:read',
          'roles:write',
          'api_keys:read',
          'api_keys:write',
          'audit:read',
        ]),
      );
      // It holds every permission there is: a custom role may carry each of them, and no other.
      const all = await admin('POST', `${base()}/roles`, {
        body: { name: 'everything', permissions: role.permissions },
      });
      expect(all.status).toBe(201);
      expect([...all.body.permissions].sort()).toEqual([...role.permissions].sort());
      expect((await admin('DELETE', `${base()}/roles/everything`)).status).toBe(204);
      const sys = await admin('GET', `${base()}/roles/system:admin`);
      expect(sys.status).toBe(404);
      expect(sys.body.error.code).toBe('role_not_found');
    });

    it('the system tenant has system:admin and tenant:admin', async () => {
      const res = await ts.api('GET', '/api/v1/tenants/system/roles');
      expect(res.status).toBe(200);
      const names = res.body.items.map((r: { name: string; builtin: boolean }) => [r.name, r.builtin]);
      expect(names).toEqual([
        ['system:admin', true],
        ['tenant:admin', true],
      ]);
      const one = await ts.api('GET', '/api/v1/tenants/system/roles/system:admin');
      expect(one.status).toBe(200);
      expect(one.body.builtin).toBe(true);
    });

    it('built-in roles cannot be deleted (409 builtin_role), not even by a system admin', async () => {
      for (const [api, tenant, name] of [
        [admin, slug, 'tenant:admin'],
        [ts.api, slug, 'tenant:admin'],
        [ts.api, 'system', 'tenant:admin'],
        [ts.api, 'system', 'system:admin'],
      ] as const) {
        const res = await api('DELETE', `/api/v1/tenants/${tenant}/roles/${name}`);
        expect(res.status, `${tenant} ${name}`).toBe(409);
        expect(res.body.error.code).toBe('builtin_role');
        expect((await ts.api('GET', `/api/v1/tenants/${tenant}/roles/${name}`)).status).toBe(200);
      }
    });
  });

  describe('create, list, get, delete', () => {
    it('creates a role and answers with it', async () => {
      const res = await admin('POST', `${base()}/roles`, {
        body: { name: 'support', description: 'Helpdesk', permissions: ['users:read', 'users:write'] },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: 'support',
        description: 'Helpdesk',
        permissions: ['users:read', 'users:write'],
        builtin: false,
      });
      expect(res.body.id).toMatch(/^rol_[0-9a-z]{26}$/);
      expect(Number.isNaN(Date.parse(res.body.createdAt))).toBe(false);
      const got = await admin('GET', `${base()}/roles/support`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(res.body);
    });

    it('defaults description and permissions, and drops duplicate permissions', async () => {
      const bare = await admin('POST', `${base()}/roles`, { body: { name: 'nothing' } });
      expect(bare.status).toBe(201);
      expect(bare.body).toMatchObject({ description: '', permissions: [] });
      const dup = await admin('POST', `${base()}/roles`, {
        body: { name: 'twice', permissions: ['audit:read', 'audit:read'] },
      });
      expect(dup.status).toBe(201);
      expect(dup.body.permissions).toEqual(['audit:read']);
    });

    it('lists roles by name, with prefix search and pagination', async () => {
      for (const name of ['ops.a', 'ops.b', 'ops.c']) {
        expect((await admin('POST', `${base()}/roles`, { body: { name } })).status).toBe(201);
      }
      const ops = await admin('GET', `${base()}/roles?q=ops.`);
      expect(ops.body.items.map((r: { name: string }) => r.name)).toEqual(['ops.a', 'ops.b', 'ops.c']);
      const first = await admin('GET', `${base()}/roles?q=ops.&limit=2`);
      expect(first.body.items.map((r: { name: string }) => r.name)).toEqual(['ops.a', 'ops.b']);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await admin('GET', `${base()}/roles?q=ops.&limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.items.map((r: { name: string }) => r.name)).toEqual(['ops.c']);
      expect(second.body.nextCursor).toBeNull();
      const bad = await admin('GET', `${base()}/roles?sort=permissions`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_sort');
      const unknown = await admin('GET', `${base()}/roles?builtin=true`);
      expect(unknown.status).toBe(400);
    });

    it('refuses reserved prefixes system: and tenant: (400)', async () => {
      for (const name of ['system:admin', 'system:auditor', 'tenant:admin', 'tenant:viewer']) {
        const res = await admin('POST', `${base()}/roles`, { body: { name } });
        expect(res.status, name).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      // Only the two built-ins carry the prefix.
      const list = await admin('GET', `${base()}/roles?q=tenant:`);
      expect(list.body.items.map((r: { name: string }) => r.name)).toEqual(['tenant:admin']);
    });

    it('refuses a duplicate name (409 role_exists), in this tenant only', async () => {
      const res = await admin('POST', `${base()}/roles`, { body: { name: 'support' } });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('role_exists');
      // The same name in another tenant is another role.
      const other = await createTenant(ts.api);
      expect((await ts.api('POST', `/api/v1/tenants/${other}/roles`, { body: { name: 'support' } })).status).toBe(201);
    });

    it('refuses unknown permissions, bad names and unknown fields (400)', async () => {
      for (const body of [
        { name: 'x1', permissions: ['users:delete'] },
        { name: 'x2', permissions: ['users:read', 'everything'] },
        { name: 'x3', permissions: 'users:read' },
        { name: '' },
        { name: ' spaced' },
        { name: 'a/b' },
        { name: 'x'.repeat(101) },
        { name: 'x4', admin: true },
        { permissions: ['users:read'] },
      ]) {
        const res = await admin('POST', `${base()}/roles`, { body });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const list = await admin('GET', `${base()}/roles?q=x`);
      expect(list.body.items).toEqual([]);
    });

    it('gets and deletes by name; unknown names are 404 role_not_found', async () => {
      expect((await admin('POST', `${base()}/roles`, { body: { name: 'temp' } })).status).toBe(201);
      const del = await admin('DELETE', `${base()}/roles/temp`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      const gone = await admin('GET', `${base()}/roles/temp`);
      expect(gone.status).toBe(404);
      expect(gone.body.error.code).toBe('role_not_found');
      const again = await admin('DELETE', `${base()}/roles/temp`);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('role_not_found');
    });
  });

  describe('granting roles to users', () => {
    it('PUT grants a role and is idempotent (204 each time)', async () => {
      for (let i = 0; i < 2; i++) {
        const res = await admin('PUT', `${base()}/users/${userId}/roles/support`);
        expect(res.status).toBe(204);
      }
      const user = await admin('GET', `${base()}/users/${userId}`);
      expect(user.body.roles).toEqual(['support']);
      const holders = await admin('GET', `${base()}/users?role=support`);
      expect(holders.body.items.map((u: { id: string }) => u.id)).toEqual([userId]);
      // The second PUT changed nothing, so it logged nothing.
      const events = await admin('GET', `${base()}/audit-events?action=user.role.grant&target=${userId}`);
      expect(events.body.items).toHaveLength(1);
    });

    it('grants tenant:admin too, and lists roles sorted', async () => {
      expect((await admin('PUT', `${base()}/users/${userId}/roles/tenant:admin`)).status).toBe(204);
      const user = await admin('GET', `${base()}/users/${userId}`);
      expect(user.body.roles).toEqual(['support', 'tenant:admin']);
    });

    it('answers 404 for an unknown role or user', async () => {
      const role = await admin('PUT', `${base()}/users/${userId}/roles/nope`);
      expect(role.status).toBe(404);
      expect(role.body.error.code).toBe('role_not_found');
      const user = await admin('PUT', `${base()}/users/usr_00000000000000000000000000/roles/support`);
      expect(user.status).toBe(404);
      expect(user.body.error.code).toBe('user_not_found');
      const malformed = await admin('PUT', `${base()}/users/42/roles/support`);
      expect(malformed.status).toBe(400);
    });

    it('DELETE removes a held role (204), and 404 role_not_granted when not held', async () => {
      const res = await admin('DELETE', `${base()}/users/${userId}/roles/tenant:admin`);
      expect(res.status).toBe(204);
      expect((await admin('GET', `${base()}/users/${userId}`)).body.roles).toEqual(['support']);
      const again = await admin('DELETE', `${base()}/users/${userId}/roles/tenant:admin`);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('role_not_granted');
      const never = await admin('DELETE', `${base()}/users/${userId}/roles/nothing`);
      expect(never.status).toBe(404);
      expect(never.body.error.code).toBe('role_not_granted');
      const unknown = await admin('DELETE', `${base()}/users/${userId}/roles/nope`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('role_not_found');
    });
  });

  describe('deleting a role', () => {
    it('takes it from users and API keys; a key holding only it loses what it could do', async () => {
      const created = await admin('POST', `${base()}/roles`, {
        body: { name: 'auditor', permissions: ['audit:read', 'users:read'] },
      });
      expect(created.status).toBe(201);
      expect((await admin('PUT', `${base()}/users/${userId}/roles/auditor`)).status).toBe(204);
      const keyRes = await admin('POST', `${base()}/api-keys`, { body: { name: 'auditor', roles: ['auditor'] } });
      expect(keyRes.status).toBe(201);
      const mixedRes = await admin('POST', `${base()}/api-keys`, {
        body: { name: 'mixed', roles: ['auditor', 'support'] },
      });
      expect(mixedRes.status).toBe(201);
      const auditor = apiClient(ts.url, keyRes.body.secret);
      const mixed = apiClient(ts.url, mixedRes.body.secret);

      // Before: it may read the audit log and the users (and the answer is cached).
      expect((await auditor('GET', `${base()}/audit-events`)).status).toBe(200);
      expect((await auditor('GET', `${base()}/users`)).status).toBe(200);
      expect((await mixed('GET', `${base()}/audit-events`)).status).toBe(200);

      const del = await admin('DELETE', `${base()}/roles/auditor`);
      expect(del.status).toBe(204);

      const user = await admin('GET', `${base()}/users/${userId}`);
      expect(user.body.roles).toEqual(['support']);
      const key = await admin('GET', `${base()}/api-keys/${keyRes.body.id}`);
      expect(key.body.roles).toEqual([]);
      const mixedKey = await admin('GET', `${base()}/api-keys/${mixedRes.body.id}`);
      expect(mixedKey.body.roles).toEqual(['support']);

      // After, at once: the key still authenticates but may do nothing it could before.
      for (const path of [`${base()}/audit-events`, `${base()}/users`, `${base()}/users/${userId}`]) {
        const res = await auditor('GET', path);
        expect(res.status, path).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
      // The key with another role keeps that role's rights only.
      expect((await mixed('GET', `${base()}/audit-events`)).status).toBe(403);
      expect((await mixed('GET', `${base()}/users`)).status).toBe(200);

      // A new role by the same name is a new role: nobody holds it.
      expect(
        (await admin('POST', `${base()}/roles`, { body: { name: 'auditor', permissions: ['audit:read'] } })).status,
      ).toBe(201);
      expect((await auditor('GET', `${base()}/audit-events`)).status).toBe(403);
      expect((await admin('GET', `${base()}/users?role=auditor`)).body.items).toEqual([]);
    });

    it('records role changes in the audit log', async () => {
      const res = await admin('GET', `${base()}/audit-events?action=role.*`);
      expect(res.status).toBe(200);
      const actions = res.body.items.map((e: { action: string; details: { name: string } }) => [
        e.action,
        e.details.name,
      ]);
      expect(actions).toContainEqual(['role.create', 'support']);
      expect(actions).toContainEqual(['role.delete', 'temp']);
      expect(actions).toContainEqual(['role.delete', 'auditor']);
    });
  });

  describe('permissions on roles', () => {
    it('roles:read may list and get but not change; roles:write is needed to create and delete', async () => {
      expect(
        (await admin('POST', `${base()}/roles`, { body: { name: 'role-reader', permissions: ['roles:read'] } })).status,
      ).toBe(201);
      const keyRes = await admin('POST', `${base()}/api-keys`, { body: { name: 'rr', roles: ['role-reader'] } });
      const reader = apiClient(ts.url, keyRes.body.secret);
      expect((await reader('GET', `${base()}/roles`)).status).toBe(200);
      expect((await reader('GET', `${base()}/roles/support`)).status).toBe(200);
      const create = await reader('POST', `${base()}/roles`, { body: { name: 'mine' } });
      expect(create.status).toBe(403);
      expect(create.body.error.details).toEqual({ permission: 'roles:write' });
      expect((await reader('DELETE', `${base()}/roles/support`)).status).toBe(403);
      // Granting needs users:write.
      const grant = await reader('PUT', `${base()}/users/${userId}/roles/role-reader`);
      expect(grant.status).toBe(403);
      expect(grant.body.error.details).toEqual({ permission: 'users:write' });
      expect((await admin('GET', `${base()}/roles/support`)).status).toBe(200);
    });
  });
});
