/**
 * Findings of the second attack on issue 9's fixes, each a test of the correct behaviour.
 * Fixed ones are plain tests, kept as regressions; one that still stands is `it.fails` (the
 * body asserts the correct behaviour, so once it is fixed the test passes and must become
 * `it`). Each comment says what the test shows, the correct behaviour, and where the cause was.
 * @see issue 9
 */
import { connect } from 'node:net';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authUrl, pkce, tokenRequest } from './helpers/oidc.js';
import { apiClient, createApiKey, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const evilRedirect = 'http://127.0.0.1:9/evil';

describe.each(dialects)('attack findings (%s)', (dialect) => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
  });
  afterAll(async () => {
    await ts?.close();
  });

  /**
   * Finding 1 (critical): `tenant:admin` of the `system` tenant obtains a `system:admin` token.
   * It may make a first-party application there (its reach counts as "tenant-wide", which it
   * holds), and a first-party application signs in any user of the tenant silently, including
   * every `system:admin`: one crafted `/t/system/auth?prompt=none&resource={PUBLIC_URL}/api`
   * link opened by a signed-in system admin yields a code, and the code a token with
   * `roles: ["system:admin"]`, which reads and changes every tenant.
   * Correct: in the system tenant a first-party application (creating one, making one first
   * party, moving its redirect URIs, rotating its secret) reaches `system:admin` (whoever holds
   * it there can be signed in), so only a `system:admin` may do it: 403 `forbidden` with
   * `missing.systemWide`. Cause: `reachOf` in clients/service.ts gives a first-party
   * application `TENANT_WIDE` regardless of the tenant; grants.ts `shortfall` then lets a
   * tenant admin of `system` through.
   */
  it('tenant:admin of the system tenant cannot make a first-party application that yields system:admin', async () => {
    const key = await createApiKey(ts.api, 'system', ['tenant:admin'], 'system tenant admin');
    const attacker = apiClient(ts.url, key);
    // Not system-wide: it cannot make a tenant.
    expect((await attacker('POST', '/api/v1/tenants', { body: { slug: 'nope', displayName: 'x' } })).status).toBe(403);
    const app = await attacker('POST', '/api/v1/tenants/system/clients', {
      body: { kind: 'web', name: 'Helpful', redirectUris: [evilRedirect], firstParty: true },
    });
    // What the correct answer is; today 201, and the rest below shows what that yields.
    if (app.status === 201) {
      const token = await systemAdminSignsInThrough(ts, app.body.clientId, app.body.clientSecret);
      expect(decodeJwt(token).roles).toEqual(['system:admin']);
      const tenants = await apiClient(ts.url, token)('POST', '/api/v1/tenants', {
        body: { slug: `stolen-${dialect}`, displayName: 'Made with a stolen token' },
      });
      expect(tenants.status, 'the token acts as system:admin').toBe(201);
    }
    expect(app.status, app.text).toBe(403);
  });

  /**
   * Finding 1b (critical, same cause): `tenant:admin` of the `system` tenant may add its own
   * redirect URI to the built-in admin console (`admin-console`, a first-party public spa: no
   * secret needed, PKCE is the attacker's own). A system admin signed in to the console who
   * opens `/t/system/auth?client_id=admin-console&prompt=none&redirect_uri={evil}&resource=…/api`
   * sends a code there, and the code gives a `system:admin` token.
   * Correct: 403 `forbidden` (`missing.systemWide`) for anyone but a `system:admin`.
   */
  it('tenant:admin of the system tenant cannot redirect the admin console', async () => {
    const key = await createApiKey(ts.api, 'system', ['tenant:admin'], 'system tenant admin 2');
    const attacker = apiClient(ts.url, key);
    const list = await attacker('GET', '/api/v1/tenants/system/clients');
    const console_ = list.body.items.find((c: { clientId: string }) => c.clientId === 'admin-console');
    expect(console_?.firstParty).toBe(true);
    const patched = await attacker('PATCH', `/api/v1/tenants/system/clients/${console_.id}`, {
      body: { redirectUris: [...console_.redirectUris, evilRedirect] },
    });
    expect(patched.status, patched.text).toBe(403);
  });

  /**
   * Finding 2 (medium, availability): every unauthenticated `GET /t/{slug}/auth` stores an
   * interaction holding its parameters as sent, for an hour, with no bound on their size and no
   * limit per address: a 14 KB `state` (or `nonce`, `login_hint`, `claims`…) makes a ~14 KB row.
   * One address sending a few hundred requests a second writes gigabytes an hour into the
   * database every tenant shares (measured: 200 requests, 2.9 MB on PostgreSQL, in about 2 s).
   * Correct: the per-attempt row stays small, as issue 9 item 6 asks: parameters bounded where
   * they enter (a `state` past a few KB is `400 invalid_request`), or live interactions capped
   * per address. Cause: oidc/routes.ts checks parameters for control characters only;
   * oidc-provider saves `params` whole in the Interaction (oidc/adapter.ts stores it as is).
   */
  it('an unauthenticated /auth stores no more than a few KB, whatever its parameters', async () => {
    const { slug, api } = await tenantWithAdmin(ts);
    const spa = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'spa', name: 'Spa', redirectUris: ['https://app.example.test/cb'] },
    });
    expect(spa.status).toBe(201);
    const tenantId = (await api('GET', `/api/v1/tenants/${slug}`)).body.id as string;
    const requests = 20;
    let stored = 0;
    for (let i = 0; i < requests; i++) {
      const q = new URLSearchParams({
        client_id: spa.body.clientId,
        response_type: 'code',
        redirect_uri: 'https://app.example.test/cb',
        scope: 'openid',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        state: 'A'.repeat(14_000),
      });
      const res = await fetch(`${ts.url}/t/${slug}/auth?${q}`, { redirect: 'manual' });
      await res.text();
      if (res.status < 400) stored++;
    }
    const rows = await ts.server.ctx.database.db
      .selectFrom('oidc_payloads')
      .select('payload')
      .where('tenant_id', '=', tenantId)
      .where('model', '=', 'Interaction')
      .execute();
    const bytes = rows.reduce((n, r) => n + r.payload.length, 0);
    // Today: 20 interactions of ~14.5 KB each.
    expect(bytes, `${stored} of ${requests} stored, ${bytes} bytes`).toBeLessThanOrEqual(requests * 4096);
  });

  /**
   * Finding 2b (medium, availability, same class): pushed authorization requests need no
   * authentication for a public client, and every tenant has one known by name (the system
   * tenant's `admin-console`; any spa's client_id is public). One `POST /t/system/request` with
   * a 55 KB `state` stores a ~74 KB row (the parameters, and again as a request object), kept
   * until the next purge (5 minutes by default) although it expires in 60 s; measured on SQLite:
   * 100 requests, 7.4 MB, in 1.8 s from one connection. Correct: as for finding 2, bounded
   * parameters or a per-address limit, so that an unauthenticated request stores a few KB at most.
   */
  it('an unauthenticated pushed authorization request stores no more than a few KB', async () => {
    const requests = 10;
    for (let i = 0; i < requests; i++) {
      const form = new URLSearchParams({
        client_id: 'admin-console',
        response_type: 'code',
        redirect_uri: `${ts.url}/admin/callback`,
        scope: 'openid',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        state: `${i}${'A'.repeat(55_000)}`,
      });
      const res = await fetch(`${ts.url}/t/system/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      await res.text();
    }
    const rows = await ts.server.ctx.database.db
      .selectFrom('oidc_payloads')
      .select('payload')
      .where('model', '=', 'PushedAuthorizationRequest')
      .execute();
    const bytes = rows.reduce((n, r) => n + r.payload.length, 0);
    // Today: 10 rows of ~74 KB.
    expect(bytes, `${rows.length} rows, ${bytes} bytes`).toBeLessThanOrEqual(requests * 4096);
  });

  /**
   * Finding 3 (medium, availability): once an address is locked, each further sign-in attempt
   * from it is refused before any hash, but still reserved a `login_failures` counter for every
   * new email it tried (measured on SQLite, one connection: 300 attempts in 3.6 s, 300 lockout
   * rows). Fixed: login/service.ts reserves the address first and, when it is locked, counts
   * nothing per email. Each attempt still writes one small audit event (issue 9 item 6: every
   * attempt is audited; events go after AUDIT_RETENTION_DAYS, retention.test.ts).
   */
  it('attempts from a locked address reserve no counter per email they try', async () => {
    const { slug, api } = await tenantWithAdmin(ts);
    expect(
      (await api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { lockout: { maxFailures: 1 } } } })).status,
    ).toBe(200);
    const spa = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'spa', name: 'Spa', redirectUris: ['https://app.example.test/cb'] },
    });
    const tenantId = (await api('GET', `/api/v1/tenants/${slug}`)).body.id as string;
    const browser = new Browser();
    const signInUrl = authUrl(ts.url, slug, spa.body.clientId, 'https://app.example.test/cb');
    const page = await browser.go(signInUrl);
    const { action, csrf } = formOf(page);
    const attempt = async (i: number) => {
      const res = await fetch(action, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: browser.jar.header(action), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          csrf,
          email: `someone-${i}@example.test`,
          password: 'not the password',
        }).toString(),
      });
      await res.text();
      expect(res.status).toBe(303);
    };
    const db = ts.server.ctx.database.db;
    const count = async (table: 'audit_events' | 'login_failures') => {
      const n = await sql<{
        n: number | string;
      }>`select count(*) as n from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(db);
      return Number(n.rows[0]?.n);
    };
    const rows = () => count('login_failures');
    // The address locks after 10 failures (1 × IP_FAILURE_FACTOR).
    for (let i = 0; i < 12; i++) await attempt(i);
    const before = await rows();
    const auditedBefore = await count('audit_events');
    for (let i = 100; i < 150; i++) await attempt(i);
    // Before the fix: 50 more lockout counters. Each attempt is still audited, once.
    expect((await rows()) - before).toBe(0);
    expect((await count('audit_events')) - auditedBefore).toBe(50);
  });

  /**
   * Finding 4 (low, enumeration): registration answers a new and a taken email alike, but the
   * next step tells them apart: whoever registers `someone@…` with a password of their own
   * and then signs in with it is signed in when the email was new and refused when it was
   * taken. So each registration (10 an hour per address by default) tests one email. Correct:
   * the two sequences end alike, e.g. a self-registered account cannot sign in before its
   * email is verified (which needs the accounts issue's email), or registration is off where
   * that matters. Cause: users.register created an active account with a usable password.
   * Fixed: a self-registered account is `pending`, and cannot sign in, until the link sent to
   * its email is used (accounts/verification.ts); a taken email's owner is told instead.
   */
  it('registering then signing in does not tell a taken email from a new one', async () => {
    const { slug, api } = await tenantWithAdmin(ts);
    await api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } });
    await api('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email: 'taken@example.test', password: 'the owner’s own password' },
    });
    const spa = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'spa', name: 'Spa', redirectUris: ['https://app.example.test/cb'] },
    });
    const stopAt = (u: URL) => u.href.startsWith('https://app.example.test/');
    const outcome = async (email: string) => {
      const browser = new Browser();
      const signInUrl = authUrl(ts.url, slug, spa.body.clientId, 'https://app.example.test/cb');
      const page = await browser.go(signInUrl, { stopAt });
      const register = await browser.go(`${page.url.href}/register`, { stopAt });
      const registered = await browser.submit(
        register,
        { email, password: 'a password of my own', name: 'Me' },
        { stopAt },
      );
      expect(registered.url.searchParams.get('registered')).toBe('1');
      const signedIn = await browser.submit(registered, { email, password: 'a password of my own' }, { stopAt });
      return signedIn.url.searchParams.get('error') ?? 'signed in';
    };
    // Fixed (issue 11): a self-registered account is pending until its email's link is used,
    // so both end in "credentials" (accounts/verification.ts).
    expect(await outcome('new@example.test')).toBe(await outcome('taken@example.test'));
    expect(await outcome('another-new@example.test')).toBe('credentials');
  });
});

/**
 * Finding 6 (medium, brute force and availability): every per-address limit counts one IPv6
 * address, and anyone holds a /64 (2^64 addresses: any VPS, most home connections). The
 * registration limit, the per-address sign-in lockout (10 × `maxFailures`) and the hash
 * queue's per-source share are all bypassed by changing the last bits. Shown here through a
 * proxy (`TRUST_PROXY_HOPS=1`, the usual deployment) that forwards IPv6 clients: 12
 * registrations from 12 addresses of one /64 are all accepted where the limit is 2.
 * Correct: an IPv6 source counts as its /64 (or a configurable prefix) for every per-address
 * limit. Cause: passwords/hash.ts `requesterOf`, login/service.ts (`ip:${actor.ip}`) and
 * login/attempt-limit.ts key on the full address.
 */
describe('attack findings: IPv6 sources', () => {
  it('addresses of one IPv6 /64 share the registration limit', async () => {
    const ts = await startTestServer('sqlite', { TRUST_PROXY_HOPS: '1', REGISTRATION_LIMIT: '2' });
    try {
      const { slug, api } = await tenantWithAdmin(ts);
      await api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } });
      const spa = await api('POST', `/api/v1/tenants/${slug}/clients`, {
        body: { kind: 'spa', name: 'Spa', redirectUris: ['https://app.example.test/cb'] },
      });
      const browser = new Browser();
      const signInUrl = authUrl(ts.url, slug, spa.body.clientId, 'https://app.example.test/cb');
      const page = await browser.go(signInUrl);
      const register = await browser.go(`${page.url.href}/register`);
      const { action, csrf } = formOf(register);
      const statuses: number[] = [];
      for (let i = 1; i <= 12; i++) {
        const res = await fetch(action, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            cookie: browser.jar.header(action),
            'content-type': 'application/x-www-form-urlencoded',
            'x-forwarded-for': `2001:db8:1:2::${i.toString(16)}`,
          },
          body: new URLSearchParams({
            csrf,
            email: `person-${i}@example.test`,
            password: 'a long enough password',
            name: 'P',
          }).toString(),
        });
        await res.text();
        statuses.push(res.status);
      }
      // Today: twelve 303s (each address its own limit of 2).
      expect(statuses).toContain(429);
    } finally {
      await ts.close();
    }
  });
});

/**
 * Finding 5 (medium, availability): a request whose body never finishes is waited for
 * forever. Headers and a `Content-Length: 100` with 10 bytes sent keep a connection open
 * indefinitely (measured: still open after 200 s on `/t/{slug}/token` and on the sign-in form;
 * a connection that never finishes its headers is closed after ~90 s with 408, by Node's
 * `headersTimeout`), and nothing caps connections, so one unauthenticated client holds as
 * many sockets as the process can open (file descriptors are shared with the database).
 * Correct: an incomplete request is dropped after a bounded time, and docs/configuration.md
 * says so. Cause: http/app.ts built Fastify without `requestTimeout` (its default is 0, no
 * limit), and Node's requestTimeout stops counting once a request reaches its listener; the
 * fix is the `bodyDeadline` hook with REQUEST_TIMEOUT_SECONDS.
 * One dialect only: no database is involved. Fixed: REQUEST_TIMEOUT_SECONDS (default 30).
 */
describe('attack findings: connections', () => {
  it('a request whose body never finishes is dropped (REQUEST_TIMEOUT_SECONDS)', { timeout: 30_000 }, async () => {
    const ts = await startTestServer('sqlite', { REQUEST_TIMEOUT_SECONDS: '2' });
    try {
      const { slug } = await tenantWithAdmin(ts);
      const port = Number(new URL(ts.url).port);
      const closedAfter = await new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            `POST /t/${slug}/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type`,
          );
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve(Date.now() - started));
        setTimeout(() => {
          socket.destroy();
          resolve(Number.POSITIVE_INFINITY);
        }, 10_000);
      });
      expect(closedAfter).toBeGreaterThanOrEqual(1_900);
      expect(closedAfter).toBeLessThan(10_000);
    } finally {
      await ts.close();
    }
  });
});

/** The bootstrap system admin signs in to the system tenant, then opens a crafted prompt=none link. */
async function systemAdminSignsInThrough(ts: TestServer, clientId: string, clientSecret: string): Promise<string> {
  const browser = new Browser();
  const stopAt = (u: URL) => u.href.startsWith(evilRedirect);
  const link = (extra: Record<string, string>) => {
    const { verifier, challenge } = pkce();
    const q = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: evilRedirect,
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: `${ts.url}/api`,
      ...extra,
    });
    return { url: `${ts.url}/t/system/auth?${q}`, verifier };
  };
  // The admin signs in (here through the same application; the console's session does the same).
  const first = link({});
  const page = await browser.go(first.url, { stopAt });
  await browser.submit(page, { email: ts.adminEmail, password: ts.adminPassword }, { stopAt });
  // Later, the crafted link: no page is shown, the code goes to the attacker.
  const crafted = link({ prompt: 'none' });
  const done = await browser.go(crafted.url, { stopAt });
  const code = done.url.searchParams.get('code');
  expect(code, done.url.href).toBeTruthy();
  const token = await tokenRequest(
    ts,
    'system',
    { grant_type: 'authorization_code', code: code ?? '', redirect_uri: evilRedirect, code_verifier: crafted.verifier },
    { id: clientId, secret: clientSecret },
  );
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return token.body.access_token as string;
}

/** A page's form: where it posts and its CSRF token. */
function formOf(page: { html: string; url: URL }): { action: URL; csrf: string } {
  const action = /<form[^>]*action="([^"]*)"/.exec(page.html)?.[1] ?? '';
  return {
    action: new URL(action.replace(/&amp;/g, '&'), page.url),
    csrf: /name="csrf" value="([^"]*)"/.exec(page.html)?.[1] ?? '',
  };
}
