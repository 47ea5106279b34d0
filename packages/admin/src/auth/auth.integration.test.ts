/**
 * The console's sign-in, end to end against a real server: authorization code + PKCE with the
 * built-in `admin-console` client, the sign-in form driven over HTTP, the admin API called with
 * the access token, refresh-token rotation, and RP-initiated logout. The OAuth code here is the
 * console's own (OidcClient, AuthClient); only the browser is simulated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../../../server/test/helpers/browser.js';
import { dialects } from '../../../server/test/helpers/databases.js';
import { startTestServer, type TestServer, uniqueSlug } from '../../../server/test/helpers/server.js';
import { ApiClient, ApiError } from '../api/client';
import type { Page, Tenant } from '../api/types';
import { AuthClient, type AuthEnvironment } from './AuthClient';
import { OidcClient, SignInRequiredError } from './oidc';
import {
  CLIENT_ID,
  type ConsoleConfig,
  type ConsoleScope,
  issuerUrl,
  postLogoutRedirectUri,
  redirectUri,
  SCOPE,
  scopeFromPathname,
} from './scope';
import { AuthStorage } from './storage';

class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
}

/** A console in one "tab": its storage, where it sent the browser, its pending timers. */
function makeConsole(config: ConsoleConfig, scope: ConsoleScope, storage = new MemoryStorage()) {
  const navigations: string[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const env: AuthEnvironment = {
    now: () => Date.now(),
    navigate: (url) => navigations.push(url),
    location: () => ({ pathname: `/admin${scope.prefix}/users`, search: '?q=x', hash: '' }),
    setTimeout: (fn, ms) => {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimeout: () => {},
  };
  const oidc = new OidcClient({
    issuer: issuerUrl(config, scope),
    clientId: CLIENT_ID,
    redirectUri: redirectUri(config, scope),
    postLogoutRedirectUri: postLogoutRedirectUri(config, scope),
    resource: config.adminApi,
    scope: SCOPE,
  });
  const auth = new AuthClient(scope, oidc, new AuthStorage(storage, scope.authTenant), env);
  const api = new ApiClient({ baseUrl: config.adminApi, getAccessToken: auth.getAccessToken });
  return { auth, oidc, api, storage, navigations, timers };
}

/** Follows the authorization URL in `browser`, signing in on the real page when it is shown. */
async function authorize(
  browser: Browser,
  url: string,
  callback: string,
  credentials: { email: string; password: string },
) {
  const stopAt = (u: URL) => u.href.startsWith(callback);
  let page = await browser.go(url, { stopAt });
  if (!stopAt(page.url)) {
    expect(page.status, page.html.slice(0, 300)).toBe(200);
    expect(page.html).toContain('Sign in');
    page = await browser.submit(page, credentials, { stopAt });
  }
  expect(stopAt(page.url), page.url.href).toBe(true);
  return page.url.href;
}

describe.each(dialects)('console sign-in against a real server (%s)', (dialect) => {
  let ts: TestServer;
  let config: ConsoleConfig;
  let admin: { email: string; password: string };

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const res = await fetch(`${ts.url}/admin/config.json`);
    expect(res.status).toBe(200);
    config = (await res.json()) as ConsoleConfig;
    admin = { email: ts.adminEmail, password: ts.adminPassword };
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('signs in with code + PKCE, returns to the deep link, calls the API, refreshes and signs out', async () => {
    const scope = scopeFromPathname('/admin/tenants/system/users');
    const tab = makeConsole(config, scope);
    expect(tab.auth.getState().status).toBe('anonymous');

    await tab.auth.signIn('/tenants/system/users?q=ad');
    expect(tab.auth.getState().status).toBe('redirecting');
    const authUrl = new URL(tab.navigations.at(-1) ?? '');
    expect(authUrl.href.startsWith(`${config.publicUrl}/t/system/`)).toBe(true);
    expect(authUrl.searchParams.get('client_id')).toBe('admin-console');
    expect(authUrl.searchParams.get('redirect_uri')).toBe(`${config.publicUrl}/admin/callback`);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authUrl.searchParams.get('resource')).toBe(config.adminApi);
    expect(authUrl.searchParams.get('scope')).toBe('openid profile email offline_access');
    // The verifier never leaves the console.
    const pending = JSON.parse(tab.storage.getItem('latchkey.admin.pending.system') ?? '{}');
    expect(authUrl.href).not.toContain(pending.codeVerifier);

    const browser = new Browser();
    const callback = await authorize(browser, authUrl.href, `${config.publicUrl}/admin/callback`, admin);
    const returnTo = await tab.auth.completeSignIn(callback);
    expect(returnTo).toBe('/tenants/system/users?q=ad');
    const state = tab.auth.getState();
    expect(state.status).toBe('signed-in');
    if (state.status !== 'signed-in') throw new Error('not signed in');
    expect(state.session.user.email).toBe(admin.email);
    expect(state.session.refreshToken).toBeTruthy();
    // A JWT for the admin API, which accepts it.
    expect(state.session.accessToken.split('.')).toHaveLength(3);
    const tenants = await tab.api.get<Page<Tenant>>('/v1/tenants');
    expect(tenants.items.map((t) => t.slug)).toContain('system');
    // The quiet refresh is scheduled before expiry.
    expect(tab.timers.at(-1)?.ms).toBeLessThan(state.session.expiresIn * 1000);

    // The same callback URL again (a reload, a second mount) is not a second redemption.
    expect(await tab.auth.completeSignIn(callback)).toBe(returnTo);
    // Another tab cannot use it: its pending sign-in is gone, and so is the code.
    await expect(makeConsole(config, scope, tab.storage).auth.completeSignIn(callback)).rejects.toThrow(/expired|used/);

    // Refresh: a new access token and a rotated refresh token, kept in storage.
    const before = state.session;
    const after = await tab.auth.refresh();
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).toBeTruthy();
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.idToken).toBeTruthy();
    expect(JSON.parse(tab.storage.getItem('latchkey.admin.session.system') ?? '{}').refreshToken).toBe(
      after.refreshToken,
    );
    expect((await tab.api.get<Page<Tenant>>('/v1/tenants')).items.length).toBeGreaterThan(0);

    // A reload in the same tab picks the session up from sessionStorage.
    const reloaded = makeConsole(config, scope, tab.storage);
    expect(reloaded.auth.getState().status).toBe('signed-in');

    // Sign-out: RP-initiated logout with the ID token, then nothing is left here.
    await tab.auth.signOut();
    const logout = new URL(tab.navigations.at(-1) ?? '');
    expect(logout.href.startsWith(`${config.publicUrl}/t/system/`)).toBe(true);
    expect(logout.searchParams.get('id_token_hint')).toBe(after.idToken);
    expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(`${config.publicUrl}/admin/`);
    expect(tab.auth.getState().status).toBe('signed-out');
    expect(tab.storage.getItem('latchkey.admin.session.system')).toBeNull();
    await expect(tab.auth.getAccessToken()).rejects.toBeInstanceOf(SignInRequiredError);
    // Back at /admin/ after the logout page: "signed out", not an automatic new sign-in.
    expect(makeConsole(config, scope, tab.storage).auth.getState().status).toBe('signed-out');
  });

  it('a replayed refresh token ends the session and sends the admin to sign in again', async () => {
    const scope = scopeFromPathname('/admin/');
    const tab = makeConsole(config, scope);
    await tab.auth.signIn('/');
    const callback = await authorize(
      new Browser(),
      tab.navigations.at(-1) ?? '',
      `${config.publicUrl}/admin/callback`,
      admin,
    );
    await tab.auth.completeSignIn(callback);
    const state = tab.auth.getState();
    if (state.status !== 'signed-in') throw new Error('not signed in');
    const stolen = state.session;
    await tab.auth.refresh();
    // Someone replays the old refresh token: refused (and the grant is revoked).
    await expect(tab.oidc.refresh(stolen)).rejects.toBeInstanceOf(SignInRequiredError);
    // The console's next refresh fails too; it forgets the session and goes to sign in,
    // coming back to where the admin was.
    const navigationsBefore = tab.navigations.length;
    await expect(tab.auth.refresh()).rejects.toBeInstanceOf(SignInRequiredError);
    expect(tab.storage.getItem('latchkey.admin.session.system')).toBeNull();
    expect(tab.navigations.length).toBe(navigationsBefore + 1);
    const again = new URL(tab.navigations.at(-1) ?? '');
    expect(again.pathname).toBe('/t/system/auth');
    const pending = JSON.parse(tab.storage.getItem('latchkey.admin.pending.system') ?? '{}');
    expect(pending.returnTo).toBe('/users?q=x');
  });

  it('refuses a callback whose state was tampered with', async () => {
    const tab = makeConsole(config, scopeFromPathname('/admin/'));
    await tab.auth.signIn('/');
    const callback = new URL(
      await authorize(new Browser(), tab.navigations.at(-1) ?? '', `${config.publicUrl}/admin/callback`, admin),
    );
    callback.searchParams.set('state', 'forged');
    await expect(tab.auth.completeSignIn(callback.href)).rejects.toThrow();
    expect(tab.auth.getState().status).not.toBe('signed-in');
  });

  it('the tenant console signs in at its own tenant and sees only that tenant', async () => {
    const slug = uniqueSlug('con');
    expect((await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'Console test' } })).status).toBe(201);
    const tenantAdmin = { email: 'owner@example.test', password: 'a long tenant admin pass phrase' };
    const created = await ts.api('POST', `/api/v1/tenants/${slug}/users`, {
      body: { ...tenantAdmin, emailVerified: true },
    });
    expect(created.status).toBe(201);
    expect((await ts.api('PUT', `/api/v1/tenants/${slug}/users/${created.body.id}/roles/tenant:admin`)).status).toBe(
      204,
    );

    const scope = scopeFromPathname(`/admin/t/${slug}/users`);
    expect(scope).toEqual({ kind: 'tenant', authTenant: slug, prefix: `/t/${slug}` });
    const tab = makeConsole(config, scope);
    await tab.auth.signIn(`/t/${slug}/users`);
    const authUrl = new URL(tab.navigations.at(-1) ?? '');
    expect(authUrl.href.startsWith(`${config.publicUrl}/t/${slug}/`)).toBe(true);
    expect(authUrl.searchParams.get('redirect_uri')).toBe(`${config.publicUrl}/admin/t/${slug}/callback`);
    const callback = await authorize(
      new Browser(),
      authUrl.href,
      `${config.publicUrl}/admin/t/${slug}/callback`,
      tenantAdmin,
    );
    expect(await tab.auth.completeSignIn(callback)).toBe(`/t/${slug}/users`);

    const own = await tab.api.get<Tenant>(`/v1/tenants/${slug}`);
    expect(own.slug).toBe(slug);
    const list = await tab.api.get<Page<Tenant>>('/v1/tenants');
    expect(list.items.map((t) => t.slug)).toEqual([slug]);
    const other = await tab.api.get(`/v1/tenants/system`).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ApiError);
    expect((other as ApiError).status).toBe(404);
    expect((other as ApiError).code).toBe('tenant_not_found');
  });

  it('a system-tenant user without admin rights signs in but the API refuses them', async () => {
    const plain = { email: 'plain@example.test', password: 'just a plain user pass phrase' };
    expect((await ts.api('POST', '/api/v1/tenants/system/users', { body: plain })).status).toBe(201);
    const tab = makeConsole(config, scopeFromPathname('/admin/'));
    await tab.auth.signIn('/');
    const callback = await authorize(
      new Browser(),
      tab.navigations.at(-1) ?? '',
      `${config.publicUrl}/admin/callback`,
      plain,
    );
    await tab.auth.completeSignIn(callback);
    const err = await tab.api.get('/v1/tenants/system').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(403);
    expect((await tab.api.get<Page<Tenant>>('/v1/tenants')).items).toEqual([]);
  });
});
