/**
 * Email verification by code, the tenant setting `requireVerifiedEmail`, and an email change
 * (issue 11), through a running server on each database and a real SMTP server.
 * Tries to break it: wrong codes (the link takes five, then no code at all, even the right one),
 * a code of another user's message, a forged or replayed proof of the password on the "verify
 * first" page, an existing browser session of an unverified user, a change to an address
 * another account took meanwhile.
 */
import { hash } from 'node:crypto';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorOf } from '../src/audit/service.js';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorizationRequest, discover } from './helpers/oidc.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const codeIn = (text: string) => /Enter the code ([0-9]{6})/.exec(text)?.[1];
const actor = actorOf({ ip: '127.0.0.1', id: 'test' } as never);

describe.each(dialects)('verification codes and requireVerifiedEmail (%s)', (dialect) => {
  let smtp: TestSmtp;
  let ts: TestServer;
  let slug: string;
  let admin: Awaited<ReturnType<typeof tenantWithAdmin>>['api'];
  let config: oidc.Configuration;

  const to = (address: string) => smtp.received.filter((m) => m.to.includes(address));
  const message = (address: string, count: number) => smtp.messageTo(address, count);
  async function user(email: string, password: string) {
    const res = await admin('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password } });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }
  const tenant = async () => {
    const t = await ts.server.ctx.tenants.findBySlug(slug);
    if (!t) throw new Error('no tenant');
    return t;
  };
  const atApp = (u: URL) => u.href.startsWith(redirectUri);
  /** Opens an authorization request in `browser` and submits the password: the page after. */
  async function signIn(browser: Browser, email: string, password: string): Promise<Page> {
    const { url } = await authorizationRequest(config, redirectUri);
    const form = await browser.go(url, { stopAt: atApp });
    if (atApp(form.url)) return form;
    return browser.submit(form, { email, password }, { stopAt: atApp });
  }

  beforeAll(async () => {
    smtp = await startSmtp();
    ts = await startTestServer(dialect, { SMTP_URL: smtp.url, EMAIL_FROM: 'Latchkey <auth@latchkey.test>' });
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    const app = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'Verify check', redirectUris: [redirectUri], firstParty: true },
    });
    expect(app.status, app.text).toBe(201);
    config = await discover(ts, slug, app.body);
  });

  afterAll(async () => {
    await ts?.close();
    await smtp?.stop();
  });

  it('verifies by the 6-digit code of the message, on the page the message names; five wrong codes end the code', async () => {
    const email = `code-${dialect}@example.test`;
    const id = await user(email, 'code password 123');
    expect((await admin('POST', `/api/v1/tenants/${slug}/users/${id}/verification`)).status).toBe(202);
    const sent = await message(email, 1);
    const code = codeIn(sent.text) as string;
    expect(code, sent.text).toMatch(/^[0-9]{6}$/);
    expect(sent.text).toContain(`/t/${slug}/account/verify.`);
    // Nothing stored redeems it: neither the code nor a plain hash of it.
    const rows = await ts.server.ctx.database.db
      .selectFrom('user_links')
      .selectAll()
      .where('user_id', '=', id)
      .execute();
    expect(JSON.stringify(rows)).not.toContain(code);
    expect(JSON.stringify(rows)).not.toContain(hash('sha256', code, 'hex'));

    const browser = new Browser();
    const form = await browser.go(`${ts.url}/t/${slug}/account/verify`);
    expect(form.status).toBe(200);
    expect(form.html).toContain('name="code"');
    const wrong = code === '000000' ? '111111' : '000000';
    const bad = await browser.submit(form, { email, code: wrong });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('not right');
    const good = await browser.submit(bad, { email, code });
    expect(good.url.searchParams.get('done'), good.html.slice(0, 300)).toBe('1');
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.emailVerified).toBe(true);
    // Used: the same code again does nothing.
    expect((await browser.submit(form, { email, code })).status).toBe(400);

    // A new message; five wrong guesses, then even the right code is refused (the link still works).
    await ts.server.ctx.database.db.updateTable('users').set({ email_verified: 0 }).where('id', '=', id).execute();
    expect((await admin('POST', `/api/v1/tenants/${slug}/users/${id}/verification`)).status).toBe(202);
    const second = await message(email, 2);
    const code2 = codeIn(second.text) as string;
    const t = await tenant();
    for (let i = 0; i < 5; i++) {
      const guess = String((Number(code2) + 1 + i) % 1_000_000).padStart(6, '0');
      expect(await ts.server.ctx.verifications.verify(t, { email, code: guess }, actor)).toBe('invalid');
    }
    expect(await ts.server.ctx.verifications.verify(t, { email, code: code2 }, actor)).toBe('invalid');
    const link = /https?:\/\/\S+\/account\/verify\?token=[A-Za-z0-9_-]{43}/.exec(second.text)?.[0] as string;
    const confirm = await browser.go(link);
    expect(confirm.status).toBe(200);
    expect((await browser.submit(confirm, {})).url.searchParams.get('done')).toBe('1');
  });

  it('a code opens only the message it was sent with: not another user’s', async () => {
    const a = `code-a-${dialect}@example.test`;
    const b = `code-b-${dialect}@example.test`;
    const idA = await user(a, 'code password 123');
    const idB = await user(b, 'code password 123');
    await admin('POST', `/api/v1/tenants/${slug}/users/${idA}/verification`);
    await admin('POST', `/api/v1/tenants/${slug}/users/${idB}/verification`);
    const codeA = codeIn((await message(a, 1)).text) as string;
    const codeB = codeIn((await message(b, 1)).text) as string;
    const t = await tenant();
    if (codeA !== codeB)
      expect(await ts.server.ctx.verifications.verify(t, { email: b, code: codeA }, actor)).toBe('invalid');
    expect(await ts.server.ctx.verifications.verify(t, { email: b, code: codeB }, actor)).toBe('verified');
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${idA}`)).body.emailVerified).toBe(false);
  });

  it('requireVerifiedEmail: no code for an unverified user, who may resend the message or type its code and go on', async () => {
    const email = `require-${dialect}@example.test`;
    const password = 'require password 123';
    const id = await user(email, password);
    // Signed in before the setting is on: that browser session gives no code afterwards.
    const earlier = new Browser();
    expect(atApp((await signIn(earlier, email, password)).url)).toBe(true);
    const on = await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { requireVerifiedEmail: true } } });
    expect(on.status, on.text).toBe(200);
    try {
      const again = await signIn(earlier, 'ignored@example.test', 'not the password');
      expect(atApp(again.url), 'the old session signs in silently').toBe(false);

      const browser = new Browser();
      const first = await signIn(browser, email, password);
      expect(atApp(first.url)).toBe(false);
      expect(first.html).toContain('Confirm your email address first');
      // A wrong password gets the usual answer, not this page.
      const wrongPassword = await signIn(new Browser(), email, 'not the password');
      expect(wrongPassword.html).not.toContain('Confirm your email address first');

      // The proof of the password cannot be forged for another user.
      const proof = /name="proof" value="([^"]+)"/.exec(first.html)?.[1] as string;
      const forged = await browser.submit(first, {
        proof: proof.replace(id, 'usr_0000000000000000000000000'),
        action: 'resend',
      });
      expect(forged.html).not.toContain('We sent a new message');
      expect(to(email)).toHaveLength(0);

      const resent = await browser.submit(first, { action: 'resend' });
      expect(resent.html).toContain('We sent a new message');
      const code = codeIn((await message(email, 1)).text) as string;
      const done = await browser.submit(resent, { action: 'code', code }, { stopAt: atApp });
      expect(atApp(done.url), done.html.slice(0, 300)).toBe(true);
      expect(done.url.searchParams.get('code')).toBeTruthy();
      expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.emailVerified).toBe(true);
    } finally {
      await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { requireVerifiedEmail: false } } });
    }
  });

  it('an email change takes effect when the new address is verified, and the old address is told', async () => {
    const old = `change-old-${dialect}@example.test`;
    const next = `change-new-${dialect}@example.test`;
    const id = await user(old, 'change password 123');
    const t = await tenant();
    const row = await ts.server.ctx.database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    await ts.server.ctx.verifications.requestChange(t, row, next, actor);
    const sent = await message(next, 1);
    // Nothing changes until then.
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.email).toBe(old);
    const link = /https?:\/\/\S+\/account\/verify\?token=[A-Za-z0-9_-]{43}/.exec(sent.text)?.[0] as string;
    const browser = new Browser();
    const confirm = await browser.go(link);
    expect(confirm.html).toContain(next);
    expect((await browser.submit(confirm, {})).url.searchParams.get('done')).toBe('1');
    const after = (await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body;
    expect(after.email).toBe(next);
    expect(after.emailVerified).toBe(true);
    const told = await message(old, 1);
    expect(told.text).toContain(next);

    // Another change, to an address another account then takes: refused at use, nothing lost.
    const third = `change-third-${dialect}@example.test`;
    const row2 = await ts.server.ctx.database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    await ts.server.ctx.verifications.requestChange(t, row2, third, actor);
    const link2 = /https?:\/\/\S+\/account\/verify\?token=[A-Za-z0-9_-]{43}/.exec(
      (await message(third, 1)).text,
    )?.[0] as string;
    await user(third, 'someone else 1234');
    const other = new Browser();
    const taken = await other.submit(await other.go(link2), {});
    expect(taken.status).toBe(409);
    expect(taken.html).toContain('email_taken');
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.email).toBe(next);
    // Asking for a taken address is refused at once.
    await expect(ts.server.ctx.verifications.requestChange(t, row2, third, actor)).rejects.toMatchObject({
      code: 'email_taken',
    });
  });
});
