/**
 * Password sign-in security on the real sign-in form: lockout after the tenant's configured
 * failures with an answer indistinguishable from a wrong password (and from an unknown or
 * disabled account), audit reasons, counts shared by several nodes (database, or Redis when
 * TEST_REDIS_URL is set), lastLoginAt, and rehashing of hashes made with old parameters.
 */
import { randomBytes } from 'node:crypto';
import { type Algorithm, hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeLoginFailures } from '../src/login/lockout.js';
import { IP_FAILURE_FACTOR } from '../src/login/service.js';
import { hashPassword } from '../src/passwords/hash.js';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authUrl } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redisUrl = process.env.TEST_REDIS_URL;
const redirectUri = 'http://127.0.0.1:9/callback';
const lockout = { maxFailures: 3, durationSeconds: 60 };

interface Answer {
  /** The POST's own answer. */
  status: number;
  location: string | null;
  /** The page that answer leads to. */
  pageStatus: number;
  pageUrl: string;
  text: string;
  signedIn: boolean;
}

/** Opens the sign-in page of `slug` on `node` for `clientId`, in a fresh browser. */
async function openSignIn(node: TestServer, slug: string, clientId: string) {
  const browser = new Browser();
  const page = await browser.go(authUrl(node.url, slug, clientId, redirectUri));
  expect(page.status).toBe(200);
  expect(page.html).toContain('<label for="password">Password</label>');
  return { browser, page };
}

/** Submits the sign-in form of `page` and reads where it leads. */
async function attempt(browser: Browser, page: Page, email: string, password: string): Promise<Answer> {
  const action = new URL(/<form[^>]*action="([^"]+)"/.exec(page.html)?.[1] ?? '', page.url);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '';
  const res = await fetch(action, {
    method: 'POST',
    headers: { cookie: browser.jar.header(action), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, email, password }).toString(),
    redirect: 'manual',
  });
  browser.jar.store(res);
  const location = res.headers.get('location');
  const next = await browser.go(new URL(location ?? '', action), { stopAt: (u) => u.href.startsWith(redirectUri) });
  return {
    status: res.status,
    location,
    pageStatus: next.status,
    pageUrl: next.url.href,
    text: next.html,
    signedIn: next.url.href.startsWith(redirectUri) && next.url.searchParams.has('code'),
  };
}

async function failureReasons(api: ApiClient, slug: string, userId?: string) {
  const res = await api(
    'GET',
    `/api/v1/tenants/${slug}/audit-events?action=login.password&outcome=failure&limit=200${userId ? `&target=${userId}` : ''}`,
  );
  expect(res.status).toBe(200);
  return (res.body.items as { details: { reason: string } }[]).map((e) => e.details.reason).reverse();
}

function lockoutSuite(dialect: 'sqlite' | 'postgres', redis: string | undefined) {
  let ts: TestServer;
  let api: ApiClient;
  let slug: string;
  let clientId: string;
  let n = 0;
  const password = 'correct horse battery staple';

  async function newUser(extra: Record<string, unknown> = {}, where = { slug, api }) {
    n += 1;
    const email = `user${n}-${randomBytes(3).toString('hex')}@example.test`;
    const res = await where.api('POST', `/api/v1/tenants/${where.slug}/users`, {
      body: { email, password, ...extra },
    });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, email };
  }

  /** A tenant with the test's lockout policy and a first-party web client. */
  async function lockoutTenant() {
    const t = await tenantWithAdmin(ts);
    const patched = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { settings: { lockout } } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.settings.lockout).toEqual(lockout);
    const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status).toBe(201);
    return { slug: t.slug, api: t.api, clientId: client.body.clientId as string };
  }

  beforeAll(async () => {
    // Bursts from this one address test the counters, not the hash queue's bound (sign-in-fairness.security.test.ts).
    ts = await startTestServer(dialect, {
      HASH_QUEUE_MAX_WAITING_PER_SOURCE: '64',
      HASH_QUEUE_MAX_WAITING_SIGN_INS_PER_SOURCE: '64',
      ...(redis ? { REDIS_URL: redis } : {}),
    });
    ({ slug, api, clientId } = await lockoutTenant());
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('locks after the configured failures with the same answer as a wrong password', async () => {
    const user = await newUser();
    const { browser, page } = await openSignIn(ts, slug, clientId);
    const wrong = await attempt(browser, page, user.email, 'not the password 1');
    expect(wrong.status).toBe(303);
    expect(wrong.location).toMatch(/\/interaction\/[^/?]+\?error=credentials$/);
    expect(wrong.pageStatus).toBe(401);
    expect(wrong.text).toContain('Invalid email or password.');
    expect(wrong.signedIn).toBe(false);
    await attempt(browser, page, user.email, 'not the password 2');
    await attempt(browser, page, user.email, 'not the password 3');

    // Locked: the right password now gets exactly the wrong-password answer.
    const locked = await attempt(browser, page, user.email, password);
    expect(locked.signedIn).toBe(false);
    expect(locked).toEqual(wrong);
    // So does an account that does not exist (the form echoes the email typed; nothing else differs).
    const unknownEmail = `nobody-${randomBytes(3).toString('hex')}@example.test`;
    const unknown = await attempt(browser, page, unknownEmail, password);
    expect({ ...unknown, text: unknown.text.replace(unknownEmail, '«email»') }).toEqual({
      ...wrong,
      text: wrong.text.replace(user.email, '«email»'),
    });
    // The lock is the account's, not this browser's: a new sign-in page says the same.
    const fresh = await openSignIn(ts, slug, clientId);
    const again = await attempt(fresh.browser, fresh.page, user.email, password);
    expect(again.signedIn).toBe(false);
    expect(again.pageStatus).toBe(401);
    expect(again.text).toContain('Invalid email or password.');

    // Admins see the real reasons.
    expect(await failureReasons(api, slug, user.id)).toEqual([
      'wrong_password',
      'wrong_password',
      'wrong_password',
      'account_locked',
      'account_locked',
    ]);
    expect(await failureReasons(api, slug)).toContain('unknown_user');
    const events = await api('GET', `/api/v1/tenants/${slug}/audit-events?action=login.password&outcome=failure`);
    const unknownEvent = (events.body.items as { details: { reason: string; email?: string } }[]).find(
      (e) => e.details.reason === 'unknown_user',
    );
    expect(unknownEvent?.details.email).toBe(unknownEmail);
  });

  it('lets no more guesses be checked than the limit, however many arrive at once', async () => {
    // A tenant of its own: this test's failures would lock this IP in the shared tenant.
    const own = await lockoutTenant();
    const user = await newUser({}, own);
    const pages = await Promise.all(Array.from({ length: 12 }, () => openSignIn(ts, own.slug, own.clientId)));
    // All at once: each waits for its turn at argon2id, long after the others were counted.
    const answers = await Promise.all(
      pages.map(({ browser, page }, i) => attempt(browser, page, user.email, `not the password ${i}`)),
    );
    expect(answers.every((a) => !a.signedIn && a.pageStatus === 401)).toBe(true);
    const reasons = await failureReasons(own.api, own.slug, user.id);
    expect(reasons).toHaveLength(12);
    expect(reasons.filter((r) => r === 'wrong_password')).toHaveLength(lockout.maxFailures);
    expect(reasons.filter((r) => r === 'account_locked')).toHaveLength(12 - lockout.maxFailures);
    // And the account is locked: the right password is refused too.
    const { browser, page } = await openSignIn(ts, own.slug, own.clientId);
    expect((await attempt(browser, page, user.email, password)).signedIn).toBe(false);
  });

  it('locks a client IP after ten times the account limit, across accounts', async () => {
    // A tenant of its own: the IP counter is per tenant, and this one must start at zero.
    const own = await lockoutTenant();
    const user = await newUser({}, own);
    const { browser, page } = await openSignIn(ts, own.slug, own.clientId);
    const ipLimit = lockout.maxFailures * IP_FAILURE_FACTOR;
    const spray = async (i: number) => {
      const email = `spray-${i}-${randomBytes(3).toString('hex')}@example.test`;
      expect((await attempt(browser, page, email, 'password123')).signedIn).toBe(false);
    };
    for (let i = 0; i < ipLimit - 1; i++) await spray(i);
    // One failure short of the limit, the address still signs in.
    const before = await openSignIn(ts, own.slug, own.clientId);
    expect((await attempt(before.browser, before.page, user.email, password)).signedIn).toBe(true);
    await spray(ipLimit - 1);
    // The right password of a real account, from the locked address: refused, as ip_locked.
    expect((await attempt(browser, page, user.email, password)).signedIn).toBe(false);
    expect(await failureReasons(own.api, own.slug, user.id)).toEqual(['ip_locked']);
  });

  it('counts a client IP’s attempts as they begin: a burst gets no more checks than its limit', async () => {
    // @see issue 9 (item 5): the IP's count was checked before the queued hash and counted after it.
    const own = await lockoutTenant();
    const { browser, page } = await openSignIn(ts, own.slug, own.clientId);
    const ipLimit = lockout.maxFailures * IP_FAILURE_FACTOR;
    const answers = await Promise.all(
      Array.from({ length: ipLimit + 10 }, (_, i) =>
        attempt(browser, page, `burst-${i}-${randomBytes(3).toString('hex')}@example.test`, 'password123'),
      ),
    );
    expect(answers.every((a) => !a.signedIn && a.pageStatus === 401)).toBe(true);
    const reasons = await failureReasons(own.api, own.slug);
    expect(reasons.filter((r) => r === 'unknown_user')).toHaveLength(ipLimit);
    expect(reasons.filter((r) => r === 'ip_locked')).toHaveLength(10);
  });

  it('refuses a sign-in whose password was replaced while it was being checked', async () => {
    const user = await newUser();
    const db = ts.server.ctx.database.db;
    const tenant = await ts.server.ctx.tenants.findBySlug(slug);
    if (!tenant) throw new Error('no tenant');
    const replacement = await hashPassword('a brand new password');
    const actor = { type: 'system' as const, id: null, ip: '127.0.0.1', requestId: null };
    // The sign-in reads the user first; the new password lands while its argon2id check runs.
    const signingIn = ts.server.ctx.signIn.signIn(tenant, user.email, password, actor);
    await db.updateTable('users').set({ password_hash: replacement }).where('id', '=', user.id).execute();
    expect(await signingIn).toEqual({ ok: false, locked: false });
    // (SQLite runs the two in the order sent; PostgreSQL may run the update first, and then
    // the old password is simply wrong.)
    const [reason] = (await failureReasons(api, slug, user.id)).slice(-1);
    if (dialect === 'sqlite') expect(reason).toBe('changed_during_sign_in');
    else expect(['changed_during_sign_in', 'wrong_password']).toContain(reason);
  });

  it('purges counters whose window and lock ended over a day ago, and no others', async () => {
    const db = ts.server.ctx.database.db;
    const tenantId = (await api('GET', `/api/v1/tenants/${slug}`)).body.id as string;
    const day = 86_400_000;
    const now = Date.now();
    const rows = [
      { key: `${tenantId}:test:stale`, window_started_at: now - 2 * day, locked_until: null },
      { key: `${tenantId}:test:stale-lock`, window_started_at: now - 2 * day, locked_until: now - 2 * day },
      { key: `${tenantId}:test:recent`, window_started_at: now - 1000, locked_until: null },
      { key: `${tenantId}:test:locked`, window_started_at: now - 2 * day, locked_until: now + 60_000 },
    ];
    await db
      .insertInto('login_failures')
      .values(rows.map((r) => ({ ...r, tenant_id: tenantId, count: 1 })))
      .execute();
    expect(await purgeLoginFailures(db)).toBeGreaterThanOrEqual(2);
    const left = await db
      .selectFrom('login_failures')
      .select('key')
      .where('key', 'like', `${tenantId}:test:%`)
      .orderBy('key')
      .execute();
    expect(left.map((r) => r.key)).toEqual([`${tenantId}:test:locked`, `${tenantId}:test:recent`]);
  });

  it('gives a disabled account the same answer, and counts a success as a reset', async () => {
    const user = await newUser();
    const { browser, page } = await openSignIn(ts, slug, clientId);
    // Two failures, then success: under the limit, and the count starts again.
    const wrong = await attempt(browser, page, user.email, 'nope nope 1');
    await attempt(browser, page, user.email, 'nope nope 2');
    const ok = await attempt(browser, page, user.email, password);
    expect(ok.signedIn, ok.text.slice(0, 300)).toBe(true);

    const second = await openSignIn(ts, slug, clientId);
    await attempt(second.browser, second.page, user.email, 'nope nope 3');
    await attempt(second.browser, second.page, user.email, 'nope nope 4');
    expect((await attempt(second.browser, second.page, user.email, password)).signedIn).toBe(true);

    // Disabled: the right password gets the wrong-password answer.
    const disabled = await api('PATCH', `/api/v1/tenants/${slug}/users/${user.id}`, { body: { status: 'disabled' } });
    expect(disabled.status).toBe(200);
    const third = await openSignIn(ts, slug, clientId);
    const wrongThere = await attempt(third.browser, third.page, user.email, 'nope nope 5');
    const refused = await attempt(third.browser, third.page, user.email, password);
    expect(refused.signedIn).toBe(false);
    expect(refused).toEqual(wrongThere);
    expect(refused.text).toContain('Invalid email or password.');
    // The same page as the very first failure, apart from the interaction it belongs to.
    const strip = (a: Answer) => ({
      ...a,
      location: a.location?.replace(/interaction\/[^/?]+/, 'interaction/«uid»'),
      pageUrl: a.pageUrl.replace(/interaction\/[^/?]+/, 'interaction/«uid»'),
      text: a.text
        .replace(/interaction\/[^/"?]+/g, 'interaction/«uid»')
        .replace(/forgot\?return=[A-Za-z0-9_-]+/g, 'forgot?return=«uid»')
        .replace(/name="csrf" value="[^"]+"/, ''),
    });
    expect(strip(refused)).toEqual(strip(wrong));
    expect((await failureReasons(api, slug, user.id)).slice(-2)).toEqual(['wrong_password', 'disabled']);
  });

  it('sets lastLoginAt and rehashes a hash made with other argon2 parameters', async () => {
    const user = await newUser();
    const before = await api('GET', `/api/v1/tenants/${slug}/users/${user.id}`);
    expect(before.body.lastLoginAt).toBeNull();

    // Replace the stored hash with one made with weaker parameters (m=4096, t=1, p=1).
    const weak = await argon2Hash(password, {
      algorithm: 2 as Algorithm,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    });
    expect(weak).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);
    const db = ts.server.ctx.database.db;
    await db.updateTable('users').set({ password_hash: weak }).where('id', '=', user.id).execute();

    const started = Date.now();
    const { browser, page } = await openSignIn(ts, slug, clientId);
    const ok = await attempt(browser, page, user.email, password);
    expect(ok.signedIn, ok.text.slice(0, 300)).toBe(true);

    const row = await db
      .selectFrom('users')
      .select(['password_hash', 'last_login_at'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).not.toBe(weak);
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await argon2Verify(row.password_hash ?? '', password)).toBe(true);
    expect(row.last_login_at).toBeGreaterThanOrEqual(started - 1000);

    const after = await api('GET', `/api/v1/tenants/${slug}/users/${user.id}`);
    expect(after.body.lastLoginAt).toBe(new Date(row.last_login_at ?? 0).toISOString());
    const events = await api(
      'GET',
      `/api/v1/tenants/${slug}/audit-events?action=login.password&outcome=success&target=${user.id}`,
    );
    expect(events.body.items[0].details).toMatchObject({ rehashed: true });

    // The next sign-in leaves the (now current) hash alone.
    const second = await openSignIn(ts, slug, clientId);
    expect((await attempt(second.browser, second.page, user.email, password)).signedIn).toBe(true);
    const row2 = await db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row2.password_hash).toBe(row.password_hash);
  });

  it('shares the failure count between two nodes', async () => {
    // A second node: same database (and Redis, when configured), same public URL.
    const other = await startTestServer(
      dialect,
      { PUBLIC_URL: ts.url, LATCHKEY_BOOTSTRAP_API_KEY: ts.adminKey, ...(redis ? { REDIS_URL: redis } : {}) },
      ts.database,
    );
    try {
      const user = await newUser();
      const one = await openSignIn(ts, slug, clientId);
      const two = await openSignIn(other, slug, clientId);
      expect(two.page.url.origin).toBe(other.url);
      // Three failures in all, split over the two nodes.
      await attempt(one.browser, one.page, user.email, 'wrong on node one 1');
      await attempt(two.browser, two.page, user.email, 'wrong on node two 1');
      await attempt(one.browser, one.page, user.email, 'wrong on node one 2');
      // Locked on both.
      expect((await attempt(two.browser, two.page, user.email, password)).signedIn).toBe(false);
      expect((await attempt(one.browser, one.page, user.email, password)).signedIn).toBe(false);
      expect(await failureReasons(api, slug, user.id)).toEqual([
        'wrong_password',
        'wrong_password',
        'wrong_password',
        'account_locked',
        'account_locked',
      ]);
      const tenantId = (await api('GET', `/api/v1/tenants/${slug}`)).body.id as string;
      const key = `${tenantId}:user:${user.id}`;
      const dbRow = await ts.server.ctx.database.db
        .selectFrom('login_failures')
        .select('locked_until')
        .where('key', '=', key)
        .executeTakeFirst();
      if (redis) {
        // The count lives in Redis, not in the database.
        const client = new Redis(redis);
        try {
          expect(await client.pttl(`lk:lock:${key}`)).toBeGreaterThan(0);
        } finally {
          client.disconnect();
        }
        expect(dbRow).toBeUndefined();
      } else {
        expect(dbRow?.locked_until ?? 0).toBeGreaterThan(Date.now());
      }
    } finally {
      await other.close();
    }
  });
}

describe.each(dialects)('sign-in lockout (%s)', (dialect) => {
  lockoutSuite(dialect, undefined);
});

describe.skipIf(!redisUrl).each(dialects)('sign-in lockout with Redis (%s)', (dialect) => {
  lockoutSuite(dialect, redisUrl);
});
