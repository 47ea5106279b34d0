/**
 * Black-box tests of the tenant routes of the admin API: create, read, list, change and
 * delete, on every dialect this run covers.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dialects } from './helpers/databases.js';
import { walkPages } from './helpers/pagination.js';
import {
  apiClient,
  createApiKey,
  createTenant,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
  uniqueSlug,
} from './helpers/server.js';

const tenantIdPattern = /^ten_[0-9a-hjkmnp-tv-z]{26}$/;
const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const DAY = 86_400;
/**
 * The defaults of the settings this issue defines. Later features add groups of their own, so
 * responses are checked to contain these exactly (each group compared whole).
 */
const defaultSettings = {
  selfRegistration: false,
  passwordMinLength: 8,
  lifetimes: {
    accessTokenSeconds: 3600,
    refreshTokenIdleSeconds: 14 * DAY,
    refreshTokenAbsoluteSeconds: 30 * DAY,
    sessionIdleSeconds: DAY,
    sessionAbsoluteSeconds: 14 * DAY,
  },
  lockout: { maxFailures: 10, durationSeconds: 900 },
  allowedOrigins: [],
  branding: { logoUrl: null, primaryColor: '#1f6feb', loginMessage: null },
};

interface TenantItem {
  id: string;
  slug: string;
  displayName: string;
  createdAt: string;
  updatedAt: string;
}

/** Follows `nextCursor` to the end; checks page sizes on the way. */
const walk = walkPages<TenantItem>;

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

describe.each(dialects)('tenants API (%s)', (dialect) => {
  let ts: TestServer;
  let bootstrapKeyId: string;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const keys = await ts.api('GET', '/api/v1/tenants/system/api-keys');
    expect(keys.status).toBe(200);
    const key = keys.body.items.find((k: { prefix: string }) => ts.adminKey.startsWith(k.prefix));
    expect(key).toBeDefined();
    bootstrapKeyId = key.id;
  });
  afterAll(async () => {
    await ts?.close();
  });

  describe('create and read', () => {
    it('creates a tenant with default settings and answers its exact shape', async () => {
      const slug = uniqueSlug('new');
      const res = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'Acme Corp' } });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(tenantIdPattern),
        slug,
        displayName: 'Acme Corp',
        settings: expect.objectContaining(defaultSettings),
        createdAt: expect.stringMatching(isoPattern),
        updatedAt: expect.stringMatching(isoPattern),
        version: 1,
      });
      expect(res.body.updatedAt).toBe(res.body.createdAt);
      expect(Math.abs(Date.parse(res.body.createdAt) - Date.now())).toBeLessThan(5 * 60_000);
      expect(res.headers.get('etag')).toBe('"1"');
      expect(res.headers.get('location')).toBe(`/api/v1/tenants/${slug}`);

      const got = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual(res.body);
      expect(got.headers.get('etag')).toBe('"1"');

      const list = await ts.api('GET', `/api/v1/tenants?q=${slug}`);
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ items: [res.body], nextCursor: null });
    });

    it('takes settings at creation and fills in the rest with defaults', async () => {
      const slug = uniqueSlug('cfg');
      const res = await ts.api('POST', '/api/v1/tenants', {
        body: {
          slug,
          displayName: '  Configured  ',
          settings: {
            selfRegistration: true,
            passwordMinLength: 12,
            lifetimes: { accessTokenSeconds: 600 },
            branding: { primaryColor: '#000000' },
            allowedOrigins: ['https://app.example.com'],
          },
        },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body.displayName).toBe('Configured');
      expect(res.body.settings).toEqual(
        expect.objectContaining({
          ...defaultSettings,
          selfRegistration: true,
          passwordMinLength: 12,
          lifetimes: { ...defaultSettings.lifetimes, accessTokenSeconds: 600 },
          branding: { ...defaultSettings.branding, primaryColor: '#000000' },
          allowedOrigins: ['https://app.example.com'],
        }),
      );
    });

    it('gives every tenant its own id', async () => {
      const a = await ts.api('POST', '/api/v1/tenants', { body: { slug: uniqueSlug(), displayName: 'A' } });
      const b = await ts.api('POST', '/api/v1/tenants', { body: { slug: uniqueSlug(), displayName: 'B' } });
      expect(a.body.id).toMatch(tenantIdPattern);
      expect(b.body.id).toMatch(tenantIdPattern);
      expect(a.body.id).not.toBe(b.body.id);
    });

    it('answers 404 tenant_not_found for an unknown slug on every tenant route', async () => {
      const slug = uniqueSlug('nobody');
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { displayName: 'x' }],
        ['DELETE', undefined],
      ] as const) {
        const res = await ts.api(method, `/api/v1/tenants/${slug}`, { body });
        expect(res.status, `${method} ${res.text}`).toBe(404);
        expect(res.body.error.code).toBe('tenant_not_found');
      }
    });

    it('requires a credential and system:admin to create tenants', async () => {
      const anon = await ts.api('POST', '/api/v1/tenants', {
        token: null,
        body: { slug: uniqueSlug(), displayName: 'x' },
      });
      expect(anon.status).toBe(401);
      const bad = await ts.api('POST', '/api/v1/tenants', {
        token: `lk_${randomBytes(32).toString('base64url')}`,
        body: { slug: uniqueSlug(), displayName: 'x' },
      });
      expect(bad.status).toBe(401);
      const admin = await tenantWithAdmin(ts);
      const slug = uniqueSlug();
      const res = await admin.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'x' } });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect((await ts.api('GET', `/api/v1/tenants/${slug}`)).status).toBe(404);
      // Nor delete its own tenant.
      const del = await admin.api('DELETE', `/api/v1/tenants/${admin.slug}`);
      expect(del.status).toBe(403);
      expect((await ts.api('GET', `/api/v1/tenants/${admin.slug}`)).status).toBe(200);
    });

    it('lets a tenant admin list and read only its own tenant', async () => {
      const admin = await tenantWithAdmin(ts);
      const other = await createTenant(ts.api);
      const list = await admin.api('GET', '/api/v1/tenants?limit=200');
      expect(list.status).toBe(200);
      expect(list.body.items.map((t: TenantItem) => t.slug)).toEqual([admin.slug]);
      expect((await admin.api('GET', `/api/v1/tenants/${admin.slug}`)).status).toBe(200);
      const foreign = await admin.api('GET', `/api/v1/tenants/${other}`);
      expect(foreign.status).toBe(404);
      expect(foreign.body.error.code).toBe('tenant_not_found');
      expect((await admin.api('GET', '/api/v1/tenants/system')).status).toBe(404);
      const patch = await admin.api('PATCH', `/api/v1/tenants/${other}`, { body: { displayName: 'pwned' } });
      expect(patch.status).toBe(404);
      expect((await ts.api('GET', `/api/v1/tenants/${other}`)).body.displayName).toBe(`Tenant ${other}`);
    });
  });

  describe('slugs', () => {
    it('accepts 3 to 63 characters of a-z, 0-9 and -', async () => {
      const r = randomBytes(4).toString('hex');
      const good = [
        `a${r.slice(0, 2)}`,
        `0${r.slice(0, 2)}`,
        `${r}-${'x'.repeat(63 - r.length - 1)}`,
        `a-b-${r}`,
        `${r}--9`,
      ];
      for (const slug of good) {
        expect(slug.length).toBeGreaterThanOrEqual(3);
        expect(slug.length).toBeLessThanOrEqual(63);
        const res = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: slug } });
        expect(res.status, `${slug}: ${res.text}`).toBe(201);
        expect(res.body.slug).toBe(slug);
        expect((await ts.api('GET', `/api/v1/tenants/${slug}`)).status).toBe(200);
      }
    });

    it('refuses malformed slugs with 400 validation_failed', async () => {
      const bad: unknown[] = [
        '',
        'ab',
        'x'.repeat(64),
        'ABC',
        'Acme',
        'a_b',
        'a b',
        'a.b',
        'a/b',
        'abc/../system',
        'ábc',
        'ａｂｃ',
        '-abc',
        'abc-',
        'abc\n',
        ' abc',
        42,
        null,
      ];
      for (const slug of bad) {
        const res = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'x' } });
        expect(res.status, `${JSON.stringify(slug)}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const missing = await ts.api('POST', '/api/v1/tenants', { body: { displayName: 'x' } });
      expect(missing.status).toBe(400);
      expect(missing.body.error.code).toBe('validation_failed');
      // A missing field is named as missing.
      expect(missing.body.error.details).toEqual([
        expect.objectContaining({ in: 'body', path: '/slug', message: 'Required', code: 'invalid_type' }),
      ]);
      // A slug in the path is checked the same way.
      const upper = await ts.api('GET', '/api/v1/tenants/SYSTEM');
      expect(upper.status).toBe(400);
      expect(upper.body.error.code).toBe('validation_failed');
    });

    it('refuses a duplicate slug with 409 tenant_exists and leaves the first tenant alone', async () => {
      const slug = uniqueSlug('dup');
      const first = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'First' } });
      expect(first.status).toBe(201);
      const second = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'Second' } });
      expect(second.status).toBe(409);
      expect(second.body.error.code).toBe('tenant_exists');
      const system = await ts.api('POST', '/api/v1/tenants', { body: { slug: 'system', displayName: 'Evil' } });
      expect(system.status).toBe(409);
      expect(system.body.error.code).toBe('tenant_exists');
      const got = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(got.body).toEqual(first.body);
      expect((await ts.api('GET', '/api/v1/tenants/system')).body.displayName).not.toBe('Evil');
    });

    it('keeps the slug immutable: PATCH with a slug is a 400', async () => {
      const slug = await createTenant(ts.api);
      const renamed = uniqueSlug('renamed');
      for (const s of [renamed, slug]) {
        const res = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { slug: s, displayName: 'New' } });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const got = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(got.body.slug).toBe(slug);
      expect(got.body.displayName).toBe(`Tenant ${slug}`);
      expect(got.body.version).toBe(1);
      expect((await ts.api('GET', `/api/v1/tenants/${renamed}`)).status).toBe(404);
    });
  });

  describe('settings', () => {
    it('merges nested groups on PATCH', async () => {
      const slug = uniqueSlug('merge');
      const created = await ts.api('POST', '/api/v1/tenants', {
        body: {
          slug,
          displayName: 'Merge',
          settings: {
            branding: { logoUrl: 'https://cdn.example.com/logo.png', loginMessage: 'Welcome' },
            lifetimes: { accessTokenSeconds: 900 },
          },
        },
      });
      expect(created.status, created.text).toBe(201);

      const color = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { settings: { branding: { primaryColor: '#ff0000' } } },
      });
      expect(color.status, color.text).toBe(200);
      expect(color.body.settings.branding).toEqual({
        logoUrl: 'https://cdn.example.com/logo.png',
        primaryColor: '#ff0000',
        loginMessage: 'Welcome',
      });
      expect(color.body.settings.lifetimes).toEqual({ ...defaultSettings.lifetimes, accessTokenSeconds: 900 });
      expect(color.body.displayName).toBe('Merge');

      const lifetimes = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { settings: { lifetimes: { sessionIdleSeconds: 3600 } }, displayName: 'Merged' },
      });
      expect(lifetimes.status, lifetimes.text).toBe(200);
      expect(lifetimes.body.displayName).toBe('Merged');
      expect(lifetimes.body.settings.lifetimes).toEqual({
        ...defaultSettings.lifetimes,
        accessTokenSeconds: 900,
        sessionIdleSeconds: 3600,
      });
      expect(lifetimes.body.settings.branding.primaryColor).toBe('#ff0000');
      expect(lifetimes.body.settings.branding.logoUrl).toBe('https://cdn.example.com/logo.png');

      const top = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } });
      expect(top.status).toBe(200);
      expect(top.body.settings).toEqual({ ...lifetimes.body.settings, selfRegistration: true });

      // null clears a nullable branding field; the others stay.
      const cleared = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { settings: { branding: { logoUrl: null } } },
      });
      expect(cleared.status).toBe(200);
      expect(cleared.body.settings.branding).toEqual({
        logoUrl: null,
        primaryColor: '#ff0000',
        loginMessage: 'Welcome',
      });

      // An empty patch changes nothing but still counts as a change.
      const empty = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: {} });
      expect(empty.status).toBe(200);
      expect(empty.body.settings).toEqual(cleared.body.settings);

      const got = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(got.body).toEqual(empty.body);
      expect(got.body.version).toBe(6);
      expect(Date.parse(got.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(got.body.createdAt));
      expect(got.body.createdAt).toBe(created.body.createdAt);
    });

    it('enforces the order of lifetimes with 400 invalid_settings, against stored values too', async () => {
      const slug = await createTenant(ts.api);
      const bad = [
        { accessTokenSeconds: 7200, refreshTokenIdleSeconds: 3600 },
        { refreshTokenIdleSeconds: 40 * DAY }, // over the stored absolute (30 days)
        { refreshTokenIdleSeconds: 10 * DAY, refreshTokenAbsoluteSeconds: 5 * DAY },
        { refreshTokenAbsoluteSeconds: 7 * DAY }, // under the stored idle (14 days)
        { sessionIdleSeconds: 2 * DAY, sessionAbsoluteSeconds: DAY },
        { sessionIdleSeconds: 20 * DAY }, // over the stored absolute (14 days)
        { accessTokenSeconds: DAY, refreshTokenIdleSeconds: 3600, refreshTokenAbsoluteSeconds: 3600 },
      ];
      for (const lifetimes of bad) {
        const res = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { lifetimes } } });
        expect(res.status, `${JSON.stringify(lifetimes)}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('invalid_settings');
        expect(res.body.error.details).toEqual(
          expect.arrayContaining([expect.objectContaining({ path: expect.stringMatching(/^\/settings\/lifetimes/) })]),
        );
      }
      const got = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(got.body.version).toBe(1);
      expect(got.body.settings).toEqual(expect.objectContaining(defaultSettings));

      // Equal values are allowed (≤).
      const equal = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: {
          settings: {
            lifetimes: {
              accessTokenSeconds: 3600,
              refreshTokenIdleSeconds: 3600,
              refreshTokenAbsoluteSeconds: 3600,
              sessionIdleSeconds: 7200,
              sessionAbsoluteSeconds: 7200,
            },
          },
        },
      });
      expect(equal.status, equal.text).toBe(200);
      expect(equal.body.settings.lifetimes).toEqual({
        accessTokenSeconds: 3600,
        refreshTokenIdleSeconds: 3600,
        refreshTokenAbsoluteSeconds: 3600,
        sessionIdleSeconds: 7200,
        sessionAbsoluteSeconds: 7200,
      });

      // At creation too.
      const create = await ts.api('POST', '/api/v1/tenants', {
        body: {
          slug: uniqueSlug(),
          displayName: 'x',
          settings: { lifetimes: { sessionIdleSeconds: 30 * DAY } },
        },
      });
      expect(create.status).toBe(400);
      expect(create.body.error.code).toBe('invalid_settings');
    });

    it('refuses out-of-range and mistyped setting values', async () => {
      const slug = await createTenant(ts.api);
      const bad: unknown[] = [
        { passwordMinLength: 7 },
        { passwordMinLength: 0 },
        { passwordMinLength: -1 },
        { passwordMinLength: 8.5 },
        { passwordMinLength: '12' },
        { passwordMinLength: 257 },
        { selfRegistration: 'yes' },
        { lifetimes: { accessTokenSeconds: 0 } },
        { lifetimes: { accessTokenSeconds: -60 } },
        { lifetimes: { accessTokenSeconds: 2 * DAY } },
        { lifetimes: { refreshTokenAbsoluteSeconds: 366 * DAY } },
        { lockout: { maxFailures: 0 } },
        { branding: { primaryColor: 'red' } },
        { branding: { primaryColor: '#12345' } },
        { branding: { logoUrl: 'javascript:alert(1)' } },
        { branding: { logoUrl: 'data:image/png;base64,AAAA' } },
        { branding: { loginMessage: 'x'.repeat(1001) } },
        { allowedOrigins: 'https://app.example.com' },
        { lifetimes: null },
        { branding: 'none' },
      ];
      for (const settings of bad) {
        const res = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings } });
        expect(res.status, `${JSON.stringify(settings)}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const ok = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { passwordMinLength: 8 } } });
      expect(ok.status).toBe(200);
      expect(ok.body.version).toBe(2);
      const twelve = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { settings: { passwordMinLength: 12 } },
      });
      expect(twelve.body.settings.passwordMinLength).toBe(12);
    });

    it('refuses unknown fields anywhere in the body', async () => {
      const slug = await createTenant(ts.api);
      const bad: unknown[] = [
        { displayName: 'x', color: 'red' },
        { id: 'ten_00000000000000000000000000' },
        { version: 7 },
        { createdAt: '2020-01-01T00:00:00.000Z' },
        { settings: { theme: 'dark' } },
        { settings: { branding: { logo: 'https://cdn.example.com/l.png' } } },
        { settings: { branding: { primaryColour: '#000000' } } },
        { settings: { lifetimes: { accessToken: 60 } } },
        { settings: { lockout: { maxAttempts: 3 } } },
        { settings: { passwordMinLenght: 12 } },
        { constructor: 'x' },
      ];
      for (const body of bad) {
        const res = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body });
        expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      // A literal __proto__ key as sent on the wire.
      const proto = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        rawBody: '{"settings":{"__proto__":{"passwordMinLength":4}}}',
      });
      expect(proto.status).toBe(400);
      const created = await ts.api('POST', '/api/v1/tenants', {
        body: { slug: uniqueSlug(), displayName: 'x', settings: { branding: { logo: 'x' } } },
      });
      expect(created.status).toBe(400);
      expect(created.body.error.code).toBe('validation_failed');
      const extraTop = await ts.api('POST', '/api/v1/tenants', {
        body: { slug: uniqueSlug(), displayName: 'x', owner: 'me' },
      });
      expect(extraTop.status).toBe(400);

      const got = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(got.body.version).toBe(1);
      expect(got.body.settings).toEqual(expect.objectContaining(defaultSettings));
    });

    it('accepts only origins in allowedOrigins', async () => {
      const slug = await createTenant(ts.api);
      const good = [
        'https://app.example.com',
        'http://localhost:3000',
        'https://a.example.com:8443',
        'http://[::1]:8080',
      ];
      const ok = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { allowedOrigins: good } } });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.settings.allowedOrigins).toEqual(good);

      const bad = [
        'https://app.example.com/',
        'https://app.example.com/path',
        'https://app.example.com?x=1',
        'https://app.example.com#frag',
        'https://user:pw@app.example.com',
        'app.example.com',
        '*',
        'https://*.example.com',
        'ftp://files.example.com',
        'javascript:alert(1)',
        'null',
        '',
      ];
      for (const origin of bad) {
        const res = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
          body: { settings: { allowedOrigins: [origin] } },
        });
        expect(res.status, `${origin}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      expect((await ts.api('GET', `/api/v1/tenants/${slug}`)).body.settings.allowedOrigins).toEqual(good);

      // Replaced as a whole, not merged.
      const replaced = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { settings: { allowedOrigins: ['https://other.example.com'] } },
      });
      expect(replaced.body.settings.allowedOrigins).toEqual(['https://other.example.com']);
    });

    it('refuses a bad display name', async () => {
      const slug = await createTenant(ts.api);
      for (const displayName of ['', '   ', 'x'.repeat(201), null, 5]) {
        const res = await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { displayName } });
        expect(res.status, JSON.stringify(displayName)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
    });
  });

  describe('If-Match', () => {
    it('answers 412 on a stale version and bumps the version on success', async () => {
      const slug = await createTenant(ts.api);
      const got = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(got.headers.get('etag')).toBe('"1"');

      const first = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { displayName: 'One' },
        headers: { 'if-match': '"1"' },
      });
      expect(first.status, first.text).toBe(200);
      expect(first.body.version).toBe(2);
      expect(first.headers.get('etag')).toBe('"2"');

      const stale = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { displayName: 'Stale' },
        headers: { 'if-match': '"1"' },
      });
      expect(stale.status).toBe(412);
      expect(stale.body.error.code).toBe('version_mismatch');
      const after = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(after.body.displayName).toBe('One');
      expect(after.body.version).toBe(2);
      expect(after.headers.get('etag')).toBe('"2"');

      const future = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { displayName: 'Future' },
        headers: { 'if-match': '"3"' },
      });
      expect(future.status).toBe(412);

      // Any of several ETags, weak ones too.
      const several = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { displayName: 'Two' },
        headers: { 'if-match': '"9", W/"2"' },
      });
      expect(several.status, several.text).toBe(200);
      expect(several.body.version).toBe(3);

      const star = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { displayName: 'Star' },
        headers: { 'if-match': '*' },
      });
      expect(star.status).toBe(200);
      expect(star.body.version).toBe(4);
      expect(star.headers.get('etag')).toBe('"4"');
    });

    it('refuses a malformed If-Match with 400 invalid_if_match', async () => {
      const slug = await createTenant(ts.api);
      for (const value of ['1', 'abc', '"abc"', '"1', '"-1"', '"1.0"', '"1",', 'W/1', '"99999999999999999999"']) {
        const res = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
          body: { displayName: 'x' },
          headers: { 'if-match': value },
        });
        expect(res.status, `${value}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('invalid_if_match');
      }
      const del = await ts.api('DELETE', `/api/v1/tenants/${slug}`, { headers: { 'if-match': 'nope' } });
      expect(del.status).toBe(400);
      expect(del.body.error.code).toBe('invalid_if_match');
      const got = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(got.status).toBe(200);
      expect(got.body.version).toBe(1);
    });

    it('honours If-Match on DELETE', async () => {
      const slug = await createTenant(ts.api);
      await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { displayName: 'v2' } });
      const stale = await ts.api('DELETE', `/api/v1/tenants/${slug}`, { headers: { 'if-match': '"1"' } });
      expect(stale.status).toBe(412);
      expect(stale.body.error.code).toBe('version_mismatch');
      expect((await ts.api('GET', `/api/v1/tenants/${slug}`)).status).toBe(200);
      const ok = await ts.api('DELETE', `/api/v1/tenants/${slug}`, { headers: { 'if-match': '"2"' } });
      expect(ok.status).toBe(204);
      expect(ok.text).toBe('');
      expect((await ts.api('GET', `/api/v1/tenants/${slug}`)).status).toBe(404);
    });
  });

  describe('deletion', () => {
    it('protects the system tenant', async () => {
      for (const headers of [{}, { 'if-match': '*' }] as Record<string, string>[]) {
        const res = await ts.api('DELETE', '/api/v1/tenants/system', { headers });
        expect(res.status).toBe(409);
        expect(res.body.error.code).toBe('system_tenant_protected');
      }
      const got = await ts.api('GET', '/api/v1/tenants/system');
      expect(got.status).toBe(200);
      expect(got.body.slug).toBe('system');
      // The bootstrap key still works.
      expect((await ts.api('GET', '/api/v1/tenants/system/users')).status).toBe(200);
    });

    it('deletes all of a tenant’s data', async () => {
      const admin = await tenantWithAdmin(ts);
      const { slug } = admin;
      const before = await ts.api('GET', `/api/v1/tenants/${slug}`);
      const role = await admin.api('POST', `/api/v1/tenants/${slug}/roles`, {
        body: { name: 'support', permissions: ['users:read'] },
      });
      expect(role.status, role.text).toBe(201);
      const user = await admin.api('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email: 'keep@example.com', displayName: 'Keep' },
      });
      expect(user.status, user.text).toBe(201);
      const grant = await admin.api('PUT', `/api/v1/tenants/${slug}/users/${user.body.id}/roles/support`);
      expect(grant.status, grant.text).toBe(204);
      const supportKey = await createApiKey(admin.api, slug, ['support'], 'support key');
      const support = apiClient(ts.url, supportKey);
      expect((await support('GET', `/api/v1/tenants/${slug}/users`)).status).toBe(200);
      expect((await admin.api('GET', `/api/v1/tenants/${slug}/users`)).body.items).toHaveLength(1);

      const del = await ts.api('DELETE', `/api/v1/tenants/${slug}`);
      expect(del.status, del.text).toBe(204);

      for (const client of [admin.api, support]) {
        const res = await client('GET', `/api/v1/tenants/${slug}/users`);
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
      }
      const gone = await ts.api('GET', `/api/v1/tenants/${slug}`);
      expect(gone.status).toBe(404);
      expect(gone.body.error.code).toBe('tenant_not_found');
      for (const path of ['users', `users/${user.body.id}`, 'roles', 'api-keys', 'audit-events']) {
        const res = await ts.api('GET', `/api/v1/tenants/${slug}/${path}`);
        expect(res.status, path).toBe(404);
        expect(res.body.error.code).toBe('tenant_not_found');
      }
      const again = await ts.api('DELETE', `/api/v1/tenants/${slug}`);
      expect(again.status).toBe(404);
      const list = await ts.api('GET', `/api/v1/tenants?q=${slug}`);
      expect(list.body.items).toEqual([]);

      // A new tenant with the same slug starts empty.
      const fresh = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'Fresh' } });
      expect(fresh.status, fresh.text).toBe(201);
      expect(fresh.body.id).not.toBe(before.body.id);
      expect(fresh.body.version).toBe(1);
      expect(fresh.body.settings).toEqual(expect.objectContaining(defaultSettings));
      const users = await ts.api('GET', `/api/v1/tenants/${slug}/users`);
      expect(users.body).toEqual({ items: [], nextCursor: null });
      expect((await ts.api('GET', `/api/v1/tenants/${slug}/users/${user.body.id}`)).status).toBe(404);
      const roles = await ts.api('GET', `/api/v1/tenants/${slug}/roles`);
      expect(roles.body.items.map((r: { name: string }) => r.name)).toEqual(['tenant:admin']);
      const keys = await ts.api('GET', `/api/v1/tenants/${slug}/api-keys`);
      expect(keys.body).toEqual({ items: [], nextCursor: null });
      const audit = await ts.api('GET', `/api/v1/tenants/${slug}/audit-events`);
      expect(audit.body.items.filter((e: { target: { id: string } | null }) => e.target?.id === user.body.id)).toEqual(
        [],
      );
      // The old keys do not come back to life with the slug.
      for (const client of [admin.api, support]) {
        expect((await client('GET', `/api/v1/tenants/${slug}/users`)).status).toBe(401);
      }
      // The old email is free again.
      const reuse = await ts.api('POST', `/api/v1/tenants/${slug}/users`, { body: { email: 'keep@example.com' } });
      expect(reuse.status).toBe(201);
      expect(reuse.body.id).not.toBe(user.body.id);
      expect(reuse.body.roles).toEqual([]);
    });
  });

  describe('audit', () => {
    it('records tenant creation, change and deletion with the acting key and the tenant as target', async () => {
      const slug = uniqueSlug('aud');
      const created = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'Audited' } });
      const id = created.body.id as string;
      await ts.api('PATCH', `/api/v1/tenants/${slug}`, { body: { displayName: 'Audited 2' } });

      const updates = await ts.api('GET', `/api/v1/tenants/${slug}/audit-events?action=tenant.update`);
      expect(updates.status).toBe(200);
      expect(updates.body.items).toEqual([
        expect.objectContaining({
          action: 'tenant.update',
          tenant: slug,
          actor: expect.objectContaining({ type: 'api_key', id: bootstrapKeyId }),
          target: expect.objectContaining({ type: 'tenant', id }),
          outcome: 'success',
        }),
      ]);

      await ts.api('DELETE', `/api/v1/tenants/${slug}`);
      for (const action of ['tenant.create', 'tenant.delete']) {
        const res = await ts.api('GET', `/api/v1/tenants/system/audit-events?action=${action}&target=${id}`);
        expect(res.status).toBe(200);
        expect(res.body.items, action).toEqual([
          expect.objectContaining({
            action,
            tenant: 'system',
            actor: expect.objectContaining({ type: 'api_key', id: bootstrapKeyId }),
            target: expect.objectContaining({ type: 'tenant', id }),
            outcome: 'success',
            occurredAt: expect.stringMatching(isoPattern),
          }),
        ]);
      }
    });

    it('records a refused change as a failure', async () => {
      const slug = await createTenant(ts.api);
      const res = await ts.api('PATCH', `/api/v1/tenants/${slug}`, {
        body: { displayName: 'x' },
        headers: { 'if-match': '"42"' },
      });
      expect(res.status).toBe(412);
      // Refusals are recorded once the answer is sent: wait for the event, not for a time.
      await vi.waitFor(
        async () => {
          const events = await ts.api(
            'GET',
            `/api/v1/tenants/${slug}/audit-events?action=tenant.update&outcome=failure`,
          );
          expect(events.body.items).toEqual([
            expect.objectContaining({
              action: 'tenant.update',
              outcome: 'failure',
              actor: expect.objectContaining({ type: 'api_key', id: bootstrapKeyId }),
              details: { status: 412, url: `/api/v1/tenants/${slug}` },
            }),
          ]);
        },
        { timeout: 5_000, interval: 20 },
      );
    });
  });

  describe('list', () => {
    const prefix = `ls${randomBytes(3).toString('hex')}`;
    const word = `Quokka${randomBytes(3).toString('hex')}`;
    const mine: TenantItem[] = [];

    beforeAll(async () => {
      // 56 tenants: enough for the default page size to show.
      for (let i = 0; i < 56; i++) {
        const slug = `${prefix}-${String((i * 37) % 56).padStart(2, '0')}`;
        const displayName = i % 4 === 0 ? `${word} ${i}` : `Other ${i}`;
        const res = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName } });
        expect(res.status, res.text).toBe(201);
        mine.push(res.body);
      }
    });

    it('pages 50 by default, up to 200, and refuses limits outside 1..200', async () => {
      const first = await ts.api('GET', '/api/v1/tenants');
      expect(first.status).toBe(200);
      expect(first.body.items).toHaveLength(50);
      expect(typeof first.body.nextCursor).toBe('string');
      const big = await ts.api('GET', '/api/v1/tenants?limit=200');
      expect(big.status).toBe(200);
      expect(big.body.items.length).toBeGreaterThan(56);
      expect(big.body.items.slice(0, 50)).toEqual(first.body.items);
      const one = await ts.api('GET', `/api/v1/tenants?limit=1&q=${prefix}`);
      expect(one.body.items).toHaveLength(1);
      for (const limit of ['201', '0', '-1', '1.5', 'abc', '']) {
        const res = await ts.api('GET', `/api/v1/tenants?limit=${limit}`);
        expect(res.status, `limit=${limit}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
    });

    it('searches by slug prefix and display-name prefix, case-insensitively, prefix only', async () => {
      const bySlug = await walk(ts.api, '/api/v1/tenants', { q: prefix, limit: '200' });
      expect(bySlug.map((t) => t.slug).sort()).toEqual(mine.map((t) => t.slug).sort());

      const expectedByName = mine.filter((t) => t.displayName.startsWith(word)).map((t) => t.slug);
      expect(expectedByName).toHaveLength(14);
      for (const q of [word, word.toUpperCase(), word.toLowerCase(), `${word} 4`]) {
        const res = await ts.api('GET', `/api/v1/tenants?q=${encodeURIComponent(q)}&limit=200`);
        expect(res.status).toBe(200);
        const expected = mine.filter((t) => t.displayName.toLowerCase().startsWith(q.toLowerCase())).map((t) => t.slug);
        expect(res.body.items.map((t: TenantItem) => t.slug).sort(), q).toEqual(expected.sort());
      }
      const one = await ts.api('GET', `/api/v1/tenants?q=${prefix}-07`);
      expect(one.body.items.map((t: TenantItem) => t.slug)).toEqual([`${prefix}-07`]);
      // Prefix, not substring.
      const middle = await ts.api('GET', `/api/v1/tenants?q=${prefix.slice(2)}`);
      expect(middle.body.items).toEqual([]);
      // LIKE wildcards are literal.
      for (const q of ['%', '_', `${prefix.slice(0, 2)}%`, `${prefix}_0`, '\\']) {
        const res = await ts.api('GET', `/api/v1/tenants?q=${encodeURIComponent(q)}`);
        expect(res.status, q).toBe(200);
        expect(res.body.items, q).toEqual([]);
      }
      const none = await ts.api('GET', '/api/v1/tenants?q=zzzz-nothing-here');
      expect(none.body).toEqual({ items: [], nextCursor: null });
    });

    it('sorts by slug, -slug and createdAt', async () => {
      const bySlug = [...mine].sort((a, b) => cmp(a.slug, b.slug));
      const asc = await ts.api('GET', `/api/v1/tenants?q=${prefix}&sort=slug&limit=200`);
      expect(asc.body.items.map((t: TenantItem) => t.slug)).toEqual(bySlug.map((t) => t.slug));
      const dflt = await ts.api('GET', `/api/v1/tenants?q=${prefix}&limit=200`);
      expect(dflt.body.items).toEqual(asc.body.items);
      const desc = await ts.api('GET', `/api/v1/tenants?q=${prefix}&sort=-slug&limit=200`);
      expect(desc.body.items.map((t: TenantItem) => t.slug)).toEqual(bySlug.map((t) => t.slug).reverse());

      const byCreated = [...mine].sort((a, b) => cmp(a.createdAt, b.createdAt) || cmp(a.id, b.id));
      const created = await ts.api('GET', `/api/v1/tenants?q=${prefix}&sort=createdAt&limit=200`);
      expect(created.body.items.map((t: TenantItem) => t.id)).toEqual(byCreated.map((t) => t.id));
      const createdDesc = await ts.api('GET', `/api/v1/tenants?q=${prefix}&sort=-createdAt&limit=200`);
      expect(createdDesc.body.items.map((t: TenantItem) => t.id)).toEqual(byCreated.map((t) => t.id).reverse());
    });

    it('refuses unknown sort fields and query parameters', async () => {
      for (const sort of ['name', '-name', 'displayName', 'id', 'settings', '--slug', '+slug', 'slug,createdAt', '']) {
        const res = await ts.api('GET', `/api/v1/tenants?sort=${encodeURIComponent(sort)}`);
        expect(res.status, sort).toBe(400);
        expect(res.body.error.code).toBe('invalid_sort');
      }
      for (const query of ['foo=1', 'status=active', 'slug=system', 'offset=10', 'page=2']) {
        const res = await ts.api('GET', `/api/v1/tenants?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
    });

    it('walks every tenant exactly once with the cursor, in every sort order', async () => {
      const all = await ts.api('GET', '/api/v1/tenants?limit=200');
      expect(all.body.nextCursor).toBeNull();
      const everyone = all.body.items as TenantItem[];
      const orders: Record<string, (a: TenantItem, b: TenantItem) => number> = {
        slug: (a, b) => cmp(a.slug, b.slug),
        '-slug': (a, b) => cmp(b.slug, a.slug),
        createdAt: (a, b) => cmp(a.createdAt, b.createdAt) || cmp(a.id, b.id),
        '-createdAt': (a, b) => cmp(b.createdAt, a.createdAt) || cmp(b.id, a.id),
        updatedAt: (a, b) => cmp(a.updatedAt, b.updatedAt) || cmp(a.id, b.id),
      };
      for (const [sort, order] of Object.entries(orders)) {
        for (const [set, q] of [
          [everyone, undefined],
          [mine, prefix],
        ] as const) {
          const walked = await walk(ts.api, '/api/v1/tenants', { sort, limit: '7', ...(q ? { q } : {}) });
          expect(new Set(walked.map((t) => t.id)).size, sort).toBe(walked.length);
          expect(
            walked.map((t) => t.id),
            `${sort} ${q}`,
          ).toEqual([...set].sort(order).map((t) => t.id));
        }
      }
    });

    it('refuses tampered and foreign cursors with 400 invalid_cursor', async () => {
      const page = await ts.api('GET', `/api/v1/tenants?q=${prefix}&limit=5`);
      const cursor = page.body.nextCursor as string;
      expect(typeof cursor).toBe('string');
      const next = await ts.api('GET', `/api/v1/tenants?q=${prefix}&limit=5&cursor=${cursor}`);
      expect(next.status).toBe(200);

      const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const tampered = [
        'garbage',
        `${cursor.slice(0, -4)}!!!!`,
        cursor.slice(0, Math.floor(cursor.length / 2)),
        Buffer.from('not json').toString('base64url'),
        encode(null),
        encode([1, 2]),
        encode({ s: 'slug', v: { $gt: '' }, id: 'ten_x' }),
        encode({ s: 'slug', v: 'a' }),
        encode({ s: 'displayName', v: 'a', id: 'ten_x' }),
        encode({ s: 'slug', v: 'a', id: 5 }),
        'x'.repeat(3000),
      ];
      for (const c of tampered) {
        const res = await ts.api('GET', `/api/v1/tenants?q=${prefix}&limit=5&cursor=${encodeURIComponent(c)}`);
        expect(res.status, c).toBe(400);
        expect(['invalid_cursor', 'validation_failed'], c).toContain(res.body.error.code);
      }
      // A cursor issued for one sort order is refused for another.
      const other = await ts.api('GET', `/api/v1/tenants?q=${prefix}&limit=5&sort=-slug&cursor=${cursor}`);
      expect(other.status).toBe(400);
      expect(other.body.error.code).toBe('invalid_cursor');
    });

    it('never answers 500 to a well-formed cursor carrying a value of the wrong type', async () => {
      const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const cases = [
        { sort: 'createdAt', cursor: encode({ s: 'createdAt', v: 'not-a-number', id: 'ten_x' }) },
        { sort: '-createdAt', cursor: encode({ s: '-createdAt', v: "1'; drop table tenants; --", id: 'ten_x' }) },
        { sort: 'slug', cursor: encode({ s: 'slug', v: 12345, id: 'ten_x' }) },
        { sort: 'createdAt', cursor: encode({ s: 'createdAt', v: 1e300, id: 'ten_x' }) },
      ];
      for (const { sort, cursor } of cases) {
        const res = await ts.api('GET', `/api/v1/tenants?sort=${sort}&cursor=${cursor}`);
        expect(res.status, `${sort} ${res.text}`).toBeLessThan(500);
        if (res.status === 400) expect(res.body.error.code).toBe('invalid_cursor');
      }
      expect((await ts.api('GET', '/api/v1/tenants/system')).status).toBe(200);
    });
  });
});
