/**
 * Black-box tests of the user routes of the admin API: create, read, list, change, delete and
 * set a password, with the password policy, on every dialect this run covers.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dialects } from './helpers/databases.js';
import { walkPages } from './helpers/pagination.js';
import {
  type ApiClient,
  type ApiResponse,
  apiClient,
  createTenant,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
  uniqueSlug,
} from './helpers/server.js';

const userIdPattern = /^usr_[0-9a-hjkmnp-tv-z]{26}$/;
const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Well-formed, but no such user exists. */
const unknownUserId = 'usr_00000000000000000000000000';

interface UserItem {
  id: string;
  email: string;
  emailVerified: boolean;
  displayName: string | null;
  status: 'active' | 'disabled';
  attributes: Record<string, unknown>;
  roles: string[];
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
  version: number;
}

const userKeys = [
  'attributes',
  'createdAt',
  'displayName',
  'email',
  'emailVerified',
  'hasPassword',
  'id',
  'lastLoginAt',
  'roles',
  'status',
  'updatedAt',
  'version',
];

/** Every key anywhere in a JSON value, with its value. */
function entriesDeep(value: unknown, out: [string, unknown][] = []): [string, unknown][] {
  if (Array.isArray(value)) {
    for (const v of value) entriesDeep(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([k, v]);
      entriesDeep(v, out);
    }
  }
  return out;
}

/**
 * Asserts a response carries no password, hash or secret of any kind: a key that sounds like
 * one may only hold a yes/no (`hasPassword`, the audit log's `withPassword`).
 */
function expectNoSecrets(res: ApiResponse, password?: string) {
  const suspicious = entriesDeep(res.body).filter(
    ([k, v]) => /pass|hash|secret|salt/i.test(k) && typeof v !== 'boolean',
  );
  expect(suspicious).toEqual([]);
  expect(res.text).not.toMatch(/\$argon2|\$2[aby]\$|pbkdf2/i);
  if (password) expect(res.text).not.toContain(password);
}

async function createUser(api: ApiClient, slug: string, body: Record<string, unknown>): Promise<UserItem> {
  const res = await api('POST', `/api/v1/tenants/${slug}/users`, { body });
  if (res.status !== 201) throw new Error(`user create failed: ${res.status} ${res.text}`);
  return res.body;
}

/** Follows `nextCursor` to the end; checks page sizes on the way. */
const walk = walkPages<UserItem>;

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
const nameKey = (u: UserItem) => (u.displayName ?? '').normalize('NFKC').toLowerCase();

/** The order the API promises for each sort: the field, then the id, both in the sort's direction. */
const orders: Record<string, (a: UserItem, b: UserItem) => number> = {
  email: (a, b) => cmp(a.email, b.email) || cmp(a.id, b.id),
  displayName: (a, b) => cmp(nameKey(a), nameKey(b)) || cmp(a.id, b.id),
  createdAt: (a, b) => cmp(a.createdAt, b.createdAt) || cmp(a.id, b.id),
  updatedAt: (a, b) => cmp(a.updatedAt, b.updatedAt) || cmp(a.id, b.id),
  // Nobody has signed in: all null, so the id decides.
  lastLoginAt: (a, b) => cmp(a.lastLoginAt ?? '', b.lastLoginAt ?? '') || cmp(a.id, b.id),
};

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

describe.each(dialects)('users API (%s)', (dialect) => {
  let ts: TestServer;
  /** A tenant for most tests, and a tenant-admin key (id and client) there. */
  let slug: string;
  let adminKeyId: string;
  let admin: ApiClient;
  const users = (s = slug) => `/api/v1/tenants/${s}/users`;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    slug = await createTenant(ts.api, uniqueSlug('users'));
    const key = await ts.api('POST', `/api/v1/tenants/${slug}/api-keys`, {
      body: { name: 'tenant admin', roles: ['tenant:admin'] },
    });
    expect(key.status, key.text).toBe(201);
    adminKeyId = key.body.id;
    admin = apiClient(ts.url, key.body.secret);
  });
  afterAll(async () => {
    await ts?.close();
  });

  describe('create and read', () => {
    it('creates a user and answers its exact shape, with ETag and Location', async () => {
      const res = await admin('POST', users(), {
        body: { email: '  Alice@Example.COM ', displayName: 'Alice Liddell' },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(userIdPattern),
        email: 'alice@example.com',
        emailVerified: false,
        displayName: 'Alice Liddell',
        status: 'active',
        attributes: {},
        roles: [],
        hasPassword: false,
        createdAt: expect.stringMatching(isoPattern),
        updatedAt: expect.stringMatching(isoPattern),
        lastLoginAt: null,
        version: 1,
      });
      expect(Object.keys(res.body).sort()).toEqual(userKeys);
      expect(res.body.updatedAt).toBe(res.body.createdAt);
      expect(Math.abs(Date.parse(res.body.createdAt) - Date.now())).toBeLessThan(5 * 60_000);
      expect(res.headers.get('etag')).toBe('"1"');
      expect(res.headers.get('location')).toBe(`/api/v1/tenants/${slug}/users/${res.body.id}`);

      const got = await admin('GET', `${users()}/${res.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(res.body);
      expect(got.headers.get('etag')).toBe('"1"');
      const listed = await admin('GET', `${users()}?q=alice@example.com`);
      expect(listed.body).toEqual({ items: [res.body], nextCursor: null });
    });

    it('takes every optional field at creation', async () => {
      const res = await admin('POST', users(), {
        body: {
          email: 'full@example.com',
          emailVerified: true,
          displayName: null,
          status: 'disabled',
          attributes: { plan: 'pro' },
        },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({
        email: 'full@example.com',
        emailVerified: true,
        displayName: null,
        status: 'disabled',
        attributes: { plan: 'pro' },
        hasPassword: false,
      });
      const uni = await admin('POST', users(), { body: { email: 'José@Exämple.com' } });
      expect(uni.status, uni.text).toBe(201);
      expect(uni.body.email).toBe('josé@exämple.com');
    });

    it('refuses malformed emails and bodies with 400 validation_failed', async () => {
      const bad: unknown[] = [
        {},
        { email: '' },
        { email: 'not-an-email' },
        { email: 'a@' },
        { email: '@example.com' },
        { email: 'a b@example.com' },
        { email: `${'a'.repeat(250)}@x.com` },
        { email: 42 },
        { email: null },
        { email: ['a@example.com'] },
        { email: 'ok@example.com', status: 'banned' },
        { email: 'ok@example.com', emailVerified: 'yes' },
        { email: 'ok@example.com', displayName: '' },
        { email: 'ok@example.com', displayName: '   ' },
        { email: 'ok@example.com', displayName: 'x'.repeat(201) },
      ];
      for (const body of bad) {
        const res = await admin('POST', users(), { body });
        expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const list = await admin('GET', `${users()}?q=ok@`);
      expect(list.body.items).toEqual([]);
    });

    it('refuses unknown and server-owned fields, so none can be set through the body', async () => {
      const bad: Record<string, unknown>[] = [
        { roles: ['tenant:admin'] },
        { passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA' },
        { password_hash: 'x' },
        { hasPassword: true },
        { id: unknownUserId },
        { version: 5 },
        { createdAt: '2020-01-01T00:00:00.000Z' },
        { lastLoginAt: '2020-01-01T00:00:00.000Z' },
        { tenantId: 'ten_00000000000000000000000000' },
        { mail: 'x@example.com' },
      ];
      for (const extra of bad) {
        const res = await admin('POST', users(), { body: { email: 'extra@example.com', ...extra } });
        expect(res.status, `${JSON.stringify(extra)}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const user = await createUser(admin, slug, { email: 'patch-extra@example.com' });
      for (const extra of [...bad, { password: 'a-long-enough-pass' }, { email: 'x@example.com', slug: 'system' }]) {
        const res = await admin('PATCH', `${users()}/${user.id}`, { body: extra });
        expect(res.status, `${JSON.stringify(extra)}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const got = await admin('GET', `${users()}/${user.id}`);
      expect(got.body).toEqual(user);
    });

    it('refuses a duplicate email in another case or form with 409 email_taken', async () => {
      const bob = await createUser(admin, slug, { email: 'bob@x.com' });
      for (const email of ['Bob@X.com', 'BOB@X.COM', ' bob@x.com ', 'ｂｏｂ@ｘ.com']) {
        const res = await admin('POST', users(), { body: { email, displayName: 'Other Bob' } });
        expect(res.status, `${email}: ${res.text}`).toBe(409);
        expect(res.body.error.code).toBe('email_taken');
      }
      // The other way round: stored lower case first, then the mixed-case one is the duplicate.
      await createUser(admin, slug, { email: 'Carol@Y.com' });
      const carol = await admin('POST', users(), { body: { email: 'carol@y.com' } });
      expect(carol.status).toBe(409);
      expect(carol.body.error.code).toBe('email_taken');

      // Changing another user's email onto Bob's is refused too.
      const dave = await createUser(admin, slug, { email: 'dave@x.com' });
      const clash = await admin('PATCH', `${users()}/${dave.id}`, { body: { email: 'BOB@x.com' } });
      expect(clash.status).toBe(409);
      expect(clash.body.error.code).toBe('email_taken');
      expect((await admin('GET', `${users()}/${dave.id}`)).body).toEqual(dave);

      const bobs = await admin('GET', `${users()}?q=bob@`);
      expect(bobs.body.items.map((u: UserItem) => u.id)).toEqual([bob.id]);
    });

    it('treats the same email in two tenants as two accounts', async () => {
      const other = await createTenant(ts.api);
      const here = await createUser(admin, slug, { email: 'twin@example.com', displayName: 'Here' });
      const there = await createUser(ts.api, other, { email: 'TWIN@example.com', displayName: 'There' });
      expect(there.id).not.toBe(here.id);
      expect(there.email).toBe('twin@example.com');
      expect((await ts.api('GET', `${users(other)}/${here.id}`)).status).toBe(404);
      expect((await admin('GET', `${users()}/${there.id}`)).status).toBe(404);
      await ts.api('DELETE', `${users(other)}/${there.id}`);
      expect((await admin('GET', `${users()}/${here.id}`)).body.displayName).toBe('Here');
    });
  });

  describe('ids', () => {
    it('answers 404 user_not_found for a well-formed unknown id on every user route', async () => {
      const calls: [string, string, unknown][] = [
        ['GET', '', undefined],
        ['PATCH', '', { displayName: 'x' }],
        ['DELETE', '', undefined],
        ['POST', '/password', { password: 'a-good-long-password' }],
        ['PUT', '/roles/tenant:admin', undefined],
      ];
      for (const [method, suffix, body] of calls) {
        const res = await admin(method, `${users()}/${unknownUserId}${suffix}`, { body });
        expect(res.status, `${method} ${suffix}: ${res.text}`).toBe(404);
        expect(res.body.error.code).toBe('user_not_found');
      }
    });

    it('answers 400 for a malformed id', async () => {
      const user = await createUser(admin, slug, { email: 'ids@example.com' });
      const bad = [
        'usr_123',
        'abc',
        user.id.toUpperCase(),
        `${user.id}x`,
        'ten_00000000000000000000000000',
        'usr_0000000000000000000000000i',
        "usr_'%20or%201=1--",
      ];
      for (const id of bad) {
        for (const method of ['GET', 'PATCH', 'DELETE']) {
          const res = await admin(method, `${users()}/${id}`, {
            body: method === 'PATCH' ? { displayName: 'x' } : undefined,
          });
          expect(res.status, `${method} ${id}: ${res.text}`).toBe(400);
          expect(res.body.error.code).toBe('validation_failed');
        }
      }
      expect((await admin('GET', `${users()}/${user.id}`)).body).toEqual(user);
    });

    it('never reaches a user of another tenant through this tenant’s path', async () => {
      const other = await tenantWithAdmin(ts);
      const victim = await createUser(other.api, other.slug, { email: 'victim@example.com' });
      const calls: [string, string, unknown][] = [
        ['GET', '', undefined],
        ['PATCH', '', { status: 'disabled' }],
        ['DELETE', '', undefined],
        ['POST', '/password', { password: 'attacker-chosen-pw-1' }],
        ['PUT', '/roles/tenant:admin', undefined],
      ];
      for (const [method, suffix, body] of calls) {
        // With the system key through the wrong tenant, and with this tenant's admin key.
        for (const client of [ts.api, admin]) {
          const res = await client(method, `${users()}/${victim.id}${suffix}`, { body });
          expect(res.status, `${method} ${suffix}`).toBe(404);
          expect(res.body.error.code).toBe('user_not_found');
        }
        const direct = await admin(method, `${users(other.slug)}/${victim.id}${suffix}`, { body });
        expect(direct.status, `${method} ${suffix}`).toBe(404);
        expect(direct.body.error.code).toBe('tenant_not_found');
      }
      expect((await other.api('GET', `${users(other.slug)}/${victim.id}`)).body).toEqual(victim);
    });
  });

  describe('secrets', () => {
    it('never answers a password, hash or secret, and says whether a password is set', async () => {
      const password = `Correct-Horse-${randomBytes(6).toString('hex')}`;
      const withPw = await admin('POST', users(), { body: { email: 'haspw@example.com', password } });
      expect(withPw.status, withPw.text).toBe(201);
      expect(withPw.body.hasPassword).toBe(true);
      expect(Object.keys(withPw.body).sort()).toEqual(userKeys);
      expectNoSecrets(withPw, password);

      const without = await admin('POST', users(), { body: { email: 'nopw@example.com' } });
      expect(without.body.hasPassword).toBe(false);
      expectNoSecrets(without);

      const got = await admin('GET', `${users()}/${withPw.body.id}`);
      expect(got.body.hasPassword).toBe(true);
      expectNoSecrets(got, password);
      const patched = await admin('PATCH', `${users()}/${withPw.body.id}`, { body: { displayName: 'Has PW' } });
      expect(patched.body.hasPassword).toBe(true);
      expectNoSecrets(patched, password);
      const list = await admin('GET', `${users()}?limit=200`);
      expectNoSecrets(list, password);
      const listed = list.body.items as UserItem[];
      expect(listed.find((u) => u.id === withPw.body.id)?.hasPassword).toBe(true);
      expect(listed.find((u) => u.id === without.body.id)?.hasPassword).toBe(false);
      const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?limit=200`);
      expectNoSecrets(audit, password);
    });

    it('sets a password with POST …/password', async () => {
      const user = await createUser(admin, slug, { email: 'setpw@example.com' });
      expect(user.hasPassword).toBe(false);
      const password = `Another-Good-One-${randomBytes(4).toString('hex')}`;
      const res = await admin('POST', `${users()}/${user.id}/password`, { body: { password } });
      expect(res.status, res.text).toBe(204);
      expect(res.text).toBe('');
      const got = await admin('GET', `${users()}/${user.id}`);
      expect(got.body.hasPassword).toBe(true);
      expect(got.body.version).toBe(user.version + 1);
      expect(got.headers.get('etag')).toBe(`"${user.version + 1}"`);
      expectNoSecrets(got, password);

      for (const body of [
        {},
        { password: '' },
        { password: 12345678 },
        { password, extra: true },
        { pass: password },
      ]) {
        const bad = await admin('POST', `${users()}/${user.id}/password`, { body });
        expect(bad.status, JSON.stringify(body)).toBe(400);
        expect(bad.body.error.code).toBe('validation_failed');
      }
    });
  });

  describe('password policy', () => {
    let strict: string;
    beforeAll(async () => {
      strict = uniqueSlug('strict');
      const res = await ts.api('POST', '/api/v1/tenants', {
        body: { slug: strict, displayName: 'Strict', settings: { passwordMinLength: 12 } },
      });
      expect(res.status, res.text).toBe(201);
    });

    async function refused(tenant: string, password: string, code: string) {
      const email = `pw-${randomBytes(4).toString('hex')}@example.com`;
      const res = await ts.api('POST', users(tenant), { body: { email, password } });
      expect(res.status, `${JSON.stringify(password)}: ${res.text}`).toBe(400);
      expect(res.body.error.code, JSON.stringify(password)).toBe(code);
      // Nothing was created.
      expect((await ts.api('GET', `${users(tenant)}?q=${email}`)).body.items).toEqual([]);
      return res;
    }

    it('honours the tenant’s minimum length on create and on set', async () => {
      const short = await refused(strict, 'elevenchars', 'password_too_short');
      expect(short.body.error.details).toEqual({ minLength: 12 });
      await refused(slug, 'seven77', 'password_too_short');
      // Code points count, not UTF-16 units: four emoji are four characters.
      await refused(slug, '\u{1F511}\u{1F510}\u{1F512}\u{1F513}', 'password_too_short');

      const ok = await ts.api('POST', users(strict), {
        body: { email: 'twelve@example.com', password: 'twelve-chars' },
      });
      expect(ok.status, ok.text).toBe(201);
      expect(ok.body.hasPassword).toBe(true);
      const eight = await ts.api('POST', users(), { body: { email: 'eight@example.com', password: 'eight-ch' } });
      expect(eight.status, eight.text).toBe(201);

      const set = await ts.api('POST', `${users(strict)}/${ok.body.id}/password`, { body: { password: 'too-short' } });
      expect(set.status).toBe(400);
      expect(set.body.error.code).toBe('password_too_short');
      const unchanged = await ts.api('GET', `${users(strict)}/${ok.body.id}`);
      expect(unchanged.body.version).toBe(ok.body.version);
    });

    it('refuses passwords over 256 characters with password_too_long', async () => {
      await refused(slug, `${'x1'.repeat(128)}y`, 'password_too_long');
      await refused(slug, '\u{1F511}'.repeat(257), 'password_too_long');
      const huge = await ts.api('POST', users(), { body: { email: 'huge@example.com', password: 'z'.repeat(10_000) } });
      expect(huge.status).toBe(400);
      expect(['password_too_long', 'validation_failed']).toContain(huge.body.error.code);

      const max = await ts.api('POST', users(), { body: { email: 'max@example.com', password: 'x1'.repeat(128) } });
      expect(max.status, max.text).toBe(201);
    });

    it('refuses common passwords, in any case and after NFKC normalisation', async () => {
      for (const password of ['password123', 'qwertyuiop', 'PASSWORD123', 'Qwertyuiop', 'iloveyou', '12345678']) {
        await refused(slug, password, 'password_too_common');
      }
      // Fullwidth letters and digits normalise (NFKC) to "password123" and "qwertyuiop".
      await refused(slug, 'ｐａｓｓｗｏｒｄ１２３', 'password_too_common');
      await refused(slug, 'ｑｗｅｒｔｙｕｉｏｐ', 'password_too_common');
      // On the set-password route too.
      const user = await createUser(ts.api, slug, { email: 'common@example.com' });
      const set = await ts.api('POST', `${users()}/${user.id}/password`, {
        body: { password: 'ｐａｓｓｗｏｒｄ１２３' },
      });
      expect(set.status).toBe(400);
      expect(set.body.error.code).toBe('password_too_common');
      expect((await ts.api('GET', `${users()}/${user.id}`)).body.hasPassword).toBe(false);
    });

    it('refuses the email address as the password', async () => {
      const res = await ts.api('POST', users(), {
        body: { email: 'Same.As.Email@Example.com', password: 'same.as.email@example.com' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('password_is_email');
    });

    it('does not truncate: long passwords differing only at the end are both accepted', async () => {
      const base = `no-truncation-${randomBytes(8).toString('hex')}-`.padEnd(99, 'q');
      for (const last of ['1', '2']) {
        const res = await ts.api('POST', users(), {
          body: { email: `trunc-${last}@example.com`, password: `${base}${last}` },
        });
        expect(res.status, res.text).toBe(201);
        expect(res.body.hasPassword).toBe(true);
        expect(`${base}${last}`).toHaveLength(100);
      }
    });
  });

  describe('attributes', () => {
    it('stores any JSON object and replaces it as a whole on PATCH', async () => {
      const attributes = {
        plan: 'pro',
        seats: 12,
        ratio: 0.5,
        beta: true,
        none: null,
        nested: { tags: ['a', 'b'], deep: { x: [1, { y: 'z' }] } },
        unicode: 'Grüße 👋',
      };
      const user = await createUser(admin, slug, { email: 'attrs@example.com', attributes });
      expect(user.attributes).toEqual(attributes);
      expect((await admin('GET', `${users()}/${user.id}`)).body.attributes).toEqual(attributes);
      const replaced = await admin('PATCH', `${users()}/${user.id}`, { body: { attributes: { only: 1 } } });
      expect(replaced.status, replaced.text).toBe(200);
      expect(replaced.body.attributes).toEqual({ only: 1 });
      const cleared = await admin('PATCH', `${users()}/${user.id}`, { body: { attributes: {} } });
      expect(cleared.body.attributes).toEqual({});
    });

    it('limits attributes to 16 KiB of JSON, counted in bytes', async () => {
      const wrapper = JSON.stringify({ blob: '' }).length; // {"blob":""}
      const atLimit = { blob: 'x'.repeat(16_384 - wrapper) };
      expect(Buffer.byteLength(JSON.stringify(atLimit))).toBe(16_384);
      const ok = await admin('POST', users(), { body: { email: 'at-limit@example.com', attributes: atLimit } });
      expect(ok.status, ok.text).toBe(201);

      const over = { blob: 'x'.repeat(16_384 - wrapper + 1) };
      const multibyte = { blob: 'é'.repeat(8_200) }; // 8,200 characters, 16,400 bytes
      for (const attributes of [over, multibyte, { blob: 'x'.repeat(100_000) }]) {
        const res = await admin('POST', users(), { body: { email: 'too-big@example.com', attributes } });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
        const patch = await admin('PATCH', `${users()}/${ok.body.id}`, { body: { attributes } });
        expect(patch.status).toBe(400);
      }
      expect((await admin('GET', `${users()}/${ok.body.id}`)).body.attributes).toEqual(atLimit);
    });

    it('refuses attributes that are not a JSON object', async () => {
      const tooMany = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]));
      for (const attributes of [[], [1, 2], 'text', 42, true, null, { '': 1 }, { ['k'.repeat(101)]: 1 }, tooMany]) {
        const res = await admin('POST', users(), { body: { email: 'bad-attrs@example.com', attributes } });
        expect(res.status, JSON.stringify(attributes).slice(0, 50)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
      const ok = await admin('POST', users(), { body: { email: 'hundred@example.com', attributes: hundred } });
      expect(ok.status, ok.text).toBe(201);
    });
  });

  describe('changes', () => {
    it('changes status between active and disabled', async () => {
      const user = await createUser(admin, slug, { email: 'status@example.com' });
      const off = await admin('PATCH', `${users()}/${user.id}`, { body: { status: 'disabled' } });
      expect(off.status).toBe(200);
      expect(off.body.status).toBe('disabled');
      const on = await admin('PATCH', `${users()}/${user.id}`, { body: { status: 'active' } });
      expect(on.body.status).toBe('active');
      for (const status of ['banned', 'Disabled', '', null, 1]) {
        const res = await admin('PATCH', `${users()}/${user.id}`, { body: { status } });
        expect(res.status, JSON.stringify(status)).toBe(400);
      }
      expect((await admin('GET', `${users()}/${user.id}`)).body.status).toBe('active');
    });

    it('resets emailVerified when the email changes, unless the request sets it', async () => {
      const user = await createUser(admin, slug, { email: 'verified@example.com', emailVerified: true });
      expect(user.emailVerified).toBe(true);

      const name = await admin('PATCH', `${users()}/${user.id}`, { body: { displayName: 'Only the name' } });
      expect(name.body.emailVerified).toBe(true);
      // The same address in another case is no change.
      const sameAddr = await admin('PATCH', `${users()}/${user.id}`, { body: { email: 'VERIFIED@example.com' } });
      expect(sameAddr.status).toBe(200);
      expect(sameAddr.body.email).toBe('verified@example.com');
      expect(sameAddr.body.emailVerified).toBe(true);

      const moved = await admin('PATCH', `${users()}/${user.id}`, { body: { email: 'Moved@Example.com' } });
      expect(moved.status, moved.text).toBe(200);
      expect(moved.body.email).toBe('moved@example.com');
      expect(moved.body.emailVerified).toBe(false);
      expect((await admin('GET', `${users()}/${user.id}`)).body.emailVerified).toBe(false);

      const given = await admin('PATCH', `${users()}/${user.id}`, {
        body: { email: 'moved-again@example.com', emailVerified: true },
      });
      expect(given.body.email).toBe('moved-again@example.com');
      expect(given.body.emailVerified).toBe(true);

      // The old addresses are free again; the new one is taken.
      expect((await admin('POST', users(), { body: { email: 'verified@example.com' } })).status).toBe(201);
      expect((await admin('POST', users(), { body: { email: 'moved-again@example.com' } })).status).toBe(409);
    });

    it('changes and clears the display name, keeping what the request leaves out', async () => {
      const user = await createUser(admin, slug, {
        email: 'names@example.com',
        displayName: 'Before',
        attributes: { keep: true },
      });
      const renamed = await admin('PATCH', `${users()}/${user.id}`, { body: { displayName: '  After  ' } });
      expect(renamed.body).toMatchObject({
        displayName: 'After',
        attributes: { keep: true },
        email: 'names@example.com',
      });
      const cleared = await admin('PATCH', `${users()}/${user.id}`, { body: { displayName: null } });
      expect(cleared.body.displayName).toBeNull();
      expect(cleared.body.version).toBe(3);
      expect(cleared.body.createdAt).toBe(user.createdAt);
      expect(Date.parse(cleared.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(user.updatedAt));
    });

    it('deletes a user', async () => {
      const user = await createUser(admin, slug, { email: 'gone@example.com' });
      const del = await admin('DELETE', `${users()}/${user.id}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      const got = await admin('GET', `${users()}/${user.id}`);
      expect(got.status).toBe(404);
      expect(got.body.error.code).toBe('user_not_found');
      expect((await admin('DELETE', `${users()}/${user.id}`)).status).toBe(404);
      const again = await createUser(admin, slug, { email: 'gone@example.com' });
      expect(again.id).not.toBe(user.id);
    });
  });

  describe('If-Match', () => {
    it('answers 412 on a stale version for PATCH and DELETE, and carries the ETag', async () => {
      const user = await createUser(admin, slug, { email: 'etag@example.com' });
      const first = await admin('PATCH', `${users()}/${user.id}`, {
        body: { displayName: 'One' },
        headers: { 'if-match': '"1"' },
      });
      expect(first.status, first.text).toBe(200);
      expect(first.body.version).toBe(2);
      expect(first.headers.get('etag')).toBe('"2"');

      const stale = await admin('PATCH', `${users()}/${user.id}`, {
        body: { displayName: 'Stale' },
        headers: { 'if-match': '"1"' },
      });
      expect(stale.status).toBe(412);
      expect(stale.body.error.code).toBe('version_mismatch');
      const got = await admin('GET', `${users()}/${user.id}`);
      expect(got.body.displayName).toBe('One');
      expect(got.headers.get('etag')).toBe('"2"');

      const bad = await admin('PATCH', `${users()}/${user.id}`, {
        body: { displayName: 'Bad' },
        headers: { 'if-match': 'v2' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_if_match');

      const star = await admin('PATCH', `${users()}/${user.id}`, {
        body: { displayName: 'Star' },
        headers: { 'if-match': '*' },
      });
      expect(star.status).toBe(200);
      expect(star.headers.get('etag')).toBe('"3"');

      const staleDelete = await admin('DELETE', `${users()}/${user.id}`, { headers: { 'if-match': '"2"' } });
      expect(staleDelete.status).toBe(412);
      expect(staleDelete.body.error.code).toBe('version_mismatch');
      expect((await admin('GET', `${users()}/${user.id}`)).status).toBe(200);
      const del = await admin('DELETE', `${users()}/${user.id}`, { headers: { 'if-match': '"3"' } });
      expect(del.status).toBe(204);
      expect((await admin('GET', `${users()}/${user.id}`)).status).toBe(404);
    });

    it('sees a password change as a new version', async () => {
      const user = await createUser(admin, slug, { email: 'etag-pw@example.com' });
      await admin('POST', `${users()}/${user.id}/password`, { body: { password: 'a-brand-new-secret' } });
      const stale = await admin('PATCH', `${users()}/${user.id}`, {
        body: { displayName: 'x' },
        headers: { 'if-match': '"1"' },
      });
      expect(stale.status).toBe(412);
    });
  });

  describe('request bodies', () => {
    it('answers 413 payload_too_large for a body over the limit', async () => {
      const rawBody = JSON.stringify({ email: 'big@example.com', attributes: { a: 'x'.repeat(1_100_000) } });
      const res = await admin('POST', users(), { rawBody });
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('payload_too_large');
      expect((await admin('GET', `${users()}?q=big@`)).body.items).toEqual([]);
    });

    it('answers 400 invalid_json for a body that is not JSON', async () => {
      for (const rawBody of ['{"email":', '{email: "a@example.com"}', "{'email':'a@example.com'}", '']) {
        const res = await admin('POST', users(), { rawBody });
        expect(res.status, rawBody).toBe(400);
        expect(res.body.error.code, rawBody).toBe('invalid_json');
      }
    });

    it('takes an empty body labelled JSON as no body where a route takes none', async () => {
      const user = await createUser(admin, slug, { email: 'empty-body@example.com' });
      const role = `${users()}/${user.id}/roles/tenant:admin`;
      // As `curl -H 'Content-Type: application/json' -X PUT` sends it, with nothing after.
      expect((await admin('PUT', role, { rawBody: '' })).status).toBe(204);
      expect((await admin('GET', `${users()}/${user.id}`)).body.roles).toEqual(['tenant:admin']);
      expect((await admin('DELETE', role, { rawBody: '' })).status).toBe(204);
      expect((await admin('GET', `${users()}/${user.id}`)).body.roles).toEqual([]);
      // Bad JSON is still bad where there is no body to take.
      const broken = await admin('PUT', role, { rawBody: '{"x":' });
      expect(broken.status).toBe(400);
      expect(broken.body.error.code).toBe('invalid_json');
    });

    it('refuses a JSON body carrying __proto__', async () => {
      const res = await admin('POST', users(), {
        rawBody: '{"email":"proto@example.com","__proto__":{"status":"disabled"}}',
      });
      expect(res.status).toBe(400);
      expect((await admin('GET', `${users()}?q=proto@`)).body.items).toEqual([]);
    });

    it('answers 415 for a body that is not declared JSON', async () => {
      for (const [type, rawBody] of [
        ['application/x-www-form-urlencoded', 'email=form%40example.com'],
        ['text/plain', '{"email":"plain@example.com"}'],
        ['application/xml', '<user><email>xml@example.com</email></user>'],
        [
          'multipart/form-data; boundary=x',
          '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nm@x.com\r\n--x--',
        ],
      ] as const) {
        const res = await admin('POST', users(), { rawBody, headers: { 'content-type': type } });
        expect(res.status, `${type}: ${res.text}`).toBe(415);
        expect(res.body.error.code).toBe('unsupported_media_type');
      }
      const charset = await admin('POST', users(), {
        rawBody: '{"email":"charset@example.com"}',
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expect(charset.status, charset.text).toBe(201);
    });

    it('refuses a body that is JSON but not an object', async () => {
      const user = await createUser(admin, slug, { email: 'nonobject@example.com' });
      for (const rawBody of ['[]', '"text"', '42', 'null']) {
        const res = await admin('PATCH', `${users()}/${user.id}`, { rawBody });
        expect(res.status, rawBody).toBe(400);
      }
    });
  });

  describe('audit', () => {
    it('records every change with the acting API key and the user as target', async () => {
      const user = await createUser(admin, slug, { email: 'audited@example.com' });
      await admin('PATCH', `${users()}/${user.id}`, { body: { displayName: 'Audited' } });
      await admin('PATCH', `${users()}/${user.id}`, { body: { status: 'disabled' } });
      await admin('PATCH', `${users()}/${user.id}`, { body: { status: 'active' } });
      await admin('POST', `${users()}/${user.id}/password`, { body: { password: 'audit-trail-secret-1' } });
      await admin('PUT', `${users()}/${user.id}/roles/tenant:admin`);
      await admin('DELETE', `${users()}/${user.id}`);

      const created = await admin('GET', `/api/v1/tenants/${slug}/audit-events?action=user.create`);
      expect(created.status).toBe(200);
      const event = (created.body.items as { target: { id: string } | null }[]).find((e) => e.target?.id === user.id);
      expect(event).toEqual({
        id: expect.stringMatching(/^evt_/),
        occurredAt: expect.stringMatching(isoPattern),
        tenant: slug,
        actor: { type: 'api_key', id: adminKeyId, name: expect.any(String), tenantSlug: slug },
        action: 'user.create',
        // Deleted by now: the id stays, the email is gone with the user.
        target: { type: 'user', id: user.id, name: null, tenantSlug: null },
        outcome: 'success',
        ip: expect.stringMatching(/127\.0\.0\.1|::1/),
        requestId: expect.any(String),
        details: expect.objectContaining({ email: 'audited@example.com' }),
      });

      const actions = [
        'user.create',
        'user.update',
        'user.disable',
        'user.enable',
        'user.password.set',
        'user.role.grant',
        'user.delete',
      ];
      const trail = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${user.id}`);
      expect(trail.status).toBe(200);
      expect(trail.body.items.map((e: { action: string }) => e.action).sort()).toEqual([...actions].sort());
      // Newest first (two events in one millisecond may come in either order).
      const times = trail.body.items.map((e: { occurredAt: string }) => e.occurredAt);
      expect(times).toEqual([...times].sort().reverse());
      for (const e of trail.body.items) {
        expect(e).toMatchObject({ actor: { type: 'api_key', id: adminKeyId }, outcome: 'success', tenant: slug });
        expect(e.target).toMatchObject({ type: 'user', id: user.id });
      }
      expect(trail.text).not.toContain('audit-trail-secret-1');

      // The filter by action and actor finds it as well.
      const byActor = await ts.api(
        'GET',
        `/api/v1/tenants/${slug}/audit-events?action=user.delete&actor=${adminKeyId}&limit=200`,
      );
      expect(byActor.body.items.some((e: { target: { id: string } | null }) => e.target?.id === user.id)).toBe(true);
    });

    it('records a refused change as a failure, without the password', async () => {
      await createUser(admin, slug, { email: 'refused@example.com' });
      const since = new Date().toISOString();
      const dup = await admin('POST', users(), {
        body: { email: 'REFUSED@example.com', password: 'leaky-password-1' },
      });
      expect(dup.status).toBe(409);
      // Refusals are recorded once the answer is sent: wait for the event, not for a time.
      await vi.waitFor(
        async () => {
          const failures = await admin(
            'GET',
            `/api/v1/tenants/${slug}/audit-events?action=user.create&outcome=failure&since=${since}`,
          );
          expect(failures.status).toBe(200);
          expect(failures.body.items).toEqual([
            expect.objectContaining({
              action: 'user.create',
              outcome: 'failure',
              actor: expect.objectContaining({ type: 'api_key', id: adminKeyId }),
              details: { status: 409, url: users() },
            }),
          ]);
          expect(failures.text).not.toContain('leaky-password-1');
        },
        { timeout: 5_000, interval: 20 },
      );
    });
  });

  describe('lists', () => {
    let listSlug: string;
    let all: UserItem[];
    const disabled = new Set<string>();
    const support = new Set<string>();
    let firstId: string;
    let both: string;

    beforeAll(async () => {
      listSlug = await createTenant(ts.api, uniqueSlug('list'));
      const role = await ts.api('POST', `/api/v1/tenants/${listSlug}/roles`, {
        body: { name: 'support', permissions: ['users:read'] },
      });
      expect(role.status, role.text).toBe(201);
      const names = (i: number): string | null => {
        switch (i % 6) {
          case 0:
            return null;
          case 1:
            return 'Same Name';
          case 2:
            return `Zed ${i}`;
          case 3:
            return `Émile ${i}`;
          case 4:
            return `ｆｕｌｌ ${i}`; // NFKC: "full …"
          default:
            return `${i % 2 ? 'Alpha' : 'alpha'} ${i}`;
        }
      };
      const indexes = Array.from({ length: 120 }, (_, i) => i);
      const created = new Map<number, UserItem>();
      await pool(indexes, 6, async (i) => {
        // Emails in another order than creation.
        const n = String((i * 7) % 120).padStart(3, '0');
        const user = await createUser(ts.api, listSlug, {
          email: i % 8 === 0 ? `U${n}@List.Example` : `u${n}@list.example`,
          displayName: names(i),
          status: i % 10 === 4 ? 'disabled' : 'active',
        });
        created.set(i, user);
      });
      await pool(indexes, 6, async (i) => {
        const user = created.get(i) as UserItem;
        if (i % 10 === 4) disabled.add(user.id);
        if (i % 17 === 0) {
          const res = await ts.api('PUT', `${users(listSlug)}/${user.id}/roles/support`);
          expect(res.status, res.text).toBe(204);
          support.add(user.id);
        }
        if (i % 9 === 0) {
          const res = await ts.api('PATCH', `${users(listSlug)}/${user.id}`, { body: { attributes: { touched: i } } });
          expect(res.status).toBe(200);
        }
      });
      firstId = (created.get(0) as UserItem).id;
      both = (created.get(34) as UserItem).id;
      const grant = await ts.api('PUT', `${users(listSlug)}/${firstId}/roles/tenant:admin`);
      expect(grant.status).toBe(204);
      const res = await ts.api('GET', `${users(listSlug)}?limit=200`);
      expect(res.status).toBe(200);
      expect(res.body.nextCursor).toBeNull();
      all = res.body.items;
      expect(all).toHaveLength(120);
    });

    const path = () => users(listSlug);
    const ids = (items: UserItem[]) => items.map((u) => u.id);

    it('sorts by email by default and pages 50 at a time', async () => {
      const first = await ts.api('GET', path());
      expect(first.status).toBe(200);
      expect(first.body.items).toHaveLength(50);
      expect(typeof first.body.nextCursor).toBe('string');
      expect(ids(first.body.items)).toEqual(ids([...all].sort(orders.email)).slice(0, 50));
      expect(all.every((u) => u.email === u.email.toLowerCase())).toBe(true);
      for (const limit of ['201', '0', '-5', 'x']) {
        const res = await ts.api('GET', `${path()}?limit=${limit}`);
        expect(res.status, limit).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
    });

    it('walks all 120 users exactly once, in order, for every sort field and direction', async () => {
      for (const [field, order] of Object.entries(orders)) {
        for (const descending of [false, true]) {
          const sort = descending ? `-${field}` : field;
          const walked = await walk(ts.api, path(), { sort, limit: '50' });
          expect(walked, sort).toHaveLength(120);
          expect(new Set(ids(walked)).size, sort).toBe(120);
          const expected = [...all].sort(order);
          if (descending) expected.reverse();
          expect(ids(walked), sort).toEqual(ids(expected));
        }
      }
    });

    it('walks shared and missing display names with -displayName at small page sizes', async () => {
      // 20 users share "Same Name" and 20 have none: pages end in the middle of both runs.
      const expected = ids([...all].sort(orders.displayName).reverse());
      for (const limit of ['7', '19', '20', '21']) {
        const walked = await walk(ts.api, path(), { sort: '-displayName', limit });
        expect(ids(walked), limit).toEqual(expected);
      }
      const active = await walk(ts.api, path(), { sort: '-displayName', limit: '13', status: 'active' });
      expect(ids(active)).toEqual(expected.filter((id) => !disabled.has(id)));
    });

    it('searches by email prefix and display-name prefix, case-insensitively', async () => {
      const byQuery = async (q: string) => {
        const items = await walk(ts.api, path(), { q, limit: '200' });
        return ids(items).sort();
      };
      const expectMatches = async (q: string, match: (u: UserItem) => boolean) => {
        const expected = ids(all.filter(match)).sort();
        expect(expected.length, q).toBeGreaterThan(0);
        expect(await byQuery(q), q).toEqual(expected);
      };
      await expectMatches('u00', (u) => u.email.startsWith('u00'));
      await expectMatches('U00', (u) => u.email.startsWith('u00'));
      await expectMatches('u011@list.example', (u) => u.email === 'u011@list.example');
      await expectMatches('same', (u) => u.displayName === 'Same Name');
      await expectMatches('SAME NAME', (u) => u.displayName === 'Same Name');
      await expectMatches('alpha', (u) => /^alpha/i.test(u.displayName ?? ''));
      await expectMatches('ALPHA 1', (u) => /^alpha 1/i.test(u.displayName ?? ''));
      await expectMatches('émile', (u) => u.displayName?.startsWith('Émile') ?? false);
      await expectMatches('ÉMILE', (u) => u.displayName?.startsWith('Émile') ?? false);
      await expectMatches('full', (u) => u.displayName?.startsWith('ｆｕｌｌ') ?? false);
      await expectMatches('ｆｕｌｌ', (u) => u.displayName?.startsWith('ｆｕｌｌ') ?? false);
      // Prefix only; wildcards are literal.
      for (const q of ['name', 'list.example', '%', '_', 'u%', 'u_0', '\\']) {
        expect(await byQuery(q), q).toEqual([]);
      }
      // Search, filter and sort together, paged.
      const walked = await walk(ts.api, path(), { q: 'u', sort: '-createdAt', limit: '50', status: 'active' });
      expect(ids(walked)).toEqual(
        ids(
          [...all]
            .filter((u) => u.status === 'active')
            .sort(orders.createdAt)
            .reverse(),
        ),
      );
    });

    it('filters by status', async () => {
      expect(disabled.size).toBe(12);
      const off = await ts.api('GET', `${path()}?status=disabled&limit=200`);
      expect(ids(off.body.items).sort()).toEqual([...disabled].sort());
      expect(off.body.items.every((u: UserItem) => u.status === 'disabled')).toBe(true);
      const on = await walk(ts.api, path(), { status: 'active', limit: '50' });
      expect(on).toHaveLength(108);
      expect(on.some((u) => disabled.has(u.id))).toBe(false);
      for (const q of ['status=Disabled', 'status=banned', 'status=', 'status=active&status=disabled']) {
        const res = await ts.api('GET', `${path()}?${q}`);
        expect(res.status, q).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
    });

    it('filters by role and shows each user’s roles', async () => {
      expect(support.size).toBe(8);
      const holders = await ts.api('GET', `${path()}?role=support&limit=200`);
      expect(holders.status).toBe(200);
      expect(ids(holders.body.items).sort()).toEqual([...support].sort());
      const first = holders.body.items.find((u: UserItem) => u.id === firstId);
      expect(first.roles).toEqual(['support', 'tenant:admin']);
      for (const u of holders.body.items as UserItem[]) {
        expect(u.roles).toContain('support');
      }
      const admins = await ts.api('GET', `${path()}?role=tenant:admin`);
      expect(ids(admins.body.items)).toEqual([firstId]);
      const paged = await walk(ts.api, path(), { role: 'support', limit: '3', sort: '-email' });
      expect(ids(paged)).toEqual(ids(all.filter((u) => support.has(u.id)).sort(orders.email)).reverse());
      const combined = await ts.api('GET', `${path()}?role=support&status=disabled`);
      expect(ids(combined.body.items)).toEqual([both]);
      expect((await ts.api('GET', `${users(listSlug)}/${both}`)).body.roles).toEqual(['support']);
    });

    it('refuses an unknown role with 400 unknown_role', async () => {
      // "support" exists in the list tenant only; role names are case-sensitive.
      for (const [tenant, role] of [
        [listSlug, 'nonexistent'],
        [listSlug, 'Support'],
        [listSlug, 'system:admin'],
        [slug, 'support'],
      ] as const) {
        const res = await ts.api('GET', `${users(tenant)}?role=${encodeURIComponent(role)}`);
        expect(res.status, `${tenant} ${role}`).toBe(400);
        expect(res.body.error.code).toBe('unknown_role');
      }
      const grant = await ts.api('PUT', `${users(listSlug)}/${firstId}/roles/nonexistent`);
      expect(grant.status).toBe(404);
      expect(grant.body.error.code).toBe('role_not_found');
    });

    it('refuses unknown sort fields and unknown filters', async () => {
      for (const sort of [
        'name',
        'password',
        'passwordHash',
        'password_hash',
        'name_sort',
        'users.email',
        'status',
        'id',
        '-',
        '--email',
        'email desc',
        'email;drop table users',
        '',
      ]) {
        const res = await ts.api('GET', `${path()}?sort=${encodeURIComponent(sort)}`);
        expect(res.status, sort).toBe(400);
        expect(res.body.error.code, sort).toBe('invalid_sort');
      }
      for (const query of ['email=u000@list.example', 'emailVerified=true', 'tenant=system', 'tenant_id=x', 'page=2']) {
        const res = await ts.api('GET', `${path()}?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
    });

    it('refuses tampered, foreign and mistyped cursors with a 400, never a 500', async () => {
      const page = await ts.api('GET', `${path()}?limit=10&sort=displayName`);
      const cursor = page.body.nextCursor as string;
      const other = await ts.api('GET', `${path()}?limit=10&sort=-displayName&cursor=${cursor}`);
      expect(other.status).toBe(400);
      expect(other.body.error.code).toBe('invalid_cursor');
      const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const cases: [string, string][] = [
        ['email', 'nonsense'],
        ['email', `${cursor}x`],
        ['email', encode({ s: 'email', v: ['a'], id: firstId })],
        ['email', encode({ s: 'email', v: 'a', id: null })],
        ['createdAt', encode({ s: 'createdAt', v: 'yesterday', id: firstId })],
        ['-updatedAt', encode({ s: '-updatedAt', v: 1.5, id: firstId })],
        ['lastLoginAt', encode({ s: 'lastLoginAt', v: 'never', id: firstId })],
        ['-lastLoginAt', encode({ s: '-lastLoginAt', v: 1e300, id: firstId })],
      ];
      for (const [sort, c] of cases) {
        const res = await ts.api('GET', `${path()}?sort=${sort}&cursor=${encodeURIComponent(c)}`);
        expect(res.status, `${sort} ${c}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('invalid_cursor');
      }
      // A cursor for this list does not open another tenant's users.
      const foreign = await ts.api('GET', `${users()}?limit=10&sort=displayName&cursor=${cursor}`);
      expect(foreign.status).toBe(200);
      expect(foreign.body.items.some((u: UserItem) => all.some((a) => a.id === u.id))).toBe(false);
    });
  });
});
