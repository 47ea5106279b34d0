/**
 * One client cannot slow every tenant's sign-in (issue 9, item 5): a locked address or account
 * is refused before any password hash is spent on it, with the answer of a wrong password;
 * past the hash queue's bounds a burst from one address gets an immediate 429 (the branded
 * "try again later" page with Retry-After, for sign-in and registration; JSON `busy` on the
 * admin API), while another address, and another tenant, still sign in. Client addresses come
 * from X-Forwarded-For (TRUST_PROXY_HOPS=1), as behind a proxy.
 * @see issue 9
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authUrl } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const password = 'correct horse battery staple';

interface SignInPage {
  browser: Browser;
  page: Page;
}

/** POSTs the sign-in form of `at` from client address `ip`; the raw answer, not followed. */
async function post(at: SignInPage, ip: string, email: string, pw: string) {
  const action = new URL(/<form[^>]*action="([^"]+)"/.exec(at.page.html)?.[1] ?? '', at.page.url);
  const csrf = /name="csrf" value="([^"]+)"/.exec(at.page.html)?.[1] ?? '';
  const res = await fetch(action, {
    method: 'POST',
    headers: {
      cookie: at.browser.jar.header(action),
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': ip,
    },
    body: new URLSearchParams({ csrf, email, password: pw }).toString(),
    redirect: 'manual',
  });
  at.browser.jar.store(res);
  return { status: res.status, location: res.headers.get('location'), headers: res.headers, text: await res.text() };
}

describe.each(dialects)('sign-in fairness and refusal before hashing (%s)', (dialect) => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer(dialect, {
      TRUST_PROXY_HOPS: '1',
      HASH_QUEUE_MAX_WAITING: '8',
      HASH_QUEUE_MAX_WAITING_PER_TENANT: '6',
      HASH_QUEUE_MAX_WAITING_PER_SOURCE: '2',
      // Registration's own limit per address stays out of the way of the hash queue's.
      REGISTRATION_LIMIT: '1000',
    });
  });
  afterAll(async () => {
    await ts?.close();
  });

  /** A tenant (display name "Tenant <slug>") with a lockout policy, a first-party web client and one user. */
  async function tenant(lockout = { maxFailures: 10, durationSeconds: 60 }) {
    const t = await tenantWithAdmin(ts);
    const patched = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { settings: { lockout } } });
    expect(patched.status, patched.text).toBe(200);
    const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status, client.text).toBe(201);
    const email = `user-${randomBytes(3).toString('hex')}@example.test`;
    const user = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, { body: { email, password } });
    expect(user.status, user.text).toBe(201);
    return { slug: t.slug, api: t.api, clientId: client.body.clientId as string, email };
  }

  async function openSignIn(slug: string, clientId: string): Promise<SignInPage> {
    const browser = new Browser();
    const page = await browser.go(authUrl(ts.url, slug, clientId, redirectUri));
    expect(page.status, page.html.slice(0, 300)).toBe(200);
    return { browser, page };
  }

  /** Whether the answer to a sign-in POST leads back to the application with a code. */
  async function signedIn(at: SignInPage, answer: { location: string | null }) {
    if (!answer.location) return false;
    const end = await at.browser.go(new URL(answer.location, at.page.url), {
      stopAt: (u) => u.href.startsWith(redirectUri),
    });
    return end.url.href.startsWith(redirectUri) && end.url.searchParams.has('code');
  }

  /** The shape of a refused sign-in: a 303 to the form with the credentials error. */
  const refused = (a: { status: number; location: string | null }) => ({
    status: a.status,
    location: a.location?.replace(/interaction\/[^/?]+/, 'interaction/«uid»'),
  });

  it('refuses a locked address and a locked account before any hash, with a wrong password’s answer', async () => {
    // maxFailures 1: an account locks at its first failure, an address at its tenth.
    const t = await tenant({ maxFailures: 1, durationSeconds: 60 });
    const attacker = '198.51.100.20';
    const page = await openSignIn(t.slug, t.clientId);
    const wrong = await post(page, attacker, t.email, 'not the password');
    expect(wrong.status).toBe(303);
    expect(wrong.location).toMatch(/\?error=credentials$/);

    // The account is locked now: its right password, from anywhere, costs no verification.
    const counts = ts.server.ctx.hasher.counts;
    let before = counts.verifications;
    const lockedAccount = await post(page, '198.51.100.21', t.email, password);
    expect(refused(lockedAccount)).toEqual(refused(wrong));
    expect(counts.verifications).toBe(before);

    // Nine more failures (unknown emails) from the attacker's address lock it: each was checked.
    before = counts.verifications;
    for (let i = 0; i < 9; i++) {
      const a = await post(page, attacker, `nobody-${i}-${randomBytes(2).toString('hex')}@example.test`, 'guess');
      expect(refused(a)).toEqual(refused(wrong));
    }
    expect(counts.verifications - before).toBe(9);

    // Locked address: however many more attempts, not one verification, the same answer.
    before = counts.verifications;
    for (let i = 0; i < 6; i++) {
      const a = await post(page, attacker, i % 2 ? t.email : `more-${i}@example.test`, i % 2 ? password : 'guess');
      expect(refused(a)).toEqual(refused(wrong));
    }
    expect(counts.verifications).toBe(before);

    // Another user of the tenant, from another address, is not affected.
    const other = `other-${randomBytes(3).toString('hex')}@example.test`;
    expect((await t.api('POST', `/api/v1/tenants/${t.slug}/users`, { body: { email: other, password } })).status).toBe(
      201,
    );
    const fresh = await openSignIn(t.slug, t.clientId);
    expect(await signedIn(fresh, await post(fresh, '198.51.100.22', other, password))).toBe(true);

    const reasons = await t.api(
      'GET',
      `/api/v1/tenants/${t.slug}/audit-events?action=login.password&outcome=failure&limit=100`,
    );
    const byReason = (reason: string) =>
      (reasons.body.items as { details: { reason: string } }[]).filter((e) => e.details.reason === reason).length;
    expect(byReason('account_locked')).toBe(1);
    expect(byReason('ip_locked')).toBe(6);
  });

  it('answers a burst from one address past the bound with 429 and Retry-After, while others sign in', async () => {
    const a = await tenant();
    const b = await tenant();
    const pages = await Promise.all(Array.from({ length: 24 }, () => openSignIn(a.slug, a.clientId)));
    const quiet = await openSignIn(a.slug, a.clientId);
    const otherTenant = await openSignIn(b.slug, b.clientId);
    const refusedBefore = ts.server.ctx.hasher.counts.refused;
    const yieldedBefore = ts.server.ctx.hasher.counts.yielded;

    const burst = Promise.all(
      pages.map((p, i) => post(p, '203.0.113.7', `nobody-${i}-${randomBytes(2).toString('hex')}@example.test`, 'x')),
    );
    // Sent while the burst waits: another address of the same tenant, and another tenant.
    const [answers, sameTenant, elsewhere] = await Promise.all([
      burst,
      post(quiet, '192.0.2.10', a.email, password),
      post(otherTenant, '192.0.2.11', b.email, password),
    ]);
    expect(await signedIn(quiet, sameTenant)).toBe(true);
    expect(await signedIn(otherTenant, elsewhere)).toBe(true);

    const busy = answers.filter((r) => r.status === 429);
    const checked = answers.filter((r) => r.status === 303);
    expect(busy.length + checked.length).toBe(answers.length);
    // At most two of one address wait at a time (and two hash): most of the burst is turned away.
    expect(busy.length).toBeGreaterThanOrEqual(12);
    expect(ts.server.ctx.hasher.counts.refused - refusedBefore).toBe(busy.length);
    const one = busy[0];
    expect(Number(one?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(one?.headers.get('content-type')).toContain('text/html');
    expect(one?.headers.get('cache-control')).toBe('no-store');
    // Refused before routing, with the headers of every answer all the same.
    expect(one?.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(one?.headers.get('x-content-type-options')).toBe('nosniff');
    expect(one?.headers.get('x-frame-options')).toBe('DENY');
    expect(one?.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(one?.text).toMatch(new RegExp(`href="/t/${a.slug}/interaction/[A-Za-z0-9_-]+">Back to the form`));
    expect(one?.text).toContain(`Tenant ${a.slug}`);
    expect(one?.text).toContain('Try again in a moment');
    expect(one?.text).toMatch(/role="alert">Too many sign-in attempts/);
    // A refused attempt is not a failure: it was never checked, nor written down.
    const events = await a.api('GET', `/api/v1/tenants/${a.slug}/audit-events?action=login.password&limit=100`);
    expect(events.body.items).toHaveLength(checked.length + 1);
    // What the burst got checked beyond its first attempt hashed at idle priority
    // (hash-queue.test.ts), the other addresses' sign-ins in the pool.
    expect(ts.server.ctx.hasher.counts.yielded - yieldedBefore).toBe(checked.length - 1);
    // The address, refused a moment ago, still signs in with the right password, one at a time.
    const later = await openSignIn(a.slug, a.clientId);
    expect(await signedIn(later, await post(later, '203.0.113.7', a.email, password))).toBe(true);
  });

  it('counts a burst by the address the trusted proxy names, whatever the client wrote before it', async () => {
    const t = await tenant();
    const pages = await Promise.all(Array.from({ length: 16 }, () => openSignIn(t.slug, t.clientId)));
    const refusedBefore = ts.server.ctx.hasher.counts.refused;
    // One proxy hop is trusted: the client is the last entry, the ones before it are the client's own words.
    const answers = await Promise.all(
      pages.map((p, i) =>
        post(
          p,
          `10.${i}.0.1,  192.0.2.${i}\t, 203.0.113.77`,
          `nobody-${i}-${randomBytes(2).toString('hex')}@example.test`,
          'x',
        ),
      ),
    );
    const busy = answers.filter((r) => r.status === 429);
    expect(busy.length + answers.filter((r) => r.status === 303).length).toBe(answers.length);
    expect(busy.length).toBeGreaterThanOrEqual(8);
    expect(ts.server.ctx.hasher.counts.refused - refusedBefore).toBe(busy.length);
    // The failures were written down under that one address.
    const events = await t.api('GET', `/api/v1/tenants/${t.slug}/audit-events?action=login.password&limit=100`);
    const ips = new Set((events.body.items as { ip: string | null }[]).map((e) => e.ip));
    expect([...ips]).toEqual(['203.0.113.77']);
  });

  it('bounds registration’s password hashes too: the 429 page with Retry-After', async () => {
    const t = await tenant();
    const on = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { settings: { selfRegistration: true } } });
    expect(on.status, on.text).toBe(200);
    const forms = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const at = await openSignIn(t.slug, t.clientId);
        const register = await at.browser.go(
          new URL(/href="([^"]+\/register)"/.exec(at.page.html)?.[1] ?? '', at.page.url),
        );
        expect(register.status).toBe(200);
        return { browser: at.browser, page: register };
      }),
    );
    const answers = await Promise.all(
      forms.map((f, i) => post(f, '203.0.113.60', `new-${i}-${randomBytes(2).toString('hex')}@example.test`, password)),
    );
    const busy = answers.filter((r) => r.status === 429);
    expect(busy.length).toBeGreaterThan(0);
    expect(Number(busy[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(busy[0]?.headers.get('content-type')).toContain('text/html');
    expect(busy[0]?.text).toContain('Try again in a moment');
  });

  it('bounds the admin API’s password hashes too: 429 busy with Retry-After', async () => {
    const t = await tenantWithAdmin(ts);
    const api: ApiClient = t.api;
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        api('POST', `/api/v1/tenants/${t.slug}/users`, {
          body: { email: `bulk-${i}@example.test`, password },
          headers: { 'x-forwarded-for': '203.0.113.50' },
        }),
      ),
    );
    const busy = answers.filter((r) => r.status === 429);
    expect(answers.filter((r) => r.status !== 429).every((r) => r.status === 201)).toBe(true);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]?.body).toEqual({ error: { code: 'busy', message: expect.any(String) } });
    expect(Number(busy[0]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another caller's address is not held up by that one's.
    const other = await api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email: 'after@example.test', password },
      headers: { 'x-forwarded-for': '203.0.113.51' },
    });
    expect(other.status, other.text).toBe(201);
  });
});

/**
 * A refusal wrote nothing and acknowledges nothing, so it does not wait for SQLite's group
 * commit (db/database.ts `WalSync`); every other answer still does, and so does a refusal
 * whose page shows a tenant change that is not durable yet. The fsync is held back here at
 * the database's `whenDurable`, as in durability.test.ts.
 */
describe('a sign-in refusal goes out at once, acknowledgements wait for durability (sqlite)', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer('sqlite', { TRUST_PROXY_HOPS: '1', HASH_QUEUE_MAX_WAITING_SIGN_INS_PER_SOURCE: '1' });
  });
  afterAll(async () => {
    await ts?.close();
  });

  async function formsOf(slug: string, clientId: string, n: number) {
    return Promise.all(
      Array.from({ length: n }, async () => {
        const browser = new Browser();
        const page = await browser.go(authUrl(ts.url, slug, clientId, redirectUri));
        expect(page.status).toBe(200);
        return { browser, page };
      }),
    );
  }

  /** POSTs every form at once from `ip`; `arrived` lists the statuses in the order they come. */
  function burst(forms: SignInPage[], ip: string, arrived: number[]) {
    return forms.map(async (form, i) => {
      const answer = await post(form, ip, `nobody-${i}@example.test`, 'guess');
      arrived.push(answer.status);
      return answer;
    });
  }

  const until = async (what: () => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return what();
  };

  it('sends the 429 while the fsync is pending, and holds every 303 until it is done', async () => {
    const t = await tenantWithAdmin(ts);
    const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status, client.text).toBe(201);
    const clientId = client.body.clientId as string;
    const database = ts.server.ctx.database;
    const real = database.whenDurable;
    let release = () => {};
    const stall = () => {
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      database.whenDurable = () => {
        const pending = real?.();
        return pending && held.then(() => pending);
      };
    };
    try {
      // The tenant's busy page is made once the tenant is durable.
      const warm: number[] = [];
      await Promise.all(burst(await formsOf(t.slug, clientId, 8), '203.0.113.100', warm));
      expect(warm).toContain(429);

      // Forms first: opening one writes an interaction, whose answer would wait too.
      const second = await formsOf(t.slug, clientId, 8);
      const third = await formsOf(t.slug, clientId, 8);
      stall();
      const arrived: number[] = [];
      const answers = burst(second, '203.0.113.101', arrived);
      expect(await until(() => arrived.includes(429))).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      // The checked attempts were counted and written down: their answers wait.
      expect(arrived.every((s) => s === 429)).toBe(true);
      release();
      const all = await Promise.all(answers);
      expect(all.filter((a) => a.status === 303).length).toBeGreaterThan(0);

      // A tenant change not yet durable: its refusal, showing the new name, waits as well.
      stall();
      const renamed = t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { displayName: 'Renamed Inc.' } });
      await new Promise((r) => setTimeout(r, 300));
      const late: number[] = [];
      const refusals = burst(third, '203.0.113.102', late);
      await new Promise((r) => setTimeout(r, 300));
      expect(late).toEqual([]);
      release();
      expect((await renamed).status).toBe(200);
      const shown = (await Promise.all(refusals)).filter((a) => a.status === 429);
      expect(shown.length).toBeGreaterThan(0);
      expect(shown[0]?.text).toContain('Renamed Inc.');
    } finally {
      database.whenDurable = real;
      release();
    }
  });
});

/** With the default bounds: two sign-in attempts of one address wait at most, an admin's script eight. */
describe.each(dialects)('the default bounds: sign-ins wait fewer per address than admin hashes (%s)', (dialect) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(dialect, { TRUST_PROXY_HOPS: '1' });
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('refuses most of a burst of sign-ins from one address, and none of six passwords set at once', async () => {
    const t = await tenantWithAdmin(ts);
    const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status, client.text).toBe(201);
    const forms = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const browser = new Browser();
        const page = await browser.go(authUrl(ts.url, t.slug, client.body.clientId as string, redirectUri));
        expect(page.status).toBe(200);
        return { browser, page };
      }),
    );
    const statuses = await Promise.all(
      forms.map(async (form, i) => (await post(form, '203.0.113.120', `nobody-${i}@example.test`, 'guess')).status),
    );
    // One running and two waiting at most when they arrive: eight waiting would let nine in.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(8);
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
          body: { email: `script-${i}@example.test`, password },
          headers: { 'x-forwarded-for': '203.0.113.121' },
        }),
      ),
    );
    expect(created.map((r) => r.status)).toEqual(Array(6).fill(201));
  });
});
