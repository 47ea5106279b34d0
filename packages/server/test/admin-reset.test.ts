/**
 * `latchkey admin reset --email …` through the real CLI process, beside a running server on
 * the same database (the configuration `serve` takes: DATABASE_URL, LATCHKEY_DATA_DIR,
 * LATCHKEY_SECRET, and REDIS_URL on PostgreSQL as in production): the printed password signs
 * in on the login page, the old one and the old sessions no longer count, a locked account is
 * unlocked, the audit log shows the reset, a new email becomes a system:admin, and a non-admin
 * or malformed email is refused with a clear line and exit 1.
 * @see issue 9, item 20
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { createTestDatabase, dialects, type TestDatabase } from './helpers/databases.js';
import { authorize, discover, redeem, signsIn as signInOnPage } from './helpers/oidc.js';
import { assertCliBuilt, cleanUp, runCli } from './helpers/process.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const secret = 'admin-reset-secret-admin-reset-secret-01';
const redirectUri = 'http://127.0.0.1:9/callback';

beforeAll(() => {
  assertCliBuilt();
});
afterAll(async () => {
  await cleanUp();
});

describe.each(dialects)('latchkey admin reset (%s)', (dialect) => {
  let db: TestDatabase;
  let ts: TestServer;
  let config: oidc.Configuration;
  // Production's pair: PostgreSQL with Redis (where the sign-in failure counters then live).
  const redis: Record<string, string> =
    dialect === 'postgres' && process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {};

  const cli = (...args: string[]) =>
    runCli(['admin', 'reset', ...args], {
      DATABASE_URL: db.url,
      LATCHKEY_DATA_DIR: db.dataDir,
      LATCHKEY_SECRET: secret,
      PUBLIC_URL: ts.url,
      LOG_LEVEL: 'silent',
      ...redis,
    });

  const signsIn = (email: string, password: string) => signInOnPage(config, redirectUri, email, password);

  async function sessions(userId: string): Promise<number> {
    const res = await ts.api('GET', `/api/v1/tenants/system/users/${userId}/sessions`);
    expect(res.status, res.text).toBe(200);
    return res.body.items.length;
  }

  async function userByEmail(email: string) {
    const res = await ts.api('GET', `/api/v1/tenants/system/users?q=${encodeURIComponent(email)}`);
    expect(res.status, res.text).toBe(200);
    return res.body.items.find((u: { email: string }) => u.email === email);
  }

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    ts = await startTestServer(dialect, { LATCHKEY_SECRET: secret, ...redis }, db);
    const app = await ts.api('POST', '/api/v1/tenants/system/clients', {
      body: { kind: 'web', name: 'Reset check', redirectUris: [redirectUri], firstParty: true },
    });
    expect(app.status, app.text).toBe(201);
    config = await discover(ts, 'system', app.body);
  });
  afterAll(async () => {
    await ts?.close();
    await db?.drop();
  });

  it('prints a new password for a system:admin that signs in; the old one and the old sessions end; audited', async () => {
    const admin = await userByEmail(ts.adminEmail);
    // Signed in somewhere with the old password, with tokens.
    const browser = new Browser();
    const tokens = await redeem(
      config,
      await authorize(config, browser, redirectUri, { email: ts.adminEmail, password: ts.adminPassword }),
    );
    expect(await sessions(admin.id)).toBe(1);

    const run = await cli('--email', ts.adminEmail.toUpperCase());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const password = /password:\s+(\S+)/.exec(run.stdout)?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(run.stdout).toContain(ts.adminEmail);
    expect(run.stdout).toContain('shown only this once');

    expect(await sessions(admin.id)).toBe(0);
    await expect(oidc.fetchUserInfo(config, tokens.access_token, admin.id)).rejects.toThrow();
    expect(await signsIn(ts.adminEmail, ts.adminPassword)).toBe(false);
    expect(await signsIn(ts.adminEmail, password)).toBe(true);

    const audit = await ts.api('GET', '/api/v1/tenants/system/audit-events?action=system.admin.reset');
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      action: 'system.admin.reset',
      outcome: 'success',
      actor: expect.objectContaining({ type: 'system' }),
      target: { type: 'user', id: admin.id },
    });
    // The password itself is nowhere but in what was printed.
    expect(audit.text).not.toContain(password);

    // A second reset replaces it: each is printed once.
    const again = await cli(`--email=${ts.adminEmail}`);
    expect(again.code, again.stderr).toBe(0);
    const next = /password:\s+(\S+)/.exec(again.stdout)?.[1] ?? '';
    expect(next).not.toBe(password);
    expect(await signsIn(ts.adminEmail, password)).toBe(false);
    expect(await signsIn(ts.adminEmail, next)).toBe(true);
  });

  it('creates a system:admin for an email without an account', async () => {
    const email = `rescue-${dialect}@example.test`;
    const run = await cli('--email', email);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Created');
    const password = /password:\s+(\S+)/.exec(run.stdout)?.[1] ?? '';
    const user = await userByEmail(email);
    expect(user).toMatchObject({ email, roles: ['system:admin'], status: 'active' });
    expect(await signsIn(email, password)).toBe(true);
  });

  it('unlocks an account locked by failed sign-ins', async () => {
    const email = `locked-${dialect}@example.test`;
    const made = await cli('--email', email);
    expect(made.code, made.stderr).toBe(0);
    const password = /password:\s+(\S+)/.exec(made.stdout)?.[1] ?? '';
    const settings = await ts.api('PATCH', '/api/v1/tenants/system', {
      body: { settings: { lockout: { maxFailures: 3 } } },
    });
    expect(settings.status, settings.text).toBe(200);
    try {
      for (let i = 0; i < 3; i++) expect(await signsIn(email, `wrong-${i}-${password}`)).toBe(false);
      expect(await signsIn(email, password)).toBe(false); // locked
      const run = await cli('--email', email);
      expect(run.code, run.stderr).toBe(0);
      expect(await signsIn(email, /password:\s+(\S+)/.exec(run.stdout)?.[1] ?? '')).toBe(true);
    } finally {
      await ts.api('PATCH', '/api/v1/tenants/system', { body: { settings: { lockout: { maxFailures: 10 } } } });
    }
  });

  it('refuses a user without system:admin, a malformed email and a missing one, with exit 1', async () => {
    const email = `plain-${dialect}@example.test`;
    const plain = await ts.api('POST', '/api/v1/tenants/system/users', {
      body: { email, password: 'a plain user password' },
    });
    expect(plain.status, plain.text).toBe(201);
    const refused = await cli('--email', email);
    expect(refused.code).toBe(1);
    expect(refused.stdout).not.toMatch(/password:/);
    expect(refused.stderr.trim()).toMatch(/^latchkey: .*without system:admin: nothing was changed/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(await signsIn(email, 'a plain user password')).toBe(true);
    expect((await userByEmail(email)).roles).toEqual([]);

    for (const args of [['--email', 'not-an-email'], ['--email'], []]) {
      const bad = await cli(...args);
      expect(bad.code, JSON.stringify(args)).toBe(1);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toMatch(/^latchkey: .*(not an email address|needs --email|unexpected argument)/);
    }
    const audit = await ts.api('GET', '/api/v1/tenants/system/audit-events?action=system.admin.reset');
    expect(audit.body.items.every((e: { target: { id: string } }) => e.target.id !== plain.body.id)).toBe(true);
  });
});
