/**
 * RP-initiated logout: an `id_token_hint` of the browser's own session ends it at once (303 to
 * the registered post-logout URI, no "Do you want to sign out?" page); without a hint, or with
 * the hint of another session or another user, the confirmation stays and nothing ends
 * until it is answered.
 * @see issue 9, item 19
 */
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorize, discover, redeem } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const postLogoutUri = 'http://127.0.0.1:9/signed-out';
const atApp = (u: URL) => u.href.startsWith(redirectUri) || u.href.startsWith(postLogoutUri);

describe.each(dialects)('RP-initiated logout (%s)', (dialect) => {
  let ts: TestServer;
  let api: ApiClient;
  let slug: string;
  let config: oidc.Configuration;
  const alice = { email: 'alice-logout@example.test', password: 'alice signs out quickly' };
  const bob = { email: 'bob-logout@example.test', password: 'bob signs out as well' };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    api = t.api;
    const created = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: {
        kind: 'web',
        name: 'Logout app',
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [postLogoutUri],
        firstParty: true,
      },
    });
    expect(created.status, created.text).toBe(201);
    config = await discover(ts, slug, created.body);
    for (const who of [alice, bob]) {
      const user = await api('POST', `/api/v1/tenants/${slug}/users`, { body: who });
      expect(user.status, user.text).toBe(201);
      ids[who.email] = user.body.id;
    }
  });
  afterAll(async () => {
    await ts?.close();
  });

  /** A browser signed in as `who`, and the ID token its application got. */
  async function signedIn(who: { email: string; password: string }) {
    const browser = new Browser();
    const tokens = await redeem(config, await authorize(config, browser, redirectUri, who));
    return { browser, idToken: tokens.id_token ?? '' };
  }

  async function sessions(who: { email: string }): Promise<number> {
    const res = await api('GET', `/api/v1/tenants/${slug}/users/${ids[who.email]}/sessions`);
    expect(res.status).toBe(200);
    return res.body.items.length;
  }

  function endSessionUrl(params: Record<string, string>): URL {
    return oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutUri, state: 'bye', ...params });
  }

  /** A confirmation page was shown, and no session was ended by showing it. */
  async function expectConfirmation(browser: Browser, url: URL, who: { email: string }) {
    const before = await sessions(who);
    const page = await browser.go(url, { stopAt: atApp });
    expect(atApp(page.url), page.url.href).toBe(false);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Do you want to sign out');
    expect(page.html).toContain('name="xsrf"');
    expect(await sessions(who)).toBe(before);
    return page;
  }

  /** The hint's own browser ends its session at once: a 303 to where the application asked. */
  async function expectEndedAtOnce(browser: Browser, url: URL) {
    const res = await fetch(url, { headers: { cookie: browser.jar.header(url) }, redirect: 'manual' });
    expect(res.status, await res.text()).toBe(303);
    browser.jar.store(res);
    return new URL(res.headers.get('location') ?? '', url);
  }

  it('ends the session at once with the ID token of this session: no confirmation page', async () => {
    const { browser, idToken } = await signedIn(alice);
    // The ID token names its session, which is what the hint is checked against.
    expect(decodeJwt(idToken).sid).toEqual(expect.any(String));
    const before = await sessions(alice);
    const location = await expectEndedAtOnce(browser, endSessionUrl({ id_token_hint: idToken }));
    expect(location.origin + location.pathname).toBe(postLogoutUri);
    expect(location.searchParams.get('state')).toBe('bye');
    expect(await sessions(alice)).toBe(before - 1);
    // Signed out: the next sign-in asks for the password again.
    expect((await authorize(config, browser, redirectUri, alice)).signInShown).toBe(true);
  });

  it('ends it at once without a post-logout URI too, on the signed-out page', async () => {
    const { browser, idToken } = await signedIn(alice);
    const before = await sessions(alice);
    const location = await expectEndedAtOnce(browser, oidc.buildEndSessionUrl(config, { id_token_hint: idToken }));
    expect(location.pathname).toBe(`/t/${slug}/session/end/success`);
    const page = await browser.go(location);
    expect(page.html).toContain('You have signed out');
    expect(await sessions(alice)).toBe(before - 1);
  });

  it('asks without a hint, and signs out once confirmed', async () => {
    const { browser } = await signedIn(alice);
    const before = await sessions(alice);
    const page = await expectConfirmation(browser, endSessionUrl({}), alice);
    const out = await browser.submit(page, { logout: 'yes' }, { stopAt: atApp });
    expect(out.url.origin + out.url.pathname).toBe(postLogoutUri);
    expect(await sessions(alice)).toBe(before - 1);
  });

  it('asks when the hint is of another session of the same user, or of another user', async () => {
    const first = await signedIn(alice);
    const second = await signedIn(alice);
    const other = await signedIn(bob);
    const [aliceBefore, bobBefore] = [await sessions(alice), await sessions(bob)];
    // The first browser's ID token, presented by the second browser.
    await expectConfirmation(second.browser, endSessionUrl({ id_token_hint: first.idToken }), alice);
    // Bob's ID token, presented by Alice's browser.
    await expectConfirmation(first.browser, endSessionUrl({ id_token_hint: other.idToken }), alice);
    expect(await sessions(bob)).toBe(bobBefore);
    // Each browser's own hint still ends its own session, and only that one.
    for (const b of [first, second, other])
      await expectEndedAtOnce(b.browser, endSessionUrl({ id_token_hint: b.idToken }));
    expect(await sessions(alice)).toBe(aliceBefore - 2);
    expect(await sessions(bob)).toBe(bobBefore - 1);
  });

  it('refuses a hint that is not a valid ID token of this tenant', async () => {
    const { browser, idToken } = await signedIn(bob);
    const before = await sessions(bob);
    const [header, payload] = idToken.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    const url = endSessionUrl({ id_token_hint: forged });
    const res = await fetch(url, { headers: { cookie: browser.jar.header(url) }, redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await sessions(bob)).toBe(before);
  });
});
