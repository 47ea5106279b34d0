/**
 * The audit log: every admin change writes an event (time, tenant, actor, action, target,
 * client IP, outcome), and `GET …/audit-events` filters and pages through them, newest first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { listAll } from './helpers/pagination.js';
import {
  type ApiClient,
  type ApiResponse,
  apiClient,
  startTestServer,
  type TestServer,
  uniqueSlug,
} from './helpers/server.js';

interface AuditEvent {
  id: string;
  occurredAt: string;
  tenant: string;
  actor: { type: string; id: string | null; name: string | null; tenantSlug: string | null };
  action: string;
  target: { type: string; id: string; name: string | null; tenantSlug: string | null } | null;
  outcome: 'success' | 'failure';
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown> | null;
}

const loopback = ['127.0.0.1', '::ffff:127.0.0.1', '::1'];

describe.each(dialects)('audit log (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let admin: ApiClient;
  let adminKeyId: string;
  let systemKeyId: string;
  let tenantId: string;
  /** Ids of what the changes below created, for matching targets. */
  const ids: Record<string, string> = {};
  const base = () => `/api/v1/tenants/${slug}`;

  const all = (query = '', api: ApiClient = admin) =>
    listAll<AuditEvent>(api, `${base()}/audit-events${query ? `?${query}` : ''}`);

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const sysKeys = await ts.api('GET', '/api/v1/tenants/system/api-keys');
    systemKeyId = sysKeys.body.items.find((k: { name: string }) => k.name === 'bootstrap').id;

    // One of every admin change, made through the API.
    slug = uniqueSlug('audit');
    const tenant = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'Audited' } });
    expect(tenant.status).toBe(201);
    tenantId = tenant.body.id;
    const key = await ts.api('POST', `${base()}/api-keys`, { body: { name: 'admin', roles: ['tenant:admin'] } });
    adminKeyId = key.body.id;
    admin = apiClient(ts.url, key.body.secret);
    const steps: [string, string, unknown?][] = [
      ['PATCH', base(), { displayName: 'Audited tenant' }],
      ['POST', `${base()}/users`, { email: 'frank@example.test' }],
      ['POST', `${base()}/roles`, { name: 'helpdesk', permissions: ['users:read'] }],
    ];
    for (const [method, path, body] of steps) {
      const res = await admin(method, path, { body });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      if (path.endsWith('/users')) ids.user = res.body.id;
      if (path.endsWith('/roles')) ids.role = res.body.id;
    }
    const u = `${base()}/users/${ids.user}`;
    const more: [string, string, unknown?][] = [
      ['PATCH', u, { displayName: 'Frank' }],
      ['PATCH', u, { status: 'disabled' }],
      ['PATCH', u, { status: 'active' }],
      ['POST', `${u}/password`, { password: 'a rather long passphrase 2024' }],
      ['PUT', `${u}/roles/helpdesk`],
      ['DELETE', `${u}/roles/helpdesk`],
    ];
    for (const [method, path, body] of more) {
      const res = await admin(method, path, { body });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
    }
    const other = await admin('POST', `${base()}/api-keys`, { body: { name: 'other', roles: ['helpdesk'] } });
    ids.apiKey = other.body.id;
    expect((await admin('DELETE', `${base()}/api-keys/${ids.apiKey}`)).status).toBe(204);
    expect((await admin('DELETE', `${base()}/roles/helpdesk`)).status).toBe(204);
    expect((await admin('DELETE', u)).status).toBe(204);
    // And some refused ones: a duplicate, a forbidden and a cross-tenant change.
    expect((await admin('POST', `${base()}/roles`, { body: { name: 'dup' } })).status).toBe(201);
    expect((await admin('POST', `${base()}/roles`, { body: { name: 'dup' } })).status).toBe(409);
    expect((await admin('POST', '/api/v1/tenants', { body: { slug: uniqueSlug(), displayName: 'X' } })).status).toBe(
      403,
    );
    expect((await admin('PATCH', '/api/v1/tenants/system', { body: { displayName: 'Mine' } })).status).toBe(404);
    // Refused changes whose URL names what they were aimed at: a stale version, a built-in
    // role, a deleted user, and a user of another tenant (the system admin).
    const grace = await admin('POST', `${base()}/users`, { body: { email: 'grace@example.test' } });
    ids.grace = grace.body.id;
    const stale = await admin('PATCH', `${base()}/users/${ids.grace}`, {
      body: { displayName: 'G' },
      headers: { 'if-match': '"999"' },
    });
    expect(stale.status).toBe(412);
    expect((await admin('DELETE', `${base()}/roles/tenant:admin`)).status).toBeGreaterThanOrEqual(400);
    ids.builtinRole = (await admin('GET', `${base()}/roles/tenant:admin`)).body.id;
    expect((await admin('PUT', `${u}/roles/dup`)).status).toBe(404);
    const sysUsers = await ts.api('GET', '/api/v1/tenants/system/users');
    ids.systemUser = sysUsers.body.items[0].id;
    expect((await admin('DELETE', `${base()}/users/${ids.systemUser}`)).status).toBe(404);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('wrote an event for every change, with time, tenant, actor, action, target, ip and outcome', async () => {
    const events = await all();
    const byActor = events.filter((e) => e.actor.id === adminKeyId && e.outcome === 'success');
    expect(byActor.map((e) => [e.action, e.target?.type, e.target?.id]).reverse()).toEqual([
      ['tenant.update', 'tenant', tenantId],
      ['user.create', 'user', ids.user],
      ['role.create', 'role', ids.role],
      ['user.update', 'user', ids.user],
      ['user.disable', 'user', ids.user],
      ['user.enable', 'user', ids.user],
      ['user.password.set', 'user', ids.user],
      ['user.role.grant', 'user', ids.user],
      ['user.role.revoke', 'user', ids.user],
      ['api_key.create', 'api_key', ids.apiKey],
      ['api_key.delete', 'api_key', ids.apiKey],
      ['role.delete', 'role', ids.role],
      ['user.delete', 'user', ids.user],
      ['role.create', 'role', expect.any(String)],
      ['user.create', 'user', ids.grace],
    ]);
    for (const e of events) {
      expect(e.id).toMatch(/^evt_[0-9a-z]{26}$/);
      expect(e.tenant).toBe(slug);
      expect(new Date(e.occurredAt).toISOString()).toBe(e.occurredAt);
      expect(loopback).toContain(e.ip);
      expect(e.requestId).toEqual(expect.any(String));
      expect(e.actor.type).toBe('api_key');
    }
    // The admin key was made by the system key; that is in this tenant's log too.
    const created = events.find((e) => e.action === 'api_key.create' && e.target?.id === adminKeyId);
    expect(created?.actor).toEqual({ type: 'api_key', id: systemKeyId, name: 'bootstrap', tenantSlug: 'system' });
    // No secret or password in any event.
    const text = JSON.stringify(events);
    expect(text).not.toContain('passphrase');
    expect(text).not.toMatch(/lk_[A-Za-z0-9_-]{20}/);
  });

  it('wrote the refused changes as failures, in the actor’s tenant', async () => {
    const failures = await all('outcome=failure');
    expect(failures.map((e) => [e.action, e.details?.status]).reverse()).toEqual([
      ['role.create', 409],
      ['tenant.create', 403],
      ['tenant.update', 404],
      ['user.update', 412],
      ['role.delete', expect.any(Number)],
      ['user.role.grant', 404],
      ['user.delete', 404],
    ]);
    for (const e of failures) {
      expect(e.actor).toEqual({ type: 'api_key', id: adminKeyId, name: 'admin', tenantSlug: slug });
      expect(loopback).toContain(e.ip);
    }
    // Nothing landed in the system tenant's log for the attempt on it.
    const sys = await ts.api('GET', `/api/v1/tenants/system/audit-events?actor=${adminKeyId}`);
    expect(sys.body.items).toEqual([]);
  });

  it('names what a refused change was aimed at, as its URL names it (@see issue 9, item 21)', async () => {
    const failures = await all('outcome=failure');
    expect(failures.map((e) => [e.action, e.target]).reverse()).toEqual([
      // A creation names nothing yet; a tenant the caller may not see is not named.
      ['role.create', null],
      ['tenant.create', null],
      ['tenant.update', null],
      ['user.update', { type: 'user', id: ids.grace, name: 'grace@example.test', tenantSlug: slug }],
      ['role.delete', { type: 'role', id: ids.builtinRole, name: 'tenant:admin', tenantSlug: slug }],
      // Gone: the id stays, the name is no more.
      ['user.role.grant', { type: 'user', id: ids.user, name: null, tenantSlug: null }],
      // Another tenant's user is recorded by id but never named in this tenant's log.
      ['user.delete', { type: 'user', id: ids.systemUser, name: null, tenantSlug: null }],
    ]);
    const patched = await admin('PATCH', base(), {
      body: { displayName: 'Audited tenant' },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.status).toBe(412);
    const [tenantRefusal] = await all('action=tenant.update&outcome=failure');
    expect(tenantRefusal?.target).toEqual({ type: 'tenant', id: tenantId, name: 'Audited tenant', tenantSlug: slug });
  });

  it('names actors and targets: emails, names and the tenant each lives in', async () => {
    const events = await all();
    const created = events.find((e) => e.action === 'user.create' && e.target?.id === ids.grace);
    expect(created?.actor).toEqual({ type: 'api_key', id: adminKeyId, name: 'admin', tenantSlug: slug });
    expect(created?.target).toEqual({ type: 'user', id: ids.grace, name: 'grace@example.test', tenantSlug: slug });
    const tenantUpdate = events.find((e) => e.action === 'tenant.update' && e.outcome === 'success');
    expect(tenantUpdate?.target).toEqual({ type: 'tenant', id: tenantId, name: 'Audited tenant', tenantSlug: slug });
    // Deleted things keep their ids; their names are gone with them.
    const deleted = events.find((e) => e.action === 'api_key.delete');
    expect(deleted?.target).toEqual({ type: 'api_key', id: ids.apiKey, name: null, tenantSlug: null });
  });

  it('records tenant creation and deletion in the system tenant’s log', async () => {
    const doomed = uniqueSlug('doomed');
    const created = await ts.api('POST', '/api/v1/tenants', { body: { slug: doomed, displayName: 'Doomed' } });
    expect((await ts.api('DELETE', `/api/v1/tenants/${doomed}`)).status).toBe(204);
    const res = await ts.api('GET', `/api/v1/tenants/system/audit-events?target=${created.body.id}`);
    expect(res.body.items.map((e: AuditEvent) => [e.action, e.tenant, e.actor.id])).toEqual([
      ['tenant.delete', 'system', systemKeyId],
      ['tenant.create', 'system', systemKeyId],
    ]);
    const creation = await ts.api('GET', `/api/v1/tenants/system/audit-events?target=${tenantId}`);
    expect(creation.body.items.map((e: AuditEvent) => e.action)).toEqual(['tenant.create']);
  });

  it('does not take the client IP from X-Forwarded-For by default', async () => {
    const res = await admin('POST', `${base()}/users`, {
      body: { email: 'spoof@example.test' },
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    expect(res.status).toBe(201);
    const [event] = await all(`target=${res.body.id}`);
    expect(event?.action).toBe('user.create');
    expect(loopback).toContain(event?.ip);
  });

  it('filters by exact action and by prefix', async () => {
    const exact = await all('action=user.update&outcome=success');
    expect(exact.map((e) => e.action)).toEqual(['user.update']);
    const users = await all('action=user.*');
    expect(users.length).toBeGreaterThanOrEqual(9);
    expect(users.every((e) => e.action.startsWith('user.'))).toBe(true);
    expect(new Set(users.map((e) => e.action))).toContain('user.role.grant');
    const roleGrants = await all('action=user.role.*&outcome=success');
    expect(roleGrants.map((e) => e.action).sort()).toEqual(['user.role.grant', 'user.role.revoke']);
    // A prefix is literal: no SQL wildcards leak through.
    expect(await all('action=user_*')).toEqual([]);
    expect(await all('action=%25')).toEqual([]);
    expect(await all('action=user')).toEqual([]);
    const everything = await all('action=*');
    expect(everything.length).toBe((await all()).length);
  });

  it('filters by actor, target and outcome, combined', async () => {
    const bySystem = await all(`actor=${systemKeyId}`);
    expect(bySystem.map((e) => e.action)).toEqual(['api_key.create']);
    const byAdmin = await all(`actor=${adminKeyId}`);
    expect(byAdmin.every((e) => e.actor.id === adminKeyId)).toBe(true);
    expect(byAdmin.length).toBe((await all()).length - 1);
    const target = await all(`target=${ids.user}&action=user.*&outcome=success`);
    expect(target.length).toBe(8);
    expect(target.every((e) => e.target?.id === ids.user && e.outcome === 'success')).toBe(true);
    const none = await all(`actor=${adminKeyId}&outcome=failure&action=api_key.*`);
    expect(none).toEqual([]);
    expect(await all('actor=key_00000000000000000000000000')).toEqual([]);
  });

  it('filters by time: since inclusive, until exclusive', async () => {
    const events = await all();
    const times = [...new Set(events.map((e) => e.occurredAt))].sort();
    expect(times.length).toBeGreaterThan(2);
    const middle = times[Math.floor(times.length / 2)] ?? '';
    const since = await all(`since=${encodeURIComponent(middle)}`);
    const until = await all(`until=${encodeURIComponent(middle)}`);
    expect(since.every((e) => e.occurredAt >= middle)).toBe(true);
    expect(until.every((e) => e.occurredAt < middle)).toBe(true);
    expect(since.some((e) => e.occurredAt === middle)).toBe(true);
    expect(since.length + until.length).toBe(events.length);
    const last = times[times.length - 1] ?? '';
    const window = await all(
      `since=${encodeURIComponent(middle)}&until=${encodeURIComponent(new Date(Date.parse(last) + 1).toISOString())}`,
    );
    expect(window.map((e) => e.id)).toEqual(since.map((e) => e.id));
    // Offsets are understood.
    const shifted = new Date(Date.parse(middle)).toISOString().replace('Z', '+00:00');
    expect((await all(`since=${encodeURIComponent(shifted)}`)).length).toBe(since.length);
    expect(await all(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
  });

  it('refuses since ≥ until (400 invalid_time_range) and times that are not ISO 8601 (400)', async () => {
    const t = '2030-01-01T00:00:00.000Z';
    for (const q of [`since=${t}&until=${t}`, `since=2030-01-02T00:00:00Z&until=${t}`]) {
      const res = await admin('GET', `${base()}/audit-events?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('invalid_time_range');
    }
    for (const q of ['since=yesterday', 'until=1700000000000', 'since=2030-01-01', 'until=']) {
      const res = await admin('GET', `${base()}/audit-events?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('refuses unknown filters and bad values (400)', async () => {
    for (const q of ['tenant=system', 'ip=127.0.0.1', 'sort=action', 'outcome=maybe', 'limit=0', 'limit=201']) {
      const res = await admin('GET', `${base()}/audit-events?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const cursor = await admin('GET', `${base()}/audit-events?cursor=bm90LWEtY3Vyc29y`);
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.code).toBe('invalid_cursor');
  });

  it('pages through every event newest first, without gaps or repeats', async () => {
    const everything = await all();
    expect(everything.length).toBeGreaterThan(15);
    const times = everything.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    for (const pageSize of [1, 4]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: ApiResponse = await admin(
          'GET',
          `${base()}/audit-events?limit=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(pageSize);
        seen.push(...res.body.items.map((e: AuditEvent) => e.id));
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 500);
      expect(seen).toEqual(everything.map((e) => e.id));
    }
    // Filters keep applying across pages.
    const first = await admin('GET', `${base()}/audit-events?action=user.*&limit=2`);
    const second = await admin('GET', `${base()}/audit-events?action=user.*&limit=2&cursor=${first.body.nextCursor}`);
    expect([...first.body.items, ...second.body.items].every((e: AuditEvent) => e.action.startsWith('user.'))).toBe(
      true,
    );
  });

  it('is readable only with audit:read, and only for the caller’s tenant', async () => {
    expect(
      (await admin('POST', `${base()}/roles`, { body: { name: 'no-audit', permissions: ['users:read'] } })).status,
    ).toBe(201);
    const key = await admin('POST', `${base()}/api-keys`, { body: { name: 'n', roles: ['no-audit'] } });
    const res = await apiClient(ts.url, key.body.secret)('GET', `${base()}/audit-events`);
    expect(res.status).toBe(403);
    expect(res.body.error.details).toEqual({ permission: 'audit:read' });
    const sys = await admin('GET', '/api/v1/tenants/system/audit-events');
    expect(sys.status).toBe(404);
    expect(sys.body.error.code).toBe('tenant_not_found');
    // The system admin reads any tenant's log.
    expect((await ts.api('GET', `${base()}/audit-events`)).status).toBe(200);
  });
});
