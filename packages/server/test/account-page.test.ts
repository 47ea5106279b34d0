/**
 * The account page, /t/{slug}/account (issue 11), through a running server on each database
 * and a real SMTP server, with the HTTP browser of the tests (a cookie jar, forms by name).
 * Tries to break it: a forged, another tenant's or replayed cookie, a replayed or foreign
 * authorization code, a missing CSRF token, changes without the current password, a session
 * ended elsewhere (by the admin, by "sign out everywhere else", by a password change), and
 * deletion where the tenant does not allow it.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceOf } from '../src/accounts/device.js';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorize, discover, redeem } from './helpers/oidc.js';
import { createTenant, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

const PASSWORD = 'account page password 1';

describe('deviceOf', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge on Windows',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      'Chrome on Android',
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
      'Chrome on Linux',
    ],
    ['curl/8.5.0', 'Unknown device'],
  ])('%s → %s', (ua, name) => {
    expect(deviceOf(ua)).toBe(name);
  });
  it('names nothing without a header', () => expect(deviceOf(undefined)).toBeUndefined());
});

describe.each(dialects)('the account page (%s)', (dialect) => {
  let smtp: TestSmtp;
  let ts: TestServer;
  let slug: string;
  let admin: Awaited<ReturnType<typeof tenantWithAdmin>>['api'];
  let n = 0;

  const accountUrl = () => `${ts.url}/t/${slug}/account`;
  async function user(password = PASSWORD) {
    const email = `acct-${dialect}-${++n}@example.test`;
    const res = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email, password, emailVerified: true, displayName: 'Ada' },
    });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, email };
  }
  /** Opens the account page in `browser`, signing in on the tenant's sign-in form when asked. */
  async function open(browser: Browser, email: string, password = PASSWORD): Promise<Page> {
    const first = await browser.go(accountUrl());
    if (!first.html.includes('name="password"') || first.url.pathname.endsWith('/account')) return first;
    return browser.submit(first, { email, password });
  }
  const isAccountPage = (p: Page) => p.status === 200 && p.html.includes('<h1>Your account</h1>');
  const isSignIn = (p: Page) =>
    p.url.pathname.includes('/interaction/') && p.html.includes('autocomplete="current-password"');

  beforeAll(async () => {
    smtp = await startSmtp();
    ts = await startTestServer(dialect, { SMTP_URL: smtp.url, EMAIL_FROM: 'Latchkey <auth@latchkey.test>' });
    ({ slug, api: admin } = await tenantWithAdmin(ts));
  });

  afterAll(async () => {
    await ts?.close();
    await smtp?.stop();
  });

  it('signs in on the tenant’s own sign-in page, through its built-in `account` client, and shows the user', async () => {
    const u = await user();
    const browser = new Browser();
    const first = await browser.go(accountUrl());
    expect(isSignIn(first), first.url.href).toBe(true);
    const page = await browser.submit(first, { email: u.email, password: PASSWORD });
    expect(page.url.pathname).toBe(`/t/${slug}/account`);
    expect(isAccountPage(page), page.html.slice(0, 400)).toBe(true);
    expect(page.html).toContain(u.email);
    expect(page.html).toContain('this browser');
    expect(page.html).toContain('Signed in');
    // No store, no framing, a CSRF token in every form.
    const res = await fetch(accountUrl(), { headers: { cookie: browser.jar.header(new URL(accountUrl())) } });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const forms = [...page.html.matchAll(/<form[^>]*>([\s\S]*?)<\/form>/g)];
    expect(forms.length).toBeGreaterThan(3);
    for (const f of forms) expect(f[1]).toContain('name="csrf"');
    // The built-in client is listed as such, and cannot be deleted.
    const clients = await admin('GET', `/api/v1/tenants/${slug}/clients?limit=100`);
    const account = clients.body.items.find((c: { clientId: string }) => c.clientId === 'account');
    expect(account?.builtin).toBe(true);
    expect((await admin('DELETE', `/api/v1/tenants/${slug}/clients/${account.id}`)).status).toBe(409);
  });

  it('a forged, another tenant’s or stale cookie, a replayed code and a foreign state all lead to the sign-in, never in', async () => {
    const u = await user();
    const browser = new Browser();
    // The authorization response, caught before the page redeems it.
    const form = await browser.go(accountUrl());
    const atCallback = (url: URL) => url.pathname.endsWith('/account/callback');
    const caught = await browser.submit(form, { email: u.email, password: PASSWORD }, { stopAt: atCallback });
    expect(caught.status).toBe(0);
    const callback = caught.url;
    // Another browser cannot use it (no state of its own).
    expect((await new Browser().go(callback)).status).toBe(400);
    const startCookie = browser.jar.header(callback);
    const ok = await browser.go(callback);
    expect(isAccountPage(ok)).toBe(true);
    // Replayed with the start cookie put back: the code is used.
    const replay = await fetch(callback, { headers: { cookie: startCookie }, redirect: 'manual' });
    expect(replay.status).toBe(400);

    const cookie = browser.jar.header(new URL(accountUrl()));
    const value = /lk_account=([^;]+)/.exec(cookie)?.[1] as string;
    expect(value).toBeTruthy();
    const [userId, sessionUid, until, mac] = value.split('.');
    const tries = [
      `${userId}.${sessionUid}.${Number(until) + 3600}.${mac}`, // longer life
      `usr_${'x'.repeat(20)}.${sessionUid}.${until}.${mac}`, // another user
      `${userId}.${sessionUid}.${until}.${'A'.repeat(43)}`, // forged MAC
    ];
    for (const forged of tries) {
      const res = await fetch(accountUrl(), { headers: { cookie: `lk_account=${forged}` }, redirect: 'manual' });
      expect(res.status, forged).toBe(303);
      expect(res.headers.get('location')).toContain('/auth?');
    }
    // Valid here; nothing in another tenant.
    const other = await createTenant(ts.api);
    const there = await fetch(`${ts.url}/t/${other}/account`, {
      headers: { cookie: `lk_account=${value}` },
      redirect: 'manual',
    });
    expect(there.status).toBe(303);
    // A form without its CSRF token changes nothing.
    const noCsrf = await fetch(`${accountUrl()}/profile`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Mallory',
    });
    expect(noCsrf.status).toBe(400);
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`)).body.displayName).toBe('Ada');
    // Sessions ended by an admin: the page's cookie counts for nothing after.
    expect((await admin('DELETE', `/api/v1/tenants/${slug}/users/${u.id}/sessions`)).status).toBe(204);
    expect(isSignIn(await browser.go(accountUrl()))).toBe(true);
  });

  it('changes the display name, audited with the user as actor', async () => {
    const u = await user();
    const browser = new Browser();
    const page = await open(browser, u.email);
    const saved = await browser.submit(page, { name: 'Ada Lovelace' }, { action: '/account/profile' });
    expect(saved.html).toContain('Your profile is saved.');
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`)).body.displayName).toBe('Ada Lovelace');
    const events = await admin('GET', `/api/v1/tenants/${slug}/audit-events?action=user.update&target=${u.id}`);
    expect(events.body.items[0]?.actor?.id).toBe(u.id);
    const tooLong = await browser.submit(saved, { name: 'x'.repeat(300) }, { action: '/account/profile' });
    expect(tooLong.status).toBe(400);
  });

  it('changes the password only with the current one; ends the other sessions, keeps this one, tells the address', async () => {
    const u = await user();
    const here = new Browser();
    const elsewhere = new Browser();
    const page = await open(here, u.email);
    expect(isAccountPage(await open(elsewhere, u.email))).toBe(true);
    const listed = await here.go(accountUrl());
    expect(
      listed.html.match(/Signed in \d/g)?.length ?? listed.html.split('Signed in ').length - 1,
    ).toBeGreaterThanOrEqual(2);

    const wrong = await here.submit(
      page,
      { current: 'not the password 1', password: 'a brand new password 2', confirm: 'a brand new password 2' },
      { action: '/account/password' },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('not your current password');
    const mismatch = await here.submit(
      page,
      { current: PASSWORD, password: 'a brand new password 2', confirm: 'another' },
      { action: '/account/password' },
    );
    expect(mismatch.status).toBe(400);
    const weak = await here.submit(
      page,
      { current: PASSWORD, password: 'short', confirm: 'short' },
      { action: '/account/password' },
    );
    expect(weak.status).toBe(400);

    const changed = await here.submit(
      page,
      { current: PASSWORD, password: 'a brand new password 2', confirm: 'a brand new password 2' },
      { action: '/account/password' },
    );
    expect(changed.html).toContain('Your password is changed');
    expect(isAccountPage(await here.go(accountUrl()))).toBe(true);
    expect(isSignIn(await elsewhere.go(accountUrl()))).toBe(true);
    const told = await smtp.messageTo(u.email, 1);
    expect(told.subject).toMatch(/password was changed/);
    // The old password no longer signs in; the new one does.
    const fresh = new Browser();
    const form = await fresh.go(accountUrl());
    expect(isSignIn(await fresh.submit(form, { email: u.email, password: PASSWORD }))).toBe(true);
    expect(isAccountPage(await open(new Browser(), u.email, 'a brand new password 2'))).toBe(true);
  });

  it('"sign out everywhere else" ends the other sessions and keeps this one', async () => {
    const u = await user();
    const here = new Browser();
    const elsewhere = new Browser();
    await open(here, u.email);
    await open(elsewhere, u.email);
    const page = await here.go(accountUrl());
    expect(page.html).toContain('Sign out everywhere else');
    const done = await here.submit(page, {}, { action: '/account/sessions' });
    expect(done.html).toContain('Every other session is signed out.');
    expect(done.html).toContain('You are signed in only here.');
    expect(isSignIn(await elsewhere.go(accountUrl()))).toBe(true);
    const sessions = await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}/sessions`);
    expect(sessions.body.items).toHaveLength(1);
  });

  it('what the kept session issued still refreshes; what the other sessions issued does not, nor do they come back', async () => {
    const redirectUri = 'http://127.0.0.1:9/kept-callback';
    const app = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: {
        kind: 'web',
        name: 'Kept check',
        redirectUris: [redirectUri],
        firstParty: true,
        scopes: ['openid', 'offline_access'],
      },
    });
    expect(app.status, app.text).toBe(201);
    const config = await discover(ts, slug, app.body);
    const u = await user();
    const here = new Browser();
    const elsewhere = new Browser();
    const params = { scope: 'openid offline_access', prompt: 'consent' };
    const tokensHere = await redeem(
      config,
      await authorize(config, here, redirectUri, { email: u.email, password: PASSWORD }, params),
    );
    const tokensThere = await redeem(
      config,
      await authorize(config, elsewhere, redirectUri, { email: u.email, password: PASSWORD }, params),
    );
    expect(tokensHere.refresh_token && tokensThere.refresh_token).toBeTruthy();
    const page = await open(here, u.email);
    await here.submit(page, {}, { action: '/account/sessions' });
    await expect(oidc.refreshTokenGrant(config, tokensThere.refresh_token as string)).rejects.toThrow();
    const refreshed = await oidc.refreshTokenGrant(config, tokensHere.refresh_token as string);
    expect(refreshed.access_token).toBeTruthy();
    // The other browser's session is gone: a new authorization there asks for the password again.
    const again = await authorize(config, elsewhere, redirectUri, { email: u.email, password: PASSWORD });
    expect(again.signInShown).toBe(true);
    // The exemption belongs to the end that kept it: a later end that leaves the column as it
    // was (a node of the version before 0012 knows no such column), the rows even saved back by
    // a request under way, ends the kept session and its tokens too.
    const later = await ts.server.ctx.database.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ sessions_ended_at: Date.now() + 2000 })
        .where('id', '=', u.id)
        .execute();
      return trx.selectFrom('users').select('sessions_kept_uid').where('id', '=', u.id).executeTakeFirstOrThrow();
    });
    expect(later.sessions_kept_uid).not.toBeNull();
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toThrow();
    expect(isSignIn(await here.go(accountUrl()))).toBe(true);
    await ts.server.ctx.database.db
      .updateTable('users')
      .set({ sessions_ended_at: null })
      .where('id', '=', u.id)
      .execute();
    // And the kept exemption is this session's only: ending all sessions (an admin) ends it too.
    expect((await admin('DELETE', `/api/v1/tenants/${slug}/users/${u.id}/sessions`)).status).toBe(204);
    expect(isSignIn(await here.go(accountUrl()))).toBe(true);
  });

  it('changes the email address once the new one is confirmed, with the password; the old address is told', async () => {
    const u = await user();
    const browser = new Browser();
    const page = await open(browser, u.email);
    const next = `moved-${dialect}-${n}@example.test`;
    const noPassword = await browser.submit(
      page,
      { email: next, password: 'wrong password 1' },
      { action: '/account/email' },
    );
    expect(noPassword.status).toBe(400);
    const taken = await user();
    const clash = await browser.submit(page, { email: taken.email, password: PASSWORD }, { action: '/account/email' });
    expect(clash.status).toBe(409);
    const asked = await browser.submit(page, { email: next, password: PASSWORD }, { action: '/account/email' });
    expect(asked.html).toContain('We sent a link to the new address');
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`)).body.email).toBe(u.email);
    const sent = await smtp.messageTo(next, 1);
    const link = /https?:\/\/\S+\/account\/verify\?token=[A-Za-z0-9_-]{43}/.exec(sent.text)?.[0] as string;
    const confirm = await browser.go(link);
    await browser.submit(confirm, {});
    const after = await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`);
    expect(after.body.email).toBe(next);
    expect(after.body.emailVerified).toBe(true);
    expect((await smtp.messageTo(u.email, 1)).text).toContain(next);
    const activity = await browser.go(accountUrl());
    expect(activity.html).toContain('Email address changed');
  });

  it('lists failed sign-ins and password checks in the recent activity', async () => {
    const u = await user();
    const wrong = new Browser();
    const form = await wrong.go(accountUrl());
    await wrong.submit(form, { email: u.email, password: 'not it at all 1' });
    const browser = new Browser();
    const page = await open(browser, u.email);
    expect(page.html).toContain('Failed sign-in');
    expect(page.html).toContain('Signed in');
    await browser.submit(page, { email: 'x@example.test', password: 'not it at all 1' }, { action: '/account/email' });
    expect((await browser.go(accountUrl())).html).toContain('Wrong password entered');
  });

  it('deletes the account only where the tenant allows it, with the password', async () => {
    const u = await user();
    const browser = new Browser();
    const page = await open(browser, u.email);
    expect(page.html).not.toContain('Delete my account');
    const cookie = browser.jar.header(new URL(`${accountUrl()}/delete`));
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] as string;
    const refused = await fetch(`${accountUrl()}/delete`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, password: PASSWORD, confirm: 'yes' }).toString(),
    });
    expect(refused.status).toBe(404);
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`)).status).toBe(200);

    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfDeletion: true } } })).status,
    ).toBe(200);
    try {
      const allowed = await browser.go(accountUrl());
      expect(allowed.html).toContain('Delete my account');
      const unticked = await browser.submit(allowed, { password: PASSWORD }, { action: '/account/delete' });
      expect(unticked.status).toBe(400);
      const wrong = await browser.submit(
        allowed,
        { password: 'wrong password 1', confirm: 'yes' },
        { action: '/account/delete' },
      );
      expect(wrong.status).toBe(400);
      expect((await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`)).status).toBe(200);
      const gone = await browser.submit(allowed, { password: PASSWORD, confirm: 'yes' }, { action: '/account/delete' });
      expect(gone.html).toContain('Your account has been deleted');
      expect((await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`)).status).toBe(404);
      expect(isSignIn(await browser.go(accountUrl()))).toBe(true);
      const events = await admin('GET', `/api/v1/tenants/${slug}/audit-events?action=user.delete&target=${u.id}`);
      expect(events.body.items[0]?.actor?.id).toBe(u.id);
    } finally {
      await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfDeletion: false } } });
    }
  });

  it('the pages after a reset and a confirmation link to it ("Manage your account")', async () => {
    for (const path of ['reset?done=1', 'verify?done=1']) {
      const page = await new Browser().go(`${accountUrl()}/${path}`);
      expect(page.html).toContain(`<a href="/t/${slug}/account">Manage your account</a>`);
    }
  });

  it('signs out at the tenant’s end-session endpoint', async () => {
    const u = await user();
    const browser = new Browser();
    const page = await open(browser, u.email);
    const confirm = await browser.submit(page, {}, { action: '/account/signout' });
    expect(confirm.url.pathname).toContain('/session/end');
    // Confirmed on the tenant's sign-out page: back at the account page, which asks to sign in.
    const after = await browser.submit(confirm, { logout: 'yes' });
    expect(isSignIn(after), after.url.href).toBe(true);
    expect(isSignIn(await browser.go(accountUrl()))).toBe(true);
  });
});
