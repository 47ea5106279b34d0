/**
 * The email outbox's promises (email/outbox.ts) where they are hardest to keep: a server
 * killed (SIGKILL) after a change that queued a message and before the message was sent (its
 * mail server down) loses nothing, the next server on the same database sends it once; and a
 * message the mail server keeps refusing is marked failed after EMAIL_MAX_ATTEMPTS, with the
 * server's answer, and its content erased.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { createTestDatabase, dialects, type TestDatabase } from './helpers/databases.js';
import { assertCliBuilt, cleanUp, freePort, startServe } from './helpers/process.js';
import { apiClient, randomApiKey, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

beforeAll(() => {
  assertCliBuilt();
});
afterAll(async () => {
  await cleanUp();
});

describe.each(dialects)('the outbox across a SIGKILL (%s)', (dialect) => {
  let db: TestDatabase;
  let smtp: TestSmtp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await smtp?.stop();
    await db?.drop();
  });

  it('sends, from the next server, what a killed one had queued but not sent', async () => {
    const smtpPort = await freePort(); // nothing listens there yet: the mail server is down
    const key = randomApiKey();
    const env = {
      DATABASE_URL: db.url,
      LATCHKEY_DATA_DIR: db.dataDir,
      LATCHKEY_SECRET: 'outbox-crash-secret-outbox-crash-secret-1',
      LATCHKEY_BOOTSTRAP_API_KEY: key,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      LOG_LEVEL: 'silent',
    };
    const first = await startServe(env);
    await first.ready();
    const api = apiClient(first.url, key);
    expect((await api('POST', '/api/v1/tenants', { body: { slug: 'crash', displayName: 'Crash' } })).status).toBe(201);
    const user = await api('POST', '/api/v1/tenants/crash/users', {
      body: { email: 'kept@example.test', password: 'first password 123' },
    });
    expect(user.status, user.text).toBe(201);
    const sent = await api('POST', `/api/v1/tenants/crash/users/${user.body.id}/password-reset`);
    expect(sent.status, sent.text).toBe(202);
    // Acknowledged, so durable. Killed once the sender has tried and failed (connection
    // refused): a kill during an attempt leaves the message leased to the dead node for a
    // minute (LEASE_MS), after which any node takes it.
    const until = Date.now() + 10_000;
    for (;;) {
      const list = await api('GET', '/api/v1/tenants/crash/emails');
      if (list.body.items[0]?.lastError) break;
      if (Date.now() > until) throw new Error(`no attempt: ${list.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');

    smtp = await startSmtp(smtpPort);
    const second = await startServe(env);
    await second.ready();
    const [message] = await smtp.waitFor(1, 20_000);
    expect(message?.to).toEqual(['kept@example.test']);
    expect(message?.text).toMatch(/\/t\/crash\/account\/reset\?token=[A-Za-z0-9_-]{43}/);
    const list = await apiClient(second.url, key)('GET', '/api/v1/tenants/crash/emails');
    expect(list.body.items).toEqual([expect.objectContaining({ id: sent.body.emailId, status: 'sent' })]);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received).toHaveLength(1);
    await second.stop();
  });
});

describe.each(dialects)('a message the mail server keeps refusing (%s)', (dialect) => {
  let smtp: TestSmtp;
  let ts: TestServer;

  beforeAll(async () => {
    smtp = await startSmtp();
    ts = await startTestServer(dialect, { SMTP_URL: smtp.url, EMAIL_MAX_ATTEMPTS: '2' });
  });
  afterAll(async () => {
    await ts?.close();
    await smtp?.stop();
  });

  it('is marked failed after EMAIL_MAX_ATTEMPTS with the last answer, its content gone', async () => {
    const t = await tenantWithAdmin(ts);
    const user = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email: 'refused@example.test', password: 'first password 123' },
    });
    smtp.refuse(1000);
    const sent = await t.api('POST', `/api/v1/tenants/${t.slug}/users/${user.body.id}/password-reset`);
    expect(sent.status).toBe(202);
    const until = Date.now() + 10_000;
    let row: { status: string; attempts: number; lastError: string | null; nextAttemptAt: string | null } | undefined;
    while (Date.now() < until) {
      const list = await t.api('GET', `/api/v1/tenants/${t.slug}/emails?status=failed`);
      row = list.body.items[0];
      if (row) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toMatchObject({ status: 'failed', attempts: 2, nextAttemptAt: null });
    expect(row?.lastError).toMatch(/451/);
    expect(smtp.refusals).toBe(2);
    const stored = await ts.server.ctx.database.db
      .selectFrom('emails')
      .select(['sealed_content'])
      .where('id', '=', sent.body.emailId)
      .executeTakeFirstOrThrow();
    expect(stored.sealed_content).toBeNull();
  });
});

describe.each(dialects)('the forgot-password form’s limit per client address (%s)', (dialect) => {
  let smtp: TestSmtp;
  let ts: TestServer;

  beforeAll(async () => {
    smtp = await startSmtp();
    ts = await startTestServer(dialect, { SMTP_URL: smtp.url, EMAIL_ADDRESS_LIMIT: '2' });
  });
  afterAll(async () => {
    await ts?.close();
    await smtp?.stop();
  });

  it('mails no more than EMAIL_ADDRESS_LIMIT accounts for one address, and answers the rest the same', async () => {
    const t = await tenantWithAdmin(ts);
    const emails = ['one@example.test', 'two@example.test', 'three@example.test'];
    for (const email of emails) {
      const res = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
        body: { email, password: 'first password 123' },
      });
      expect(res.status).toBe(201);
    }
    const pages: string[] = [];
    for (const email of emails) {
      const browser = new Browser();
      const form = await browser.go(`${ts.url}/t/${t.slug}/account/forgot`);
      const answer = await browser.submit(form, { email });
      expect(answer.url.search).toBe('?sent=1');
      pages.push(answer.html);
    }
    expect(new Set(pages).size).toBe(1);
    await smtp.waitFor(2);
    // Each request's work runs 0.2–2 s after its answer, in no set order (accounts/deferred.ts):
    // two of the three are mailed, whichever ran first, and never the third.
    await new Promise((r) => setTimeout(r, 2500));
    const mailed = smtp.received.map((m) => m.to[0] as string);
    expect(mailed).toHaveLength(2);
    expect(new Set(mailed).size).toBe(2);
    for (const to of mailed) expect(emails).toContain(to);
  });
});
