/**
 * The ticket page, /t/{slug}/tickets/{secret} (issue 11), through a running server on each
 * database with the HTTP browser of the tests: the welcome and its agreement, registering on
 * a tenant closed to self-registration when the type allows it (the invited address verified),
 * signing in and accepting with an existing account, the roles granted, postUseUrl, and the
 * expired ticket's "Request a new invitation". Tries to break it: ten concurrent uses of one
 * ticket (exactly one account, one use), a tampered or another tenant's secret, registering
 * where the type does not allow it, skipping the welcome, a used ticket, and the secret in logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactSecrets } from '../src/logger.js';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { captureLog, createTenant, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { ticketMaker } from './helpers/tickets.js';

const PASSWORD = 'ticket page password 1';
const APP = 'https://app.example.test';

describe('ticket secrets in logs', () => {
  it('are taken out of a ticket page’s path', () => {
    const secret = 'A'.repeat(43);
    expect(redactSecrets(`/t/acme/tickets/${secret}/accept`)).toBe('/t/acme/tickets/[redacted]/accept');
    expect(redactSecrets(`https://x.test/t/acme/tickets/${secret}`)).not.toContain(secret);
  });
});

describe.each(dialects)('the ticket page (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let admin: Awaited<ReturnType<typeof tenantWithAdmin>>['api'];
  const log = captureLog();

  const { makeType, issue } = ticketMaker(() => ({ admin, slug }), {
    roles: ['members'],
    postUseUrl: `${APP}/welcome`,
  });
  const rolesOf = async (email: string) => {
    const users = await admin('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(email)}`);
    const u = users.body.items.find((x: { email: string }) => x.email === email);
    return u ? (u.roles as string[]) : undefined;
  };
  const ticket = async (typeId: string, ticketId: string) => {
    const res = await admin('GET', `/api/v1/tenants/${slug}/ticket-types/${typeId}/tickets?limit=100`);
    return res.body.items.find((t: { id: string }) => t.id === ticketId) as { state: string; usedBy: string | null };
  };
  const atApp = (u: URL) => u.origin === APP;
  /** Opens the link and agrees: the choice page. */
  async function agree(browser: Browser, url: string): Promise<Page> {
    const welcome = await browser.go(url);
    expect(welcome.status, welcome.html.slice(0, 300)).toBe(200);
    return browser.submit(welcome, { agree: 'yes' });
  }

  beforeAll(async () => {
    ts = await startTestServer(dialect, { REGISTRATION_LIMIT: '1000' }, undefined, { logDestination: log });
    ({ slug, api: admin } = await tenantWithAdmin(ts));
    expect(
      (await admin('POST', `/api/v1/tenants/${slug}/roles`, { body: { name: 'members', permissions: [] } })).status,
    ).toBe(201);
    const patched = await admin('PATCH', `/api/v1/tenants/${slug}`, {
      body: { settings: { allowedOrigins: [APP], selfRegistration: false } },
    });
    expect(patched.status, patched.text).toBe(200);
  });

  afterAll(async () => {
    await ts?.close();
  });

  it('welcome, agreement, a new account on a closed tenant (the invited address verified), the roles, postUseUrl; used once', async () => {
    const typeId = await makeType({
      allowUserCreation: true,
      welcome: {
        title: 'Join the beta',
        body: 'First paragraph.\n\nSecond one.',
        okText: 'Let me in',
        agreementRequired: true,
      },
    });
    const email = `invitee-${dialect}@example.test`;
    const { url, ticketId } = await issue(typeId, email);
    const browser = new Browser();
    const welcome = await browser.go(url);
    expect(welcome.status).toBe(200);
    expect(welcome.html).toContain('Join the beta');
    expect(welcome.html).toContain('<p>Second one.</p>');
    expect(welcome.html).toContain('Let me in');
    const res = await fetch(url);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    // The agreement is required; skipping the welcome leads back to it.
    expect((await browser.submit(welcome, {})).status).toBe(400);
    const skipped = await new Browser().go(`${url}/accept`);
    expect(skipped.html).toContain('Join the beta');

    const choice = await browser.submit(welcome, { agree: 'yes' });
    expect(choice.url.pathname.endsWith('/accept')).toBe(true);
    expect(choice.html).toContain('Create the account and accept');
    expect(choice.html).toContain(`value="${email}" readonly`);
    const done = await browser.submit(
      choice,
      { name: 'Invited One', password: PASSWORD },
      { action: '/register', stopAt: atApp },
    );
    expect(done.url.href).toBe(`${APP}/welcome`);
    expect(await rolesOf(email)).toEqual(['members']);
    const users = await admin('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(email)}`);
    expect(users.body.items[0].emailVerified).toBe(true);
    expect((await ticket(typeId, ticketId)).state).toBe('used');
    // Used: the link says so.
    const again = await new Browser().go(url);
    expect(again.status).toBe(410);
    expect(again.html).toContain('used already');
    // And the secret was never logged.
    expect(log.text()).not.toContain(url.split('/').at(-1));
  });

  it('with an existing account: sign in on the tenant’s page, come back, accept; the roles are granted', async () => {
    const typeId = await makeType({ postUseUrl: null });
    const email = `existing-${dialect}@example.test`;
    const created = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email, password: PASSWORD, emailVerified: true },
    });
    expect(created.status).toBe(201);
    const { url } = await issue(typeId, email);
    const browser = new Browser();
    const choice = await agree(browser, url);
    // Closed tenant, type without user creation: no registration form.
    expect(choice.html).not.toContain('Create the account');
    const signIn = await browser.submit(choice, {}, { action: '/signin' });
    expect(signIn.url.pathname).toContain('/interaction/');
    expect(signIn.html).toContain(`value="${email}"`); // login_hint
    const back = await browser.submit(signIn, { email, password: PASSWORD });
    expect(back.url.pathname.endsWith('/accept')).toBe(true);
    expect(back.html).toContain(`Accept as ${email}`);
    const accepted = await browser.submit(back, {}, { action: '/accept' });
    // No postUseUrl: the account page, which says so.
    expect(accepted.url.pathname).toBe(`/t/${slug}/account`);
    expect(accepted.html).toContain('The invitation is accepted.');
    expect(await rolesOf(email)).toEqual(['members']);
  });

  it('refuses registration where neither the type nor the tenant allows it', async () => {
    const typeId = await makeType();
    const { url } = await issue(typeId, `nobody-${dialect}@example.test`);
    const browser = new Browser();
    const choice = await agree(browser, url);
    const csrf = /name="csrf" value="([^"]+)"/.exec(choice.html)?.[1] as string;
    const res = await fetch(`${url}/register`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: browser.jar.header(new URL(`${url}/register`)),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ csrf, password: PASSWORD }).toString(),
    });
    expect(res.status).toBe(303);
    expect(await rolesOf(`nobody-${dialect}@example.test`)).toBeUndefined();
  });

  it('ten concurrent registrations with one ticket: exactly one account, one use', async () => {
    const typeId = await makeType({ allowUserCreation: true });
    const { url, ticketId } = await issue(typeId, `external-id-${dialect}-42`);
    const browser = new Browser();
    const choice = await agree(browser, url);
    // The key is no email: the address is typed, and confirmed by the usual message.
    expect(choice.html).toContain('name="email" type="email" autocomplete="username" required');
    const csrf = /name="csrf" value="([^"]+)"/.exec(choice.html)?.[1] as string;
    const cookie = browser.jar.header(new URL(`${url}/register`));
    const emails = Array.from({ length: 10 }, (_, i) => `race-${dialect}-${i}@example.test`);
    const answers = await Promise.all(
      emails.map((email) =>
        fetch(`${url}/register`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf, email, password: PASSWORD }).toString(),
        }),
      ),
    );
    // The winner's account waits for its address's link (pending), holding the invitation's roles.
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 410)).toHaveLength(9);
    const made = (await Promise.all(emails.map(rolesOf))).filter((r) => r !== undefined);
    expect(made).toEqual([['members']]);
    const winner = emails[answers.findIndex((a) => a.status === 200)] as string;
    const listed = await admin('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(winner)}`);
    expect(listed.body.items[0].status).toBe('pending');
    const used = await ticket(typeId, ticketId);
    expect(used.state).toBe('used');
  });

  it('an expired ticket offers "Request a new invitation", which puts it in the reissue queue', async () => {
    const typeId = await makeType({ postInvalidUrl: `${APP}/sorry` });
    const { url, ticketId } = await issue(typeId, `late-${dialect}@example.test`);
    await ts.server.ctx.database.db
      .updateTable('tickets')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', '=', ticketId)
      .execute();
    const browser = new Browser();
    const expired = await browser.go(url);
    expect(expired.status).toBe(410);
    expect(expired.html).toContain('This invitation has expired.');
    expect(expired.html).toContain(`href="${APP}/sorry"`);
    const asked = await browser.submit(expired, {}, { action: '/reissue' });
    expect(asked.html).toContain('You have asked for a new invitation');
    const queue = await admin('GET', `/api/v1/tenants/${slug}/ticket-reissue-requests`);
    expect(queue.body.items.map((t: { id: string }) => t.id)).toContain(ticketId);
    expect((await browser.go(url)).html).not.toContain('Request a new invitation');
  });

  it('a tampered, unknown or another tenant’s secret is not found', async () => {
    const typeId = await makeType();
    const { url } = await issue(typeId, `tamper-${dialect}@example.test`);
    const secret = url.split('/').at(-1) as string;
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect((await fetch(`${ts.url}/t/${slug}/tickets/${flipped}`)).status).toBe(404);
    expect((await fetch(`${ts.url}/t/${slug}/tickets/short`)).status).toBe(404);
    const other = await createTenant(ts.api);
    expect((await fetch(`${ts.url}/t/${other}/tickets/${secret}`)).status).toBe(404);
    expect((await fetch(`${ts.url}/t/${slug}/tickets/${secret}`)).status).toBe(200);
  });
});
