/**
 * API keys: the secret is shown once and never again, works as a bearer, records its last
 * use, expires, carries only roles its creator holds, and stops working the moment it is
 * deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import {
  type ApiClient,
  type ApiResponse,
  apiClient,
  createTenant,
  startTestServer,
  type TestServer,
} from './helpers/server.js';

const secretPattern = /^lk_[A-Za-z0-9_-]{43,}$/;

describe.each(dialects)('API keys (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let admin: ApiClient;
  let adminKeyId: string;
  const base = () => `/api/v1/tenants/${slug}`;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    slug = await createTenant(ts.api);
    const key = await ts.api('POST', `${base()}/api-keys`, { body: { name: 'admin', roles: ['tenant:admin'] } });
    expect(key.status).toBe(201);
    adminKeyId = key.body.id;
    admin = apiClient(ts.url, key.body.secret);
    for (const [name, permissions] of [
      ['reader', ['users:read']],
      ['key-maker', ['api_keys:read', 'api_keys:write', 'users:read']],
    ] as const) {
      expect((await admin('POST', `${base()}/roles`, { body: { name, permissions } })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await ts?.close();
  });

  async function create(body: Record<string, unknown>, api: ApiClient = admin): Promise<ApiResponse> {
    return api('POST', `${base()}/api-keys`, { body });
  }

  it('returns the secret once at creation, with the key’s description', async () => {
    const before = Date.now();
    const res = await create({ name: '  CI deploy  ', roles: ['reader'] });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.secret).toMatch(secretPattern);
    // 32 random bytes or more: 43 base64url characters.
    expect(Buffer.from(res.body.secret.slice(3), 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(res.body).toMatchObject({
      name: 'CI deploy',
      roles: ['reader'],
      prefix: res.body.secret.slice(0, 7),
      createdBy: adminKeyId,
      expiresAt: null,
      lastUsedAt: null,
    });
    expect(res.body.id).toMatch(/^key_[0-9a-z]{26}$/);
    expect(Date.parse(res.body.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Object.keys(res.body).sort()).toEqual(
      ['createdAt', 'createdBy', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'roles', 'secret'].sort(),
    );
  });

  it('makes a different secret every time', async () => {
    const secrets = new Set<string>();
    for (let i = 0; i < 5; i++) secrets.add((await create({ name: `k${i}`, roles: ['reader'] })).body.secret);
    expect(secrets.size).toBe(5);
  });

  it('never shows the secret again: not in the list, not in the key, not in the audit log', async () => {
    const res = await create({ name: 'hidden', roles: ['reader'] });
    const { id, secret } = res.body;
    const one = await admin('GET', `${base()}/api-keys/${id}`);
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();
    expect(one.text).not.toContain(secret);
    expect(one.text).not.toContain(secret.slice(3));
    expect(one.body).toEqual(Object.fromEntries(Object.entries(res.body).filter(([k]) => k !== 'secret')));
    for (const path of [`${base()}/api-keys`, `${base()}/api-keys?sort=name`, `${base()}/audit-events`]) {
      const list = await admin('GET', path);
      expect(list.status).toBe(200);
      expect(list.text).not.toContain(secret.slice(3));
      for (const item of list.body.items) {
        expect(item.secret).toBeUndefined();
        expect(JSON.stringify(item)).not.toMatch(/secret|hash/i);
      }
    }
    const sys = await ts.api('GET', '/api/v1/tenants/system/api-keys');
    for (const item of sys.body.items) expect(item.secret).toBeUndefined();
  });

  it('works as a bearer credential with the rights of its roles, and records its last use', async () => {
    const res = await create({ name: 'used', roles: ['reader'] });
    const key = apiClient(ts.url, res.body.secret);
    expect(res.body.lastUsedAt).toBeNull();
    const before = Date.now();
    const users = await key('GET', `${base()}/users`);
    expect(users.status).toBe(200);
    // Only what `reader` allows.
    expect((await key('GET', `${base()}/api-keys`)).status).toBe(403);
    // The last-use time is written in the background; give it a moment to land.
    let lastUsedAt: string | null = null;
    for (let i = 0; i < 50 && !lastUsedAt; i++) {
      lastUsedAt = (await admin('GET', `${base()}/api-keys/${res.body.id}`)).body.lastUsedAt;
      if (!lastUsedAt) await new Promise((r) => setTimeout(r, 20));
    }
    expect(lastUsedAt).not.toBeNull();
    expect(Date.parse(lastUsedAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(lastUsedAt ?? '')).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('accepts the Bearer scheme in any case', async () => {
    const res = await create({ name: 'case', roles: ['reader'] });
    const lower = await ts.api('GET', `${base()}/users`, {
      token: null,
      headers: { authorization: `bearer ${res.body.secret}` },
    });
    expect(lower.status).toBe(200);
  });

  it('works until its expiry time, which is shown', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await create({ name: 'later', roles: ['reader'], expiresAt });
    expect(res.status).toBe(201);
    expect(res.body.expiresAt).toBe(expiresAt);
    expect((await apiClient(ts.url, res.body.secret)('GET', `${base()}/users`)).status).toBe(200);
    // An offset is understood as such.
    const offset = await create({ name: 'offset', roles: ['reader'], expiresAt: '2999-01-01T12:00:00+02:00' });
    expect(offset.status).toBe(201);
    expect(offset.body.expiresAt).toBe('2999-01-01T10:00:00.000Z');
  });

  it('refuses an expiry in the past (400 invalid_expiry) or not a time (400)', async () => {
    for (const expiresAt of [new Date(Date.now() - 1000).toISOString(), '2001-01-01T00:00:00Z']) {
      const res = await create({ name: 'past', roles: ['reader'], expiresAt });
      expect(res.status, expiresAt).toBe(400);
      expect(res.body.error.code).toBe('invalid_expiry');
    }
    for (const expiresAt of ['tomorrow', '2999-01-01', 1_900_000_000_000, '']) {
      const res = await create({ name: 'bad', roles: ['reader'], expiresAt });
      expect(res.status, String(expiresAt)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('refuses unknown roles (400 unknown_role, naming them)', async () => {
    const res = await create({ name: 'x', roles: ['reader', 'ghost', 'phantom'] });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('unknown_role');
    expect(res.body.error.details).toEqual({ roles: ['ghost', 'phantom'] });
    // Roles of another tenant do not exist here.
    const other = await createTenant(ts.api);
    expect((await ts.api('POST', `/api/v1/tenants/${other}/roles`, { body: { name: 'theirs' } })).status).toBe(201);
    const theirs = await create({ name: 'x', roles: ['theirs'] });
    expect(theirs.status).toBe(400);
    expect(theirs.body.error.code).toBe('unknown_role');
  });

  it('refuses a body that is not a key description (400)', async () => {
    for (const body of [
      {},
      { name: 'x' },
      { name: 'x', roles: [] },
      { name: '', roles: ['reader'] },
      { name: '   ', roles: ['reader'] },
      { name: 'x', roles: ['reader'], secret: 'lk_mine' },
      { name: 'x', roles: ['reader'], prefix: 'lk_' },
      { name: 'x', roles: 'reader' },
    ]) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('never holds more than its creator: 403 for roles carrying more, 201 for a subset', async () => {
    const makerRes = await create({ name: 'maker', roles: ['key-maker'] });
    const maker = apiClient(ts.url, makerRes.body.secret);
    for (const roles of [['tenant:admin'], ['key-maker', 'tenant:admin']]) {
      const res = await create({ name: 'up', roles }, maker);
      expect(res.status, roles.join()).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(res.body.error.details).toMatchObject({ roles: ['tenant:admin'] });
    }
    // A role with a permission it lacks.
    expect(
      (await admin('POST', `${base()}/roles`, { body: { name: 'writer', permissions: ['users:write'] } })).status,
    ).toBe(201);
    expect((await create({ name: 'up', roles: ['writer'] }, maker)).status).toBe(403);
    // Its own role, and a role carrying a subset of its rights, are fine.
    const same = await create({ name: 'same', roles: ['key-maker'] }, maker);
    expect(same.status).toBe(201);
    expect(same.body.createdBy).toBe(makerRes.body.id);
    expect((await create({ name: 'less', roles: ['reader'] }, maker)).status).toBe(201);
    // A key that lacks api_keys:write cannot create keys at all.
    const readerRes = await create({ name: 'r', roles: ['reader'] });
    const reader = apiClient(ts.url, readerRes.body.secret);
    expect((await create({ name: 'x', roles: ['reader'] }, reader)).status).toBe(403);
  });

  it('DELETE revokes: the key gets 401 right after, and is gone from the list', async () => {
    const res = await create({ name: 'doomed', roles: ['reader'] });
    const key = apiClient(ts.url, res.body.secret);
    expect((await key('GET', `${base()}/users`)).status).toBe(200);
    const del = await admin('DELETE', `${base()}/api-keys/${res.body.id}`);
    expect(del.status).toBe(204);
    const after = await key('GET', `${base()}/users`);
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    const gone = await admin('GET', `${base()}/api-keys/${res.body.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('api_key_not_found');
    const again = await admin('DELETE', `${base()}/api-keys/${res.body.id}`);
    expect(again.status).toBe(404);
    const list = await admin('GET', `${base()}/api-keys?limit=200`);
    expect(list.body.items.map((k: { id: string }) => k.id)).not.toContain(res.body.id);
  });

  it('cannot delete the key it acts with (409 cannot_delete_self)', async () => {
    const res = await admin('DELETE', `${base()}/api-keys/${adminKeyId}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('cannot_delete_self');
    expect((await admin('GET', `${base()}/api-keys/${adminKeyId}`)).status).toBe(200);
  });

  it('lists keys newest first, paginated, sortable by name', async () => {
    const all = await admin('GET', `${base()}/api-keys?limit=200`);
    const times = all.body.items.map((k: { createdAt: string }) => Date.parse(k.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await admin(
        'GET',
        `${base()}/api-keys?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((k: { id: string }) => k.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((k: { id: string }) => k.id));
    const byName = await admin('GET', `${base()}/api-keys?sort=name&limit=200`);
    const names = byName.body.items.map((k: { name: string }) => k.name);
    expect(names).toEqual([...names].sort());
    expect((await admin('GET', `${base()}/api-keys?sort=secret`)).status).toBe(400);
    expect((await admin('GET', `${base()}/api-keys?role=reader`)).status).toBe(400);
  });

  it('answers 400 for a malformed id and 404 for a key of another tenant', async () => {
    expect((await admin('GET', `${base()}/api-keys/not-a-key`)).status).toBe(400);
    const other = await createTenant(ts.api);
    const theirs = await ts.api('POST', `/api/v1/tenants/${other}/api-keys`, {
      body: { name: 'theirs', roles: ['tenant:admin'] },
    });
    for (const method of ['GET', 'DELETE']) {
      const res = await admin(method, `${base()}/api-keys/${theirs.body.id}`);
      expect(res.status, method).toBe(404);
      expect(res.body.error.code).toBe('api_key_not_found');
    }
    expect((await apiClient(ts.url, theirs.body.secret)('GET', `/api/v1/tenants/${other}`)).status).toBe(200);
  });

  it('records creation and deletion in the audit log, without the secret', async () => {
    const res = await admin('GET', `${base()}/audit-events?action=api_key.*&outcome=success&limit=200`);
    const actions = new Set(res.body.items.map((e: { action: string }) => e.action));
    expect(actions).toEqual(new Set(['api_key.create', 'api_key.delete']));
    for (const e of res.body.items) {
      expect(e.target.type).toBe('api_key');
      expect(JSON.stringify(e.details)).not.toMatch(/lk_/);
    }
  });
});
