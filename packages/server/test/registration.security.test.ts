/**
 * Self-registration tells nobody which emails have an account: registering a taken email
 * and a new one get the same status, redirect, cookies and page, after comparable work (the
 * password is hashed either way), and neither signs in. Registration is limited per client
 * address: past REGISTRATION_LIMIT a 429 page with Retry-After, before any work.
 * @see issue 9, item 13
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorizationRequest, discover } from './helpers/oidc.js';
import { linkFromOutbox } from './helpers/outbox.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const redisUrl = process.env.TEST_REDIS_URL;

/** Every dialect with its lockout store in the database, and one with Redis when there is one. */
const setups: [string, (typeof dialects)[number], string | undefined][] = [
  ...dialects.map((d): [string, typeof d, undefined] => [d, d, undefined]),
  ...(redisUrl
    ? [[`${dialects.at(-1)} with Redis`, dialects.at(-1) ?? 'sqlite', redisUrl] as [string, 'sqlite', string]]
    : []),
];

interface Answer {
  status: number;
  location: string;
  cookies: string[];
  /** The page the redirect leads to. */
  page: Page;
  /** The same, with this interaction's own values (path, CSRF token, email) replaced. */
  normalized: string;
  ms: number;
}

describe.each(setups)('self-registration (%s)', (_label, dialect, redis) => {
  let ts: TestServer;
  let slug: string;
  let api: ApiClient;
  let config: Awaited<ReturnType<typeof discover>>;
  const existing = { email: 'taken@example.test', password: 'the owner’s own password' };
  let address = 0;
  /** A client address of its own (the server trusts one proxy hop), so that limits stay apart. */
  const nextAddress = () => `203.0.113.${++address}`;

  beforeAll(async () => {
    ts = await startTestServer(dialect, {
      TRUST_PROXY_HOPS: '1',
      REGISTRATION_LIMIT: '3',
      REGISTRATION_WINDOW_SECONDS: '600',
      ...(redis ? { REDIS_URL: redis } : {}),
    });
    ({ slug, api } = await tenantWithAdmin(ts));
    const on = await api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } });
    expect(on.status).toBe(200);
    expect((await api('POST', `/api/v1/tenants/${slug}/users`, { body: existing })).status).toBe(201);
    const created = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(created.status).toBe(201);
    config = await discover(ts, slug, created.body);
  });
  afterAll(async () => {
    await ts?.close();
  });

  /** Opens the registration form of a new sign-in in a new browser. */
  async function registrationForm() {
    const browser = new Browser();
    const request = await authorizationRequest(config, redirectUri);
    const login = await browser.go(request.url);
    expect(login.status).toBe(200);
    const form = await browser.go(new URL(`${login.url.pathname}/register`, login.url));
    expect(form.status).toBe(200);
    const csrf = /name="csrf" value="([^"]*)"/.exec(form.html)?.[1] ?? '';
    return { browser, base: login.url.pathname, form, csrf };
  }

  /** Registers `email` from `from`, and reads the page the answer leads to. */
  async function register(email: string, password: string, from: string): Promise<Answer> {
    const { browser, base, form, csrf } = await registrationForm();
    const url = new URL(`${base}/register`, form.url);
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: browser.jar.header(url),
        'x-forwarded-for': from,
      },
      body: new URLSearchParams({ csrf, email, name: 'Someone', password }).toString(),
      redirect: 'manual',
    });
    const ms = performance.now() - started;
    browser.jar.store(res);
    const location = res.headers.get('location') ?? '';
    const next = location ? new URL(location, url) : undefined;
    // Only this server's pages are read (a sign-in would lead to the application instead).
    const page =
      next?.origin === url.origin
        ? await browser.go(next, { stopAt: (u) => u.origin !== url.origin })
        : { url: next ?? url, status: res.status, html: next ? '' : await res.text() };
    const strip = (text: string) =>
      text
        .replaceAll(base, 'BASE')
        .replaceAll(csrf, 'CSRF')
        .replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="CSRF"')
        // The "Forgot password?" link names the interaction to come back to.
        .replace(/forgot\?return=[A-Za-z0-9_-]+/g, 'forgot?return=UID')
        .replaceAll(email, 'EMAIL');
    return {
      status: res.status,
      location: strip(location),
      cookies: res.headers.getSetCookie().map((c) => strip(c).replace(/^lk_email=[^;]*/, 'lk_email=VALUE')),
      page,
      normalized: strip(page.html),
      ms,
    };
  }

  async function usersNamed(email: string) {
    const res = await api('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(email)}`);
    expect(res.status).toBe(200);
    return res.body.items as { id: string; email: string }[];
  }

  it('answers a taken email exactly as a new one, and signs in neither', async () => {
    const fresh = await register('fresh@example.test', 'a fine new password', nextAddress());
    const taken = await register(existing.email, 'an attacker’s password', nextAddress());

    expect(taken.status).toBe(303);
    expect(taken.status).toBe(fresh.status);
    expect(taken.location).toBe(fresh.location);
    expect(taken.cookies).toEqual(fresh.cookies);
    expect(taken.page.status).toBe(fresh.page.status);
    expect(taken.normalized).toBe(fresh.normalized);
    // What both say: the sign-in form, the email filled in, "check your inbox".
    expect(fresh.page.status).toBe(200);
    expect(fresh.page.html).toContain('Check your inbox');
    expect(fresh.page.html).toContain('<button type="submit">Sign in</button>');
    expect(fresh.page.html).not.toContain('exists');
    expect(taken.page.html).toContain(`value="${existing.email}"`);

    // The new account exists, pending: its password signs in only once the link sent to the
    // email is used; the taken one is unchanged, and its owner is told.
    expect(await usersNamed('fresh@example.test')).toHaveLength(1);
    expect(await usersNamed(existing.email)).toHaveLength(1);
    const signIn = async (email: string, password: string) => {
      const browser = new Browser();
      const request = await authorizationRequest(config, redirectUri);
      const login = await browser.go(request.url);
      return browser.submit(login, { email, password }, { stopAt: (u) => u.href.startsWith(redirectUri) });
    };
    const early = await signIn('fresh@example.test', 'a fine new password');
    const refused = await signIn(existing.email, 'an attacker’s password');
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('Invalid email or password.');
    expect(early.status).toBe(refused.status);
    expect(
      early.html
        .replace(/interaction\/[^/"?]+/g, '')
        .replace(/name="csrf" value="[^"]+"/, '')
        .replace(/return=[\w-]+/g, '')
        .replace('fresh@example.test', 'EMAIL'),
    ).toBe(
      refused.html
        .replace(/interaction\/[^/"?]+/g, '')
        .replace(/name="csrf" value="[^"]+"/, '')
        .replace(/return=[\w-]+/g, '')
        .replace(existing.email, 'EMAIL'),
    );
    // Stored as a node of the version before reads it (migration 0009): a disabled account.
    const stored = await ts.server.ctx.database.db
      .selectFrom('users')
      .select(['status', 'pending_verification'])
      .where('email', '=', 'fresh@example.test')
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ status: 'disabled', pending_verification: 1 });
    expect((await usersNamed('fresh@example.test'))[0]).toMatchObject({ status: 'pending' });
    const notice = await ts.api('GET', `/api/v1/tenants/${slug}/emails?to=${encodeURIComponent(existing.email)}`);
    expect(notice.body.items.map((e: { template: string }) => e.template)).toEqual(['account_exists']);
    const browser = new Browser();
    const verify = await browser.go(await linkFromOutbox(ts.api, slug, 'fresh@example.test', 'verify'));
    expect((await browser.submit(verify, {})).html).toContain('Email address confirmed');
    expect((await signIn('fresh@example.test', 'a fine new password')).url.href).toMatch(
      /^http:\/\/127\.0\.0\.1:9\/callback\?code=/,
    );

    // Admins see what happened: one registration, one refused for the taken email.
    const audit = await api('GET', `/api/v1/tenants/${slug}/audit-events?action=user.register`);
    expect(audit.status).toBe(200);
    const entries = audit.body.items as { outcome: string; details: Record<string, unknown> | null }[];
    expect(entries.filter((e) => e.outcome === 'success')).toHaveLength(1);
    expect(entries.filter((e) => e.outcome === 'failure').map((e) => e.details?.reason)).toEqual(['email_taken']);
  });

  it('does the same work for a taken email as for a new one (the password is hashed either way)', async () => {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const fresh: number[] = [];
    const taken: number[] = [];
    for (let i = 0; i < 3; i++) {
      fresh.push((await register(`timed-${i}@example.test`, 'a fine new password', nextAddress())).ms);
      taken.push((await register(existing.email, 'a fine new password', nextAddress())).ms);
    }
    // Loose, as the machine is shared: skipping the hash would make it several times faster.
    expect(median(taken)).toBeGreaterThan(median(fresh) * 0.4);
  });

  it('registering one email again and again mails it no more than EMAIL_RECIPIENT_LIMIT times', async () => {
    const email = `bombed-${Math.random().toString(36).slice(2)}@example.test`;
    for (let i = 0; i < 8; i++) {
      expect((await register(email, 'a fine new password', nextAddress())).status).toBe(303);
    }
    const tenantId = (await api('GET', `/api/v1/tenants/${slug}`)).body.id as string;
    const sent = await ts.server.ctx.database.db
      .selectFrom('emails')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('to_address', '=', email)
      .execute();
    // The first makes the pending account and its message; the limit counts every attempt.
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(ts.server.ctx.config.email.recipientLimit);
  });

  it('limits registrations per client address: past the limit, 429 with Retry-After and nothing done', async () => {
    const from = nextAddress();
    // Attempts count whatever their outcome: a new email, a taken one, a weak password.
    expect((await register('limited-1@example.test', 'a fine new password', from)).status).toBe(303);
    expect((await register(existing.email, 'a fine new password', from)).status).toBe(303);
    expect((await register('limited-2@example.test', 'short', from)).status).toBe(303);
    const refused = await register('limited-3@example.test', 'a fine new password', from);
    expect(refused.status).toBe(429);
    expect(refused.page.html).toContain('Too many attempts');
    expect(await usersNamed('limited-3@example.test')).toEqual([]);
    const { browser, base, form, csrf } = await registrationForm();
    const url = new URL(`${base}/register`, form.url);
    const again = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: browser.jar.header(url),
        'x-forwarded-for': from,
      },
      body: new URLSearchParams({ csrf, email: 'limited-4@example.test', password: 'a fine new password' }).toString(),
      redirect: 'manual',
    });
    expect(again.status).toBe(429);
    const retryAfter = Number(again.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(again.headers.get('content-type')).toContain('text/html');
    expect(await usersNamed('limited-4@example.test')).toEqual([]);

    // Another address is not held back.
    expect((await register('limited-5@example.test', 'a fine new password', nextAddress())).status).toBe(303);
    expect(await usersNamed('limited-5@example.test')).toHaveLength(1);
  });
});
