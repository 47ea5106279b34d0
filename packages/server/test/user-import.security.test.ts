/**
 * Trying to break the user import: take over an existing account by importing its email with
 * a hash of one's own, claim another tenant's user by its id, read or follow another tenant's
 * import, export another tenant's users, or hand out a role through a file.
 */
import bcrypt from 'bcryptjs';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { discover, signsIn } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'https://app.example.test/callback';

describe.each(dialects)('user import, attacked (%s)', (dialect) => {
  let ts: TestServer;
  let a: { slug: string; api: ApiClient };
  let b: { slug: string; api: ApiClient };
  let configA: oidc.Configuration;

  const upload = (t: { slug: string; api: ApiClient }, lines: unknown[], slug = t.slug) =>
    t.api('POST', `/api/v1/tenants/${slug}/users/import`, {
      rawBody: lines.map((l) => JSON.stringify(l)).join('\n'),
      headers: { 'content-type': 'application/x-ndjson' },
    });
  async function finished(t: { slug: string; api: ApiClient }, id: string) {
    for (let i = 0; i < 200; i++) {
      const res = await t.api('GET', `/api/v1/tenants/${t.slug}/users/imports/${id}`);
      if (res.body.status === 'done') return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('not finished');
  }

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    a = await tenantWithAdmin(ts);
    b = await tenantWithAdmin(ts);
    const app = await a.api('POST', `/api/v1/tenants/${a.slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    configA = await discover(ts, a.slug, app.body);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('never takes over an existing account: its email with another hash is left as it is', async () => {
    const victim = await a.api('POST', `/api/v1/tenants/${a.slug}/users`, {
      body: { email: 'victim@example.test', password: 'the victim password 1' },
    });
    expect(victim.status).toBe(201);
    const res = await upload(a, [
      { email: 'VICTIM@example.test', displayName: 'Mallory', passwordHash: bcrypt.hashSync('mallory password 1', 4) },
    ]);
    expect(res.status).toBe(202);
    expect(await finished(a, res.body.id)).toMatchObject({ created: 0, existing: 1 });
    expect(await signsIn(configA, redirectUri, 'victim@example.test', 'mallory password 1')).toBe(false);
    expect(await signsIn(configA, redirectUri, 'victim@example.test', 'the victim password 1')).toBe(true);
    const after = await a.api('GET', `/api/v1/tenants/${a.slug}/users/${victim.body.id}`);
    expect(after.body.displayName).toBeNull();
  });

  it('cannot claim another tenant’s user by its id', async () => {
    const theirs = await b.api('POST', `/api/v1/tenants/${b.slug}/users`, { body: { email: 'bob@example.test' } });
    const res = await upload(a, [{ id: theirs.body.id, email: 'claimed@example.test' }]);
    const job = await finished(a, res.body.id);
    expect(job).toMatchObject({ created: 0, failed: 1 });
    expect(job.failures[0]).toMatchObject({ line: 1, code: 'id_taken' });
    const still = await b.api('GET', `/api/v1/tenants/${b.slug}/users/${theirs.body.id}`);
    expect(still.body.email).toBe('bob@example.test');
    expect((await a.api('GET', `/api/v1/tenants/${a.slug}/users/${theirs.body.id}`)).status).toBe(404);
  });

  it('keeps each tenant’s imports and export to itself', async () => {
    const res = await upload(a, [{ email: 'private@example.test' }]);
    const id = res.body.id as string;
    await finished(a, id);
    // Another tenant's admin: neither through A's path nor by naming A's job in its own tenant.
    expect((await b.api('GET', `/api/v1/tenants/${a.slug}/users/imports/${id}`)).status).toBe(404);
    const named = await b.api('GET', `/api/v1/tenants/${b.slug}/users/imports/${id}`);
    expect(named.status).toBe(404);
    expect(named.body.error.code).toBe('import_not_found');
    expect((await b.api('GET', `/api/v1/tenants/${a.slug}/users/export`)).status).toBe(404);
    expect((await upload(b, [{ email: 'intruder@example.test' }], a.slug)).status).toBe(404);
    const mine = await b.api('GET', `/api/v1/tenants/${b.slug}/users/export`);
    expect(mine.text).not.toContain('private@example.test');
  });

  it('hands out no role the caller lacks, whatever the line says', async () => {
    // A role of another tenant, and the system role, are unknown here: refused by line.
    const res = await upload(a, [
      { email: 'sys@example.test', roles: ['system:admin'] },
      { email: 'other@example.test', roles: ['role-of-b'] },
    ]);
    const job = await finished(a, res.body.id);
    expect(job.failures.map((f: { code: string }) => f.code)).toEqual(['unknown_role', 'unknown_role']);
    expect((await a.api('GET', `/api/v1/tenants/${a.slug}/users?q=sys`)).body.items).toHaveLength(0);
  });
});
