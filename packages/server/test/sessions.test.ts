import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorizationRequest, authorize, discover, redeem } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
/** A refresh token comes with offline_access and prompt=consent. */
const params = { scope: 'openid email offline_access', prompt: 'consent' };

describe.each(dialects)('user sessions (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let api: ApiClient;
  let config: oidc.Configuration;
  let clientId: string;
  let userCount = 0;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    ({ slug, api } = await tenantWithAdmin(ts));
    const web = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'Sessions app', redirectUris: [redirectUri], firstParty: true },
    });
    expect(web.status).toBe(201);
    clientId = web.body.clientId;
    config = await discover(ts, slug, web.body);
  });
  afterAll(async () => {
    await ts?.close();
  });

  const authorizationUrl = () => authorizationRequest(config, redirectUri, params);

  /** Creates a user and signs them in through the pages; returns their tokens and browser. */
  async function signedInUser() {
    userCount += 1;
    const email = `session-${userCount}@example.test`;
    const password = `a long enough password ${userCount}`;
    const user = await api('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password } });
    expect(user.status).toBe(201);
    const browser = new Browser();
    const a = await authorize(config, browser, redirectUri, { email, password }, params);
    expect(a.signInShown).toBe(true);
    const tokens = await redeem(config, a);
    expect(tokens.refresh_token).toBeTruthy();
    return { id: user.body.id as string, email, password, browser, tokens, refreshToken: tokens.refresh_token ?? '' };
  }

  /** Whether the browser is still signed in: a new authorization request goes straight back. */
  async function stillSignedIn(browser: Browser): Promise<boolean> {
    const { url } = await authorizationUrl();
    const page = await browser.go(url, { stopAt: (u) => u.href.startsWith(redirectUri) });
    if (page.url.href.startsWith(redirectUri)) return true;
    expect(page.html).toContain('<label for="password">Password</label>');
    return false;
  }

  /** The refresh token is refused with invalid_grant (not some other failure). */
  async function expectRefreshRefused(refreshToken: string) {
    const err = await oidc.refreshTokenGrant(config, refreshToken).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'refresh succeeded').toBeInstanceOf(oidc.ResponseBodyError);
    expect((err as oidc.ResponseBodyError).error).toBe('invalid_grant');
  }

  async function userinfoWorks(accessToken: string): Promise<boolean> {
    const res = await fetch(`${ts.url}/t/${slug}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    return res.status === 200;
  }

  const sessionsPath = (id: string) => `/api/v1/tenants/${slug}/users/${id}/sessions`;

  it('lists a signed-in user’s session with the client, and ends it', async () => {
    const u = await signedInUser();
    const list = await api('GET', sessionsPath(u.id));
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const [s] = list.body.items;
    expect(s.clients).toEqual([clientId]);
    expect(Date.parse(s.signedInAt)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(Date.parse(s.expiresAt)).toBeGreaterThan(Date.now());
    expect(list.text).not.toContain(u.refreshToken);

    // Refresh works before the sessions end (and rotates the refresh token).
    const refreshed = await oidc.refreshTokenGrant(config, u.refreshToken);
    const refreshToken = refreshed.refresh_token ?? '';
    expect(refreshToken).not.toBe('');
    expect(await userinfoWorks(refreshed.access_token)).toBe(true);

    const del = await api('DELETE', sessionsPath(u.id));
    expect(del.status).toBe(204);
    expect((await api('GET', sessionsPath(u.id))).body.items).toEqual([]);
    await expectRefreshRefused(refreshToken);
    expect(await userinfoWorks(refreshed.access_token)).toBe(false);
    expect(await stillSignedIn(u.browser)).toBe(false);
  });

  it('ends one user’s sessions without touching another’s', async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    expect((await api('DELETE', sessionsPath(a.id))).status).toBe(204);
    expect((await api('GET', sessionsPath(b.id))).body.items).toHaveLength(1);
    expect(await stillSignedIn(b.browser)).toBe(true);
    const refreshed = await oidc.refreshTokenGrant(config, b.refreshToken);
    expect(refreshed.access_token).toBeTruthy();
    await expectRefreshRefused(a.refreshToken);
  });

  it('ends sessions and revokes refresh tokens when the user is disabled', async () => {
    const u = await signedInUser();
    const patch = await api('PATCH', `/api/v1/tenants/${slug}/users/${u.id}`, { body: { status: 'disabled' } });
    expect(patch.status).toBe(200);
    expect((await api('GET', sessionsPath(u.id))).body.items).toEqual([]);
    await expectRefreshRefused(u.refreshToken);
    expect(await userinfoWorks(u.tokens.access_token)).toBe(false);
    expect(await stillSignedIn(u.browser)).toBe(false);
    // Enabling them again does not bring the old refresh token back.
    expect((await api('PATCH', `/api/v1/tenants/${slug}/users/${u.id}`, { body: { status: 'active' } })).status).toBe(
      200,
    );
    await expectRefreshRefused(u.refreshToken);
  });

  it('ends sessions and revokes refresh tokens when the user is deleted', async () => {
    const u = await signedInUser();
    expect((await api('DELETE', `/api/v1/tenants/${slug}/users/${u.id}`)).status).toBe(204);
    expect((await api('GET', sessionsPath(u.id))).status).toBe(404);
    await expectRefreshRefused(u.refreshToken);
    expect(await userinfoWorks(u.tokens.access_token)).toBe(false);
    expect(await stillSignedIn(u.browser)).toBe(false);
  });

  it('ends sessions and revokes refresh tokens when an admin sets the password', async () => {
    const u = await signedInUser();
    const newPassword = 'a brand new passphrase';
    const set = await api('POST', `/api/v1/tenants/${slug}/users/${u.id}/password`, {
      body: { password: newPassword },
    });
    expect(set.status).toBeLessThan(300);
    expect((await api('GET', sessionsPath(u.id))).body.items).toEqual([]);
    await expectRefreshRefused(u.refreshToken);
    expect(await userinfoWorks(u.tokens.access_token)).toBe(false);
    expect(await stillSignedIn(u.browser)).toBe(false);
    // The new password signs in; the old one does not.
    const { url } = await authorizationUrl();
    const browser = new Browser();
    const page = await browser.go(url);
    const old = await browser.submit(page, { email: u.email, password: u.password });
    expect(old.html).toContain('Invalid email or password.');
    const ok = await browser.submit(
      old,
      { email: u.email, password: newPassword },
      {
        stopAt: (x) => x.href.startsWith(redirectUri),
      },
    );
    expect(ok.url.href.startsWith(redirectUri)).toBe(true);
    expect((await api('GET', sessionsPath(u.id))).body.items).toHaveLength(1);
  });

  it('honours no session or refresh token saved back after the sessions were ended', async () => {
    const u = await signedInUser();
    // What a request under way when the sessions end may save back: the rows it had loaded.
    const db = ts.server.ctx.database.db;
    const rows = await db.selectFrom('oidc_payloads').selectAll().where('account_id', '=', u.id).execute();
    expect(rows.map((r) => r.model)).toEqual(expect.arrayContaining(['Session', 'Grant', 'RefreshToken']));
    // Sign-in times are whole seconds: end the sessions in a later one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await api('DELETE', sessionsPath(u.id))).status).toBe(204);
    await db.insertInto('oidc_payloads').values(rows).execute();

    expect(await stillSignedIn(u.browser)).toBe(false);
    await expectRefreshRefused(u.refreshToken);
    // Signing in again works, and holds.
    const again = await authorize(config, u.browser, redirectUri, { email: u.email, password: u.password }, params);
    expect(again.signInShown).toBe(true);
    expect(await stillSignedIn(u.browser)).toBe(true);
  });

  it('answers 404 to another tenant’s admin and leaves the sessions alone', async () => {
    const u = await signedInUser();
    const other = await tenantWithAdmin(ts);
    expect((await other.api('GET', sessionsPath(u.id))).status).toBe(404);
    expect((await other.api('DELETE', sessionsPath(u.id))).status).toBe(404);
    expect((await other.api('GET', `/api/v1/tenants/${other.slug}/users/${u.id}/sessions`)).status).toBe(404);
    expect((await other.api('DELETE', `/api/v1/tenants/${other.slug}/users/${u.id}/sessions`)).status).toBe(404);
    expect((await api('GET', sessionsPath(u.id))).body.items).toHaveLength(1);
    const refreshed = await oidc.refreshTokenGrant(config, u.refreshToken);
    expect(refreshed.access_token).toBeTruthy();
  });
});
