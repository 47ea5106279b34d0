/**
 * Email delivery and password reset (issue 11) through the real thing: a Latchkey server on
 * each database, a real SMTP server (smtp-server) receiving what it sends, the links in the
 * messages followed over HTTP with a cookie jar, the sign-in page with the new password.
 * Tries to break it: a reused, tampered or other tenant's link, ten concurrent uses of one
 * link, the forgot-password form's answers for unknown, disabled and known addresses, its
 * limit per recipient, an SMTP server that refuses and then comes back, and the outbox list,
 * which never shows a link (but to system admins while nothing is sent).
 */
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { discover, signsIn as signInOnPage } from './helpers/oidc.js';
import {
  apiClient,
  captureLog,
  createApiKey,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const linkIn = (text: string) => /https?:\/\/\S+\/account\/reset\?token=[A-Za-z0-9_-]+/.exec(text)?.[0];

describe.each(dialects)('email delivery and password reset (%s)', (dialect) => {
  let smtp: TestSmtp;
  let ts: TestServer;
  let slug: string;
  let admin: Awaited<ReturnType<typeof tenantWithAdmin>>['api'];
  let config: oidc.Configuration;

  /** A user of the tenant with this password; their id. */
  async function user(email: string, password = 'first password 123', status: 'active' | 'disabled' = 'active') {
    const res = await admin('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password } });
    expect(res.status, res.text).toBe(201);
    if (status === 'disabled') {
      const off = await admin('PATCH', `/api/v1/tenants/${slug}/users/${res.body.id}`, { body: { status } });
      expect(off.status, off.text).toBe(200);
    }
    return res.body.id as string;
  }

  const signsIn = (email: string, password: string) => signInOnPage(config, redirectUri, email, password);

  /** The messages to `to` received so far. */
  const to = (address: string) => smtp.received.filter((m) => m.to.includes(address));

  const waitForMessage = (address: string, count = 1) => smtp.messageTo(address, count);

  async function resetLinkFor(userId: string, address: string) {
    const before = to(address).length;
    const sent = await admin('POST', `/api/v1/tenants/${slug}/users/${userId}/password-reset`);
    expect(sent.status, sent.text).toBe(202);
    expect(sent.text).not.toMatch(/token|account\/reset/);
    const message = await waitForMessage(address, before + 1);
    const link = linkIn(message.text);
    expect(link, message.text).toBeTruthy();
    return link as string;
  }

  beforeAll(async () => {
    smtp = await startSmtp();
    ts = await startTestServer(dialect, { SMTP_URL: smtp.url, EMAIL_FROM: 'Latchkey <auth@latchkey.test>' });
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    const settings = await admin('PATCH', `/api/v1/tenants/${slug}`, {
      body: { settings: { email: { fromName: 'Acme Accounts', replyTo: 'help@acme.test' } } },
    });
    expect(settings.status, settings.text).toBe(200);
    const app = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'Reset check', redirectUris: [redirectUri], firstParty: true },
    });
    expect(app.status, app.text).toBe(201);
    config = await discover(ts, slug, app.body);
  });

  afterAll(async () => {
    await ts?.close();
    await smtp?.stop();
  });

  it('sends an admin-requested link that sets a new password once, ends sessions, and says so by email', async () => {
    const email = `reset-${dialect}@example.test`;
    const id = await user(email);
    expect(await signsIn(email, 'first password 123')).toBe(true);
    const link = await resetLinkFor(id, email);
    const message = to(email)[0];
    expect(message?.from).toBe('auth@latchkey.test');
    expect(message?.replyTo).toBe('help@acme.test');
    expect(message?.html).toContain(link.replace(/&/g, '&amp;'));
    expect(message?.messageId).toMatch(/^<eml_[0-9a-z]{26}@latchkey\.test>$/);

    const browser = new Browser();
    const res = await fetch(link);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const form = await browser.go(link);
    expect(form.status).toBe(200);
    expect(form.html).toContain(email);

    // The policy's rule is named, and the link stays usable.
    const weak = await browser.submit(form, { password: 'short', confirm: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.html).toMatch(/at least \d+ characters/);
    const mismatch = await browser.submit(form, { password: 'a brand new password', confirm: 'another one' });
    expect(mismatch.status).toBe(400);
    const done = await browser.submit(form, { password: 'a brand new password', confirm: 'a brand new password' });
    expect(done.status, done.html).toBe(200);
    expect(done.url.pathname).toBe(`/t/${slug}/account/reset`);
    expect(done.html).toContain('Password changed');

    expect(await signsIn(email, 'a brand new password')).toBe(true);
    expect(await signsIn(email, 'first password 123')).toBe(false);
    const shown = await admin('GET', `/api/v1/tenants/${slug}/users/${id}`);
    expect(shown.body.emailVerified).toBe(true);
    // Used: the same link is dead, on GET and POST.
    const again = await new Browser().go(link);
    expect(again.status).toBe(400);
    expect(again.html).toContain('Ask for a new link');
    const replay = await browser.submit(form, { password: 'yet another password', confirm: 'yet another password' });
    expect(replay.status).toBe(400);
    expect(await signsIn(email, 'yet another password')).toBe(false);

    const changed = await waitForMessage(email, 2);
    expect(changed.subject).toMatch(/password was changed/);
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${id}`);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.password_reset.send', 'user.password.reset']));
  });

  it('gives a caller with users:write no link to anyone’s account, not even a weaker one’s', async () => {
    // The rule that nobody obtains more than they hold: sending a link hands the caller nothing.
    const role = await admin('POST', `/api/v1/tenants/${slug}/roles`, {
      body: { name: 'helpdesk', permissions: ['users:read', 'users:write'] },
    });
    expect(role.status, role.text).toBe(201);
    const helpdesk = apiClient(ts.url, await createApiKey(admin, slug, ['helpdesk'], 'helpdesk'));
    const email = `boss-${dialect}@example.test`;
    const id = await user(email);
    expect((await admin('PUT', `/api/v1/tenants/${slug}/users/${id}/roles/tenant:admin`)).status).toBeLessThan(300);
    for (const path of ['password-reset', 'verification']) {
      const res = await helpdesk('POST', `/api/v1/tenants/${slug}/users/${id}/${path}`);
      expect(res.status, res.text).toBe(202);
      expect(res.text).not.toMatch(/token|account\//);
    }
    // The outbox, where the link waits, is not theirs to read; nor can they move the address first.
    expect((await helpdesk('GET', `/api/v1/tenants/${slug}/emails`)).status).toBe(403);
    const moved = await helpdesk('PATCH', `/api/v1/tenants/${slug}/users/${id}`, {
      body: { email: 'helpdesk-inbox@example.test' },
    });
    expect(moved.status).toBe(403);
    expect((await waitForMessage(email)).to).toEqual([email]);
  });

  it('refuses a tampered link, another tenant’s, and a link replaced by a newer one', async () => {
    const email = `tamper-${dialect}@example.test`;
    const id = await user(email);
    const first = await resetLinkFor(id, email);
    const second = await resetLinkFor(id, email);
    expect((await new Browser().go(first)).status).toBe(400); // replaced
    const token = new URL(second).searchParams.get('token') ?? '';
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const tampered = second.replace(token, flipped);
    expect((await new Browser().go(tampered)).status).toBe(400);
    const other = await tenantWithAdmin(ts);
    const elsewhere = second.replace(`/t/${slug}/`, `/t/${other.slug}/`);
    expect((await new Browser().go(elsewhere)).status).toBe(400);
    for (const bad of ['', 'x', '%00', 'a'.repeat(5000)]) {
      const res = await fetch(`${ts.url}/t/${slug}/account/reset?token=${bad}`);
      expect(res.status, bad.slice(0, 10)).toBe(400);
    }
    // The newest link still works after all that.
    const browser = new Browser();
    const form = await browser.go(second);
    expect(form.status).toBe(200);
  });

  it('lets exactly one of ten concurrent uses of a link win', async () => {
    const email = `race-${dialect}@example.test`;
    const id = await user(email);
    const link = await resetLinkFor(id, email);
    const browser = new Browser();
    const form = await browser.go(link);
    const answers: Page[] = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        browser.submit(form, { password: `concurrent password ${i}`, confirm: `concurrent password ${i}` }),
      ),
    );
    const won = answers.filter((a) => a.status === 200 && a.html.includes('Password changed'));
    expect(won).toHaveLength(1);
    expect(answers.filter((a) => a.status === 400)).toHaveLength(9);
    const winner = answers.indexOf(won[0] as Page);
    expect(await signsIn(email, `concurrent password ${winner}`)).toBe(true);
  });

  it('answers the forgot-password form alike for every address, and mails only an active account, within limits', async () => {
    const known = `forgot-${dialect}@example.test`;
    const disabled = `forgot-off-${dialect}@example.test`;
    await user(known);
    await user(disabled, 'first password 123', 'disabled');
    const ask = async (email: string) => {
      const browser = new Browser();
      const form = await browser.go(`${ts.url}/t/${slug}/account/forgot`);
      expect(form.status).toBe(200);
      const started = performance.now();
      const answer = await browser.submit(form, { email });
      return { answer, ms: performance.now() - started };
    };
    const answers = await Promise.all([known, disabled, `nobody-${dialect}@example.test`].map(ask));
    for (const { answer } of answers) {
      expect(answer.status).toBe(200);
      expect(answer.url.search).toBe('?sent=1');
    }
    expect(new Set(answers.map((a) => a.answer.html)).size).toBe(1);
    const message = await waitForMessage(known);
    expect(linkIn(message.text)).toBeTruthy();
    // Give the others time to have been (wrongly) sent.
    await new Promise((r) => setTimeout(r, 500));
    expect(to(disabled)).toHaveLength(0);
    expect(to(`nobody-${dialect}@example.test`)).toHaveLength(0);
    // Five per recipient per hour (EMAIL_RECIPIENT_LIMIT): the sixth gets the same page, no message.
    for (let i = 0; i < 5; i++) expect((await ask(known)).answer.url.search).toBe('?sent=1');
    await waitForMessage(known, 5);
    await new Promise((r) => setTimeout(r, 500));
    expect(to(known)).toHaveLength(5);
    // A form without its CSRF token does nothing.
    const bare = await fetch(`${ts.url}/t/${slug}/account/forgot`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `email=${encodeURIComponent(known)}`,
      redirect: 'manual',
    });
    expect(bare.status).toBe(400);
  });

  it('keeps a message the SMTP server refuses and delivers it once when the server takes it', async () => {
    const email = `retry-${dialect}@example.test`;
    const id = await user(email);
    smtp.refuse(2);
    const refusalsBefore = smtp.refusals;
    const sent = await admin('POST', `/api/v1/tenants/${slug}/users/${id}/password-reset`);
    expect(sent.status).toBe(202);
    const emailId = sent.body.emailId as string;
    await waitForMessage(email);
    expect(smtp.refusals - refusalsBefore).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(to(email)).toHaveLength(1);
    const list = await admin('GET', `/api/v1/tenants/${slug}/emails?to=${encodeURIComponent(email)}`);
    expect(list.status, list.text).toBe(200);
    const row = list.body.items.find((e: { id: string }) => e.id === emailId);
    expect(row).toMatchObject({ status: 'sent', attempts: 3, template: 'password_reset' });
    expect(row.lastError).toBeNull();

    // A stopped server: the message waits, with the reason, and goes out when it is back.
    await smtp.stop();
    const later = await admin('POST', `/api/v1/tenants/${slug}/users/${id}/password-reset`);
    expect(later.status).toBe(202);
    const until = Date.now() + 10_000;
    let waiting: { status: string; attempts: number; lastError: string | null } | undefined;
    while (Date.now() < until) {
      const r = await admin('GET', `/api/v1/tenants/${slug}/emails?to=${encodeURIComponent(email)}&status=queued`);
      waiting = r.body.items[0];
      if (waiting && waiting.attempts > 0) break;
      await new Promise((r2) => setTimeout(r2, 100));
    }
    expect(waiting?.lastError).toMatch(/ECONNREFUSED|connect/i);
    await smtp.restart();
    await waitForMessage(email, 2);
  });

  it('verifies an email by the link an admin sends, once, and by the one sendVerification sends at creation', async () => {
    const email = `verify-${dialect}@example.test`;
    const id = await user(email);
    const sent = await admin('POST', `/api/v1/tenants/${slug}/users/${id}/verification`);
    expect(sent.status, sent.text).toBe(202);
    expect(sent.text).not.toMatch(/token/);
    const message = await waitForMessage(email);
    expect(message.subject).toMatch(/Confirm your email address/);
    const link = /https?:\/\/\S+\/account\/verify\?token=[A-Za-z0-9_-]{43}/.exec(message.text)?.[0] as string;
    expect(link).toBeTruthy();
    // Opening the link changes nothing (a mail scanner's GET); the button does.
    const browser = new Browser();
    const page = await browser.go(link);
    expect(page.status).toBe(200);
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.emailVerified).toBe(false);
    const done = await browser.submit(page, {});
    expect(done.html).toContain('Email address confirmed');
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.emailVerified).toBe(true);
    expect((await browser.submit(page, {})).status).toBe(400);
    expect((await new Browser().go(link)).status).toBe(400);
    const again = await admin('POST', `/api/v1/tenants/${slug}/users/${id}/verification`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('email_already_verified');

    const created = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email: `created-${dialect}@example.test`, sendVerification: true },
    });
    expect(created.status, created.text).toBe(201);
    const welcome = await waitForMessage(`created-${dialect}@example.test`);
    expect(welcome.text).toMatch(/\/account\/verify\?token=/);
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['user.verification.send', 'user.email.verify']),
    );
  });

  it('lists messages without their links, filtered, and refuses bad filters with 400', async () => {
    const all = await admin('GET', `/api/v1/tenants/${slug}/emails?limit=200`);
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBeGreaterThan(3);
    expect(all.text).not.toMatch(/token=|account\/reset/);
    expect(all.body.items.every((e: { content?: unknown }) => e.content === undefined)).toBe(true);
    // Not even for a system admin while messages are delivered.
    const system = await ts.api('GET', `/api/v1/tenants/${slug}/emails?limit=200`);
    expect(system.text).not.toMatch(/token=|account\/reset/);
    for (const q of ['status=lost', 'to=a%00b', 'limit=0', 'cursor=nonsense', 'extra=1']) {
      const res = await admin('GET', `/api/v1/tenants/${slug}/emails?${q}`);
      expect(res.status, q).toBe(400);
    }
    // Another tenant's admin does not even learn the tenant is there.
    const noRight = await tenantWithAdmin(ts);
    const foreign = await noRight.api('GET', `/api/v1/tenants/${slug}/emails`);
    expect(foreign.status).toBe(404);
  });
});

describe.each(dialects)('the embedded outbox, without SMTP_URL (%s)', (dialect) => {
  let ts: TestServer;
  const log = captureLog();

  beforeAll(async () => {
    ts = await startTestServer(dialect, { LOG_LEVEL: 'info' }, undefined, { logDestination: log });
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('keeps each message whole for system admins, logs its link, and shows tenant admins no link', async () => {
    const t = await tenantWithAdmin(ts);
    const created = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email: 'kept@example.test', password: 'first password 123' },
    });
    const sent = await t.api('POST', `/api/v1/tenants/${t.slug}/users/${created.body.id}/password-reset`);
    expect(sent.status).toBe(202);
    const until = Date.now() + 5000;
    while (!log.text().includes('email not sent') && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    const line = log.lines.find((l) => l.includes('email not sent'));
    const logged = linkIn(line ?? '');
    expect(logged, line).toBeTruthy();
    const system = await ts.api('GET', `/api/v1/tenants/${t.slug}/emails`);
    expect(system.status).toBe(200);
    expect(system.body.items[0]).toMatchObject({ status: 'queued', template: 'password_reset' });
    expect(linkIn(system.body.items[0].content.text)).toBe(logged);
    const tenantAdmin = await t.api('GET', `/api/v1/tenants/${t.slug}/emails`);
    expect(tenantAdmin.body.items[0].content).toBeUndefined();
    expect(tenantAdmin.text).not.toMatch(/token=/);
    // The logged link works.
    const form = await new Browser().go(logged as string);
    expect(form.status).toBe(200);
  });
});
