/**
 * User imports and exports over HTTP, on both databases: JSON lines in, a background job
 * with progress, refused lines by number, idempotent re-runs, a dry run that writes nothing,
 * imported bcrypt and PBKDF2 hashes that sign in and are replaced by argon2id, roles only
 * as the caller may grant them, and the export (hashes only with their own permission).
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import bcrypt from 'bcryptjs';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { discover, signsIn } from './helpers/oidc.js';
import { type ApiClient, apiClient, createTenant, startTestServer, type TestServer } from './helpers/server.js';

const ndjson = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

describe.each(dialects)('user import and export (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let config: oidc.Configuration;
  const redirectUri = 'https://app.example.test/callback';
  const base = () => `/api/v1/tenants/${slug}`;

  const upload = (body: string, api: ApiClient = ts.api, query = '') =>
    api('POST', `${base()}/users/import${query}`, {
      rawBody: body,
      headers: { 'content-type': 'application/x-ndjson' },
    });

  async function finished(id: string, api: ApiClient = ts.api) {
    for (let i = 0; i < 200; i++) {
      const res = await api('GET', `${base()}/users/imports/${id}`);
      expect(res.status).toBe(200);
      if (res.body.status === 'done' || res.body.status === 'failed') return res.body;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the import did not finish');
  }

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    slug = await createTenant(ts.api);
    const app = await ts.api('POST', `${base()}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(app.status).toBe(201);
    config = await discover(ts, slug, app.body);
    expect(
      (await ts.api('POST', `${base()}/roles`, { body: { name: 'reader', permissions: ['users:read'] } })).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('imports users with roles and hashes, reports refused lines by number, and signs them in with argon2id after', async () => {
    const salt = randomBytes(16);
    const keycloak = {
      algorithm: 'pbkdf2-sha256',
      hashIterations: 1000,
      salt: salt.toString('base64'),
      value: pbkdf2Sync('keycloak pass 1', salt, 1000, 32, 'sha256').toString('base64'),
    };
    const keptId = 'usr_0123456789abcdefghjkmnpqrs';
    const body = ndjson([
      {
        email: 'Ada@Example.test',
        displayName: 'Ada',
        emailVerified: true,
        roles: ['reader'],
        passwordHash: bcrypt.hashSync('bcrypt pass 1', 4),
      },
      { id: keptId, email: 'grace@example.test', passwordHash: keycloak, attributes: { team: 'navy' } },
      'not json',
      { email: 'not an email' },
      { email: 'x@example.test', roles: ['no-such-role'] },
      '',
      { email: 'y@example.test', passwordHash: '$md5$nope' },
      { email: 'z@example.test', unknownField: 1 },
      { email: 'ada@example.test' },
    ]);
    const res = await upload(body);
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`${base()}/users/imports/${res.body.id}`);
    expect(res.body).toMatchObject({ status: 'queued', dryRun: false, lines: 9 });
    const job = await finished(res.body.id);
    expect(job).toMatchObject({ status: 'done', created: 2, existing: 1, failed: 5, processed: 9 });
    // Line 4 is refused as it arrives, the others as the worker applies them: by line number here.
    const failures = job.failures.map((f: { line: number; code: string }) => [f.line, f.code]);
    expect(failures.sort((a: [number], b: [number]) => a[0] - b[0])).toEqual([
      [3, 'invalid_json'],
      [4, 'validation_failed'],
      [5, 'unknown_role'],
      [7, expect.any(String)],
      [8, 'validation_failed'],
    ]);

    const users = await ts.api('GET', `${base()}/users?q=ada`);
    expect(users.body.items).toHaveLength(1);
    expect(users.body.items[0]).toMatchObject({ email: 'ada@example.test', displayName: 'Ada', roles: ['reader'] });
    const grace = await ts.api('GET', `${base()}/users/${keptId}`);
    expect(grace.status).toBe(200);
    expect(grace.body.attributes).toEqual({ team: 'navy' });

    // The imported hashes sign in, a wrong password does not, and the first sign-in rehashes.
    expect(await signsIn(config, redirectUri, 'ada@example.test', 'bcrypt pass 2')).toBe(false);
    expect(await signsIn(config, redirectUri, 'ada@example.test', 'bcrypt pass 1')).toBe(true);
    expect(await signsIn(config, redirectUri, 'grace@example.test', 'keycloak pass 1')).toBe(true);
    const exported = await ts.api('GET', `${base()}/users/export?includeHashes=true`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = exported.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const hashes = Object.fromEntries(lines.map((l) => [l.email, l.passwordHash]));
    expect(hashes['ada@example.test']).toMatch(/^\$argon2id\$/);
    expect(hashes['grace@example.test']).toMatch(/^\$argon2id\$/);
    // Still signs in after the upgrade.
    expect(await signsIn(config, redirectUri, 'ada@example.test', 'bcrypt pass 1')).toBe(true);
  });

  it('changes nothing when the same file runs again, and a dry run writes nothing', async () => {
    const body = ndjson([
      { email: 'again1@example.test', displayName: 'One' },
      { email: 'again2@example.test', displayName: 'Two' },
    ]);
    const first = await finished((await upload(body)).body.id);
    expect(first).toMatchObject({ created: 2, existing: 0, failed: 0 });
    const before = (await ts.api('GET', `${base()}/users?q=again`)).body.items;
    const second = await finished((await upload(body)).body.id);
    expect(second).toMatchObject({ created: 0, existing: 2, failed: 0 });
    expect((await ts.api('GET', `${base()}/users?q=again`)).body.items).toEqual(before);

    const dry = await upload(
      ndjson([{ email: 'dry@example.test' }, { email: 'again1@example.test' }, 'x']),
      ts.api,
      '?dryRun=true',
    );
    expect(dry.status).toBe(202);
    expect(await finished(dry.body.id)).toMatchObject({ dryRun: true, created: 1, existing: 1, failed: 1 });
    expect((await ts.api('GET', `${base()}/users?q=dry`)).body.items).toHaveLength(0);
  });

  it("links imported identities to the tenant's providers, refuses unknown or taken ones by line, and exports them", async () => {
    const idp = await ts.api('POST', `${base()}/identity-providers`, {
      body: {
        slug: 'corp',
        kind: 'oidc',
        displayName: 'Corp',
        issuer: 'https://corp.example.test',
        clientId: 'latchkey',
        clientSecret: 'upstream secret',
      },
    });
    expect(idp.status).toBe(201);
    // The same slug in another tenant is not this tenant's provider.
    const other = await createTenant(ts.api);
    expect(
      (
        await ts.api('POST', `/api/v1/tenants/${other}/identity-providers`, {
          body: {
            slug: 'elsewhere',
            kind: 'oidc',
            displayName: 'X',
            issuer: 'https://x.example.test',
            clientId: 'x',
            clientSecret: 'x',
          },
        })
      ).status,
    ).toBe(201);
    const job = await finished(
      (
        await upload(
          ndjson([
            {
              email: 'fed1@example.test',
              identities: [{ provider: 'corp', subject: 'sub-1', email: 'fed1@corp.test' }],
            },
            { email: 'fed2@example.test', identities: [{ provider: 'corp', subject: 'sub-1' }] },
            { email: 'fed3@example.test', identities: [{ provider: 'elsewhere', subject: 'sub-3' }] },
            { email: 'fed4@example.test', identities: [{ provider: 'corp', subject: '' }] },
          ]),
        )
      ).body.id,
    );
    expect(job).toMatchObject({ created: 1, failed: 3 });
    // Line 4 is refused as it arrives, the others as the worker applies them: by line number here.
    const failures = job.failures.map((f: { line: number; code: string }) => [f.line, f.code]);
    expect(failures.sort((a: [number], b: [number]) => a[0] - b[0])).toEqual([
      [2, 'identity_taken'],
      [3, 'unknown_identity_provider'],
      [4, 'validation_failed'],
    ]);
    const user = (await ts.api('GET', `${base()}/users?q=fed1`)).body.items[0];
    const identities = await ts.api('GET', `${base()}/users/${user.id}/identities`);
    expect(identities.status).toBe(200);
    expect(identities.body.items).toEqual([
      expect.objectContaining({ providerSlug: 'corp', subject: 'sub-1', email: 'fed1@corp.test' }),
    ]);
    const exported = (await ts.api('GET', `${base()}/users/export`)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(exported.find((l) => l.email === 'fed1@example.test')?.identities).toEqual([
      { provider: 'corp', subject: 'sub-1', email: 'fed1@corp.test' },
    ]);
    // Re-running changes nothing: the user exists, no second identity appears.
    expect(
      await finished(
        (await upload(ndjson([{ email: 'fed1@example.test', identities: [{ provider: 'corp', subject: 'sub-1' }] }])))
          .body.id,
      ),
    ).toMatchObject({ created: 0, existing: 1, failed: 0 });
    expect((await ts.api('GET', `${base()}/users/${user.id}/identities`)).body.items).toHaveLength(1);
    // A file naming an existing account with a new identity attaches no way in to it.
    expect(
      await finished(
        (
          await upload(
            ndjson([{ email: 'FED1@example.test', identities: [{ provider: 'corp', subject: 'attacker' }] }]),
          )
        ).body.id,
      ),
    ).toMatchObject({ created: 0, existing: 1, failed: 0 });
    expect((await ts.api('GET', `${base()}/users/${user.id}/identities`)).body.items).toEqual([
      expect.objectContaining({ subject: 'sub-1' }),
    ]);
  });

  it('refuses roles the caller may not grant, before writing anyone, and other media types', async () => {
    const role = await ts.api('POST', `${base()}/roles`, {
      body: { name: 'importer', permissions: ['users:read', 'users:write'] },
    });
    expect(role.status).toBe(201);
    const key = await ts.api('POST', `${base()}/api-keys`, { body: { name: 'importer', roles: ['importer'] } });
    const importer = apiClient(ts.url, key.body.secret);
    const res = await upload(
      ndjson([{ email: 'weak@example.test' }, { email: 'boss@example.test', roles: ['tenant:admin'] }]),
      importer,
    );
    expect(res.status).toBe(403);
    expect(res.body.error.details.roles).toEqual(['tenant:admin']);
    expect((await ts.api('GET', `${base()}/users?q=boss`)).body.items).toHaveLength(0);
    expect((await ts.api('GET', `${base()}/users?q=weak`)).body.items).toHaveLength(0);
    // What it may grant goes through.
    const ok = await upload(ndjson([{ email: 'fine@example.test', roles: ['reader'] }]), importer);
    expect(ok.status).toBe(202);
    expect(await finished(ok.body.id, importer)).toMatchObject({ created: 1 });
    // Hashes leave only with their own permission.
    expect((await importer('GET', `${base()}/users/export?includeHashes=true`)).status).toBe(403);
    const plain = await importer('GET', `${base()}/users/export`);
    expect(plain.status).toBe(200);
    expect(plain.text).toContain('fine@example.test');
    expect(plain.text).not.toContain('passwordHash');

    const json = await ts.api('POST', `${base()}/users/import`, { body: { email: 'a@example.test' } });
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe('unsupported_media_type');
    const anonymous = await upload(ndjson([{ email: 'anon@example.test' }]), apiClient(ts.url, null));
    expect(anonymous.status).toBe(401);
  });

  it('fails an upload that ends before its last line, keeps none of it, and lists it', async () => {
    const url = new URL(`${ts.url}${base()}/users/import`);
    await new Promise<void>((resolve) => {
      const req = request(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${ts.adminKey}`, 'content-type': 'application/x-ndjson' },
      });
      req.on('error', () => resolve());
      req.write(
        `${JSON.stringify({ email: 'cut1@example.test' })}\n${JSON.stringify({ email: 'cut2@example.test' })}\n`,
      );
      // The sender goes away mid-upload.
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    let failed: { status: string; failures: { code: string }[]; lines: number } | undefined;
    for (let i = 0; i < 100 && !failed; i++) {
      const list = await ts.api('GET', `${base()}/users/imports?status=failed`);
      expect(list.status).toBe(200);
      failed = list.body.items.find((j: { failures: { code: string }[] }) =>
        j.failures.some((f) => f.code === 'upload_incomplete'),
      );
      if (!failed) await new Promise((r) => setTimeout(r, 50));
    }
    expect(failed).toMatchObject({ status: 'failed', failures: [{ line: 0, code: 'upload_incomplete' }] });
    expect((await ts.api('GET', `${base()}/users?q=cut`)).body.items).toHaveLength(0);
    const all = await ts.api('GET', `${base()}/users/imports?limit=2`);
    expect(all.body.items).toHaveLength(2);
    expect(all.body.nextCursor).toEqual(expect.any(String));
    const older = await ts.api('GET', `${base()}/users/imports?limit=2&cursor=${all.body.nextCursor}`);
    expect(older.status).toBe(200);
    expect(older.body.items[0].createdAt <= all.body.items[1].createdAt).toBe(true);
  });

  it('refuses NUL bytes, invalid UTF-8 and duplicate keys per line, on either database', async () => {
    const bad = [
      '{"email":"nul\\u0000@example.test"}',
      '{"email":"dup@example.test","email":"dup2@example.test"}',
      `{"email":"ok@example.test","displayName":"${'x'.repeat(10)}"}`,
    ].join('\n');
    const sent = await fetch(`${ts.url}${base()}/users/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ts.adminKey}`, 'content-type': 'application/x-ndjson' },
      body: Buffer.concat([Buffer.from(`${bad}\n`), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]),
    });
    expect(sent.status).toBe(202);
    const job = await finished(((await sent.json()) as { id: string }).id);
    expect(job.created).toBe(1);
    expect(job.failures.map((f: { line: number; code: string }) => f.code)).toEqual([
      'invalid_text',
      'duplicate_key',
      'invalid_encoding',
    ]);
    const unknown = await ts.api('GET', `${base()}/users/imports/imp_0123456789abcdefghjkmnpqrs`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('import_not_found');
  });
});
