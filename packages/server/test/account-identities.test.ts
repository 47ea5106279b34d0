/**
 * The account page's ways to sign in (federation/account-links.ts) on each database: linking a
 * provider from the page through a stand-in upstream oidc-provider, then signing in with it;
 * unlinking. Tries to break it: a link without the page's CSRF token, to a provider that does
 * not allow links, from a session signed in long ago (it must sign in again first), an identity
 * that is another account's, a flow started by one user and finished by another in the same
 * browser, unlinking where the provider does not allow it, and the last way to sign in; a
 * borrowed browser whose upstream session is live (signing in again through it is no proof:
 * only the password, or a re-authentication the upstream was asked for and whose auth_time
 * says it happened).
 */
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { appTokens, createProvider, signInVia } from './helpers/federation.js';
import { discover } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startUpstream, type Upstream, type UpstreamUser } from './helpers/upstream.js';

const secret = 'upstream-client-secret-0123456789abcdef';
const PASSWORD = 'account identities password 1';
const METRICS_TOKEN = 'account-identities-metrics-token-0123456789';

describe.each(dialects)('the account page’s ways to sign in (%s)', (dialect) => {
  let ts: TestServer;
  let up: Upstream;
  let admin: ApiClient;
  let slug: string;
  let config: oidc.Configuration;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const atApp = (u: URL) => u.href.startsWith(redirectUri);
  const atUpstream = (u: URL) => u.origin === new URL(up.issuer).origin;
  let n = 0;
  const someone = (): UpstreamUser => {
    n += 1;
    return { sub: `linked-${dialect}-${n}`, email: `elsewhere${n}@upstream.test`, email_verified: true };
  };
  const accountUrl = () => `${ts.url}/t/${slug}/account`;
  const isAccountPage = (p: Page) => p.status === 200 && p.html.includes('<h1>Your account</h1>');

  async function provider(s: string, body: Record<string, unknown>) {
    const clientId = `latchkey-${slug}-${s}`;
    up.addClient({
      client_id: clientId,
      client_secret: secret,
      redirect_uris: [`${ts.url}/t/${slug}/federation/${s}/callback`],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    return createProvider(admin, slug, {
      kind: 'oidc',
      slug: s,
      issuer: up.issuer,
      clientId,
      clientSecret: secret,
      displayName: `IdP ${s}`,
      ...body,
    });
  }
  async function user() {
    const email = `owner-${dialect}-${++n}@example.test`;
    const res = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email, password: PASSWORD, emailVerified: true },
    });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, email };
  }
  /** The account page in a new browser, signed in with the password. */
  async function signedIn(email: string, browser = new Browser()) {
    const form = await browser.go(accountUrl());
    const page = await browser.submit(form, { email, password: PASSWORD });
    expect(isAccountPage(page), page.html.slice(0, 300)).toBe(true);
    return { browser, page };
  }
  const identitiesOf = async (userId: string) => {
    const res = await admin('GET', `/api/v1/tenants/${slug}/users/${userId}/identities`);
    expect(res.status, res.text).toBe(200);
    return res.body.items as { id: string; providerSlug: string; subject: string }[];
  };
  /** Submits the page's link form for `idp` as `who` at the upstream, up to where the browser stops. */
  async function link(
    browser: Browser,
    page: Page,
    idp: string,
    who: UpstreamUser | null,
    stopAt?: (u: URL) => boolean,
    password = PASSWORD,
  ) {
    up.signInAs = who;
    const form = /<form[^>]*identities\/link[^>]*>[\s\S]*?<\/form>/.exec(page.html)?.[0] ?? '';
    expect(form, `no link button for ${idp}`).toContain(`name="provider" value="${idp}"`);
    // The current password where the account has one (the form asks for it).
    const fields = { provider: idp, ...(form.includes('name="password"') ? { password } : {}) };
    return browser.submit({ ...page, html: form }, fields, { stopAt });
  }
  /** The user's sessions signed in ten minutes back, as stored. */
  async function ageSessions(userId: string) {
    const db = ts.server.ctx.database.db;
    const rows = await db
      .selectFrom('oidc_payloads')
      .select(['id', 'payload'])
      .where('model', '=', 'Session')
      .execute();
    let aged = 0;
    for (const r of rows) {
      const p = JSON.parse(r.payload) as { accountId?: string; loginTs?: number };
      if (p.accountId !== userId) continue;
      p.loginTs = Math.floor(Date.now() / 1000) - 600;
      await db
        .updateTable('oidc_payloads')
        .set({ payload: JSON.stringify(p) })
        .where('model', '=', 'Session')
        .where('id', '=', r.id)
        .execute();
      aged++;
    }
    expect(aged).toBeGreaterThan(0);
  }
  /** A new user made through the acme button, and the browser signed in there. */
  async function federatedUser() {
    const who = someone();
    up.signInAs = who;
    const browser = new Browser();
    const signUp = await signInVia({ config, redirectUri, atApp }, browser, 'acme');
    const done = await browser.submit(signUp.page, {}, { action: '/federation/create', stopAt: atApp });
    const tokens = await appTokens({ config, redirectUri, atApp }, done, signUp.request);
    return { id: String(tokens.claims()?.sub), who, browser };
  }
  const errorOf = (p: Page) => /<p class="error" role="alert">([^<]*)<\/p>/.exec(p.html)?.[1];
  const noticeOf = (p: Page) => /<p class="message" role="status">([^<]*)<\/p>/.exec(p.html)?.[1];

  beforeAll(async () => {
    [ts, up] = await Promise.all([
      startTestServer(dialect, { FEDERATION_ALLOW_HTTP_ISSUERS: 'true', METRICS_TOKEN }),
      startUpstream(),
    ]);
    ({ slug, api: admin } = await tenantWithAdmin(ts));
    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } })).status,
    ).toBe(200);
    const client = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status, client.text).toBe(201);
    config = await discover(ts, slug, client.body);
    await provider('acme', { allowLink: true, allowUnlink: true, allowSignUp: true });
    await provider('strict', { allowLink: true, allowUnlink: false });
    await provider('closed', { allowLink: false, allowSignUp: true });
    await provider('other', { allowLink: true, allowUnlink: true });
  });
  afterAll(async () => {
    await Promise.all([ts?.close(), up?.close()]);
  });

  it('links a provider from the account page, signs in with it, and unlinks it', async () => {
    const u = await user();
    const { browser, page } = await signedIn(u.email);
    expect(page.html).toContain('Ways to sign in');
    expect(page.html).toContain('Link IdP acme');
    expect(page.html).toContain('Link IdP strict');
    expect(page.html).not.toContain('Link IdP closed');

    // Another email upstream than here: the user proved both, the link needs no match.
    const who = someone();
    const linked = await link(browser, page, 'acme', who);
    expect(linked.url.pathname).toBe(`/t/${slug}/account`);
    expect(noticeOf(linked), linked.html.slice(0, 400)).toBe('The new way to sign in is linked.');
    expect(linked.html).toContain(who.email);
    expect(linked.html).not.toContain('Link IdP acme');
    expect(linked.html).toContain('Way to sign in linked'); // the activity list
    const [identity] = await identitiesOf(u.id);
    expect(identity).toMatchObject({ providerSlug: 'acme', subject: who.sub });

    // The application's sign-in with the acme button now signs this user in (and is counted).
    const counted = async () => {
      const text = (await ts.api('GET', '/metrics', { token: METRICS_TOKEN })).text;
      return Number(/^latchkey_federated_sign_ins_total\{kind="oidc",outcome="success"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await counted();
    up.signInAs = who;
    const back = await signInVia({ config, redirectUri, atApp }, new Browser(), 'acme');
    const tokens = await appTokens({ config, redirectUri, atApp }, back.page, back.request);
    expect(tokens.claims()?.sub).toBe(u.id);
    expect(await counted()).toBe(before + 1);

    // Unlinked (the password is left), it signs in no one.
    const unlinked = await browser.submit(linked, {}, { action: '/identities/unlink' });
    expect(noticeOf(unlinked)).toBe('That way to sign in is unlinked.');
    expect(await identitiesOf(u.id)).toEqual([]);
    expect(unlinked.html).toContain('Link IdP acme');
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${u.id}&limit=20`);
    const actions = (audit.body.items as { action: string; outcome: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.identity.link', 'user.identity.unlink']));
  });

  it('refuses a link without the page’s token, to a provider that allows none, and one linked already', async () => {
    const u = await user();
    const { browser, page } = await signedIn(u.email);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '';
    const before = up.authorizations.length;
    const post = (form: Record<string, string>) =>
      browser.go(`${accountUrl()}/identities/link`, { method: 'POST', form, stopAt: atUpstream });
    // Never on to the upstream: each lands on the page with what is wrong.
    const noToken = await post({ provider: 'acme' });
    expect(noToken.status).toBe(200);
    expect(errorOf(noToken)).toBe('This page was open too long. Try again.');
    const closed = await post({ csrf, provider: 'closed' });
    expect(errorOf(closed)).toBe('That way to sign in cannot be linked to your account.');
    const unknown = await post({ csrf, provider: 'no-such-idp' });
    expect(errorOf(unknown)).toBe('That way to sign in cannot be linked to your account.');
    // A control character is refused where text enters (on both databases), as every form's.
    const odd = await post({ csrf, provider: 'acme\u0000' });
    expect(odd.status).toBe(400);
    expect(odd.html).toContain('characters that are not allowed');
    const path = await post({ csrf, provider: '../acme' });
    expect(errorOf(path)).toBe('That way to sign in cannot be linked to your account.');
    expect(up.authorizations.length).toBe(before);
    // Linked already: a second identity at the same provider is not offered, nor taken.
    const linked = await link(browser, page, 'acme', someone());
    expect(noticeOf(linked)).toBe('The new way to sign in is linked.');
    expect(up.authorizations.length).toBe(before + 1);
    const again = await post({ csrf, provider: 'acme' });
    expect(errorOf(again)).toBe('That way to sign in cannot be linked to your account.');
    expect(up.authorizations.length).toBe(before + 1);
    expect(await identitiesOf(u.id)).toHaveLength(1);
  });

  it('asks for the current password to link, whatever the age of the session', async () => {
    const u = await user();
    const { browser, page } = await signedIn(u.email);
    expect(page.html).toContain('Your password, to link it');
    const before = up.authorizations.length;
    // A wrong or missing password: nothing goes upstream, the page says why, the attempt is audited.
    for (const password of ['not the password', '']) {
      const wrong = await link(browser, page, 'acme', someone(), undefined, password);
      expect(errorOf(wrong)).toBe('That is not your current password.');
    }
    expect(up.authorizations.length).toBe(before);
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${u.id}&action=user.reauthenticate`);
    expect(audit.body.items.filter((e: { outcome: string }) => e.outcome === 'failure').length).toBeGreaterThan(0);
    // A session signed in long ago links with the password, and with nothing less.
    await ageSessions(u.id);
    const who = someone();
    const linked = await link(browser, page, 'acme', who);
    expect(noticeOf(linked)).toBe('The new way to sign in is linked.');
    expect((await identitiesOf(u.id)).map((i) => i.subject)).toEqual([who.sub]);
    // Audited as the user's own doing.
    const events = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${u.id}&action=user.identity.link`);
    expect(events.body.items[0]?.actor).toMatchObject({ type: 'user', id: u.id });
  });

  it('a borrowed browser cannot link the attacker: signing in again through a live upstream session is no proof', async () => {
    // The victim: a password account with acme linked, signed in on this browser long ago.
    const u = await user();
    const victimUpstream = someone();
    const { browser, page } = await signedIn(u.email);
    expect(noticeOf(await link(browser, page, 'acme', victimUpstream))).toBe('The new way to sign in is linked.');
    await ageSessions(u.id);
    // The attacker, without the password: nothing goes upstream.
    const attacker = someone();
    const before = up.authorizations.length;
    const refused = await link(browser, await browser.go(accountUrl()), 'other', attacker, undefined, '');
    expect(errorOf(refused)).toBe('That is not your current password.');
    expect(up.authorizations.length).toBe(before);
    // Signing in again through the acme button (its upstream session live here) changes nothing.
    up.signInAs = victimUpstream;
    const params = new URLSearchParams({
      client_id: 'account',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${accountUrl()}/callback`,
      state: 'x',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'S256',
      prompt: 'login',
    });
    const signIn = await browser.go(`${ts.url}/t/${slug}/auth?${params}`);
    const href = /href="([^"]*\/federated\/acme)"/.exec(signIn.html)?.[1];
    expect(href, signIn.html.slice(0, 300)).toBeTruthy();
    await browser.go(new URL(String(href).replace(/&amp;/g, '&'), signIn.url), {
      stopAt: (url) => url.pathname.endsWith('/account/callback'),
    });
    const again = await link(browser, await browser.go(accountUrl()), 'other', attacker, undefined, '');
    expect(errorOf(again)).toBe('That is not your current password.');
    expect((await identitiesOf(u.id)).map((i) => i.subject)).toEqual([victimUpstream.sub]);
    // From the attacker's own browser, `other` signs no one in as the victim.
    up.signInAs = attacker;
    const elsewhere = await signInVia({ config, redirectUri, atApp }, new Browser(), 'other');
    expect(atApp(elsewhere.page.url), elsewhere.page.url.href).toBe(false);
  });

  it('never links an identity that is another account’s, nor one whose flow another user started', async () => {
    const owner = await user();
    const who = someone();
    const first = await signedIn(owner.email);
    expect(noticeOf(await link(first.browser, first.page, 'acme', who))).toBe('The new way to sign in is linked.');

    const other = await user();
    const second = await signedIn(other.email);
    const taken = await link(second.browser, second.page, 'acme', who);
    expect(errorOf(taken)).toContain('linked to another account already');
    expect(await identitiesOf(other.id)).toEqual([]);
    expect((await identitiesOf(owner.id)).map((i) => i.subject)).toEqual([who.sub]);
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${other.id}&limit=20`);
    expect(audit.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'user.identity.link', outcome: 'failure' })]),
    );

    // One browser: A starts a link; B signs in there before the upstream's answer reaches the
    // account page; the answer links no one (its cookie names A's flow).
    const a = await user();
    const b = await user();
    const sa = await signedIn(a.email);
    const sb = await signedIn(b.email);
    const atFinish = (url: URL) => url.pathname.endsWith('/account/identities/finish');
    const caught = await link(sa.browser, sa.page, 'acme', someone(), atFinish);
    expect(caught.status).toBe(0);
    const flowCookie = sa.browser.jar
      .header(caught.url)
      .split('; ')
      .find((c) => c.startsWith('lk_fed_user='));
    expect(flowCookie).toBeTruthy();
    const asB = await fetch(caught.url, {
      headers: { cookie: `${sb.browser.jar.header(caught.url)}; ${flowCookie}` },
      redirect: 'manual',
    });
    expect(asB.status).toBe(303);
    expect(asB.headers.get('location')).toContain('problem=linkExpired');
    expect(await identitiesOf(b.id)).toEqual([]);
    // A, in that browser, still finishes it: the cookie was good, only not B's.
    const asA = await sa.browser.go(caught.url);
    expect(noticeOf(asA)).toBe('The new way to sign in is linked.');
    expect(await identitiesOf(a.id)).toHaveLength(1);
  });

  it('unlinks only where the provider allows it, and never the last way to sign in', async () => {
    const u = await user();
    const { browser, page } = await signedIn(u.email);
    const linked = await link(browser, page, 'strict', someone());
    expect(noticeOf(linked)).toBe('The new way to sign in is linked.');
    // No Unlink button for it; a forged form is refused, the identity stays.
    expect(linked.html).not.toContain('Unlink IdP strict');
    const [identity] = await identitiesOf(u.id);
    const csrf = /name="csrf" value="([^"]+)"/.exec(linked.html)?.[1] ?? '';
    const forged = await browser.go(`${accountUrl()}/identities/unlink`, {
      method: 'POST',
      form: { csrf, identity: String(identity?.id) },
    });
    expect(forged.status).toBe(409);
    expect(errorOf(forged)).toBe('This way to sign in cannot be unlinked here.');
    expect(await identitiesOf(u.id)).toHaveLength(1);

    // A user made by the provider has no password: its one identity is its only way in.
    const who = someone();
    up.signInAs = who;
    const fresh = new Browser();
    const signUp = await signInVia({ config, redirectUri, atApp }, fresh, 'acme');
    const done = await fresh.submit(signUp.page, {}, { action: '/federation/create', stopAt: atApp });
    const tokens = await appTokens({ config, redirectUri, atApp }, done, signUp.request);
    const newId = String(tokens.claims()?.sub);
    const [only] = await identitiesOf(newId);
    const account = await fresh.go(accountUrl());
    expect(isAccountPage(account), account.html.slice(0, 300)).toBe(true);
    expect(account.html).toContain('IdP acme');
    expect(account.html).not.toContain('Unlink IdP acme');
    expect(account.html).not.toContain('<strong>Password</strong>');
    const token = /name="csrf" value="([^"]+)"/.exec(account.html)?.[1] ?? '';
    const last = await fresh.go(`${accountUrl()}/identities/unlink`, {
      method: 'POST',
      form: { csrf: token, identity: String(only?.id) },
    });
    expect(last.status).toBe(409);
    expect(errorOf(last)).toBe('This is your only way to sign in. Link another way first.');
    expect(await identitiesOf(newId)).toHaveLength(1);
    // Another user's identity id: nothing happens to it.
    const theirs = await fresh.go(`${accountUrl()}/identities/unlink`, {
      method: 'POST',
      form: { csrf: token, identity: String(identity?.id) },
    });
    expect(theirs.status).toBe(200);
    expect(await identitiesOf(u.id)).toHaveLength(1);
  });

  it('an account made through a provider re-authenticates there (prompt=login, auth_time) to set a first password', async () => {
    const { id, who, browser } = await federatedUser();
    const page = await browser.go(accountUrl());
    expect(isAccountPage(page), page.html.slice(0, 300)).toBe(true);
    expect(page.html).toContain('You have no password here');
    expect(page.html).not.toContain('name="current"');
    expect(page.html).not.toContain('id="email-password"');
    const password = 'a first password of my own';
    // Signed in a moment ago, but that is no proof (a provider's live session signs in with no
    // credential): the sign-in again, where the provider is asked to authenticate afresh.
    const atSignIn = (p: Page) => p.url.pathname.includes('/interaction/') && p.html.includes('Sign in with IdP acme');
    const asked = await browser.submit(page, { password, confirm: password }, { action: '/account/password' });
    expect(atSignIn(asked), asked.url.href).toBe(true);
    const email = await browser.submit(page, { email: 'new-address@example.test' }, { action: '/account/email' });
    expect(atSignIn(email), email.url.href).toBe(true);
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body).toMatchObject({
      hasPassword: false,
      email: who.email,
    });
    const button = (p: Page) =>
      new URL(String(/href="([^"]*\/federated\/acme)"/.exec(p.html)?.[1]).replace(/&amp;/g, '&'), p.url);

    // An upstream that does not re-authenticate (its auth_time from an hour ago): signed in, no proof.
    up.signInAs = who;
    up.tamper = { key: 'own', claims: (c) => ({ ...c, auth_time: Math.floor(Date.now() / 1000) - 3600 }) };
    const before = up.authorizations.length;
    // (From the latest sign-in page: each redirect to sign in again replaces the one before.)
    const notFresh = await browser.go(button(email));
    up.tamper = undefined;
    expect(up.authorizations[before]?.get('prompt')).toBe('login');
    expect(up.authorizations[before]?.get('max_age')).toBe('0');
    expect(isAccountPage(notFresh), notFresh.html.slice(0, 300)).toBe(true);
    const still = await browser.submit(notFresh, { password, confirm: password }, { action: '/account/password' });
    expect(atSignIn(still), still.url.href).toBe(true);
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.hasPassword).toBe(false);

    // It does (auth_time now): back on the page, and the password is set.
    const again = await browser.go(button(still));
    expect(isAccountPage(again), again.html.slice(0, 300)).toBe(true);
    expect(noticeOf(again)).toBe('You signed in again. You can make the change now.');
    const set = await browser.submit(again, { password, confirm: password }, { action: '/account/password' });
    expect(noticeOf(set), set.html.slice(0, 300)).toBe('Your password is changed, and every other session signed out.');
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.hasPassword).toBe(true);
    expect(set.html).toContain('<strong>Password</strong>');
    // Now a current password is asked, and the new one signs in.
    expect(set.html).toContain('name="current"');
    const elsewhere = new Browser();
    const form = await elsewhere.go(accountUrl());
    expect(isAccountPage(await elsewhere.submit(form, { email: String(who.email), password }))).toBe(true);
  });

  it('an account whose providers cannot re-authenticate (OAuth 2, SAML) is told to ask an administrator', async () => {
    // A provider left that cannot: only an identity at a disabled OpenID Connect one.
    const { id, browser } = await federatedUser();
    const acme = (await admin('GET', `/api/v1/tenants/${slug}/identity-providers`)).body.items.find(
      (p: { slug: string }) => p.slug === 'acme',
    );
    const page = await browser.go(accountUrl());
    const disabled = await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${acme.id}`, {
      body: { enabled: false },
      headers: { 'if-match': `"${acme.version}"` },
    });
    expect(disabled.status, disabled.text).toBe(200);
    try {
      const refused = await browser.submit(
        page,
        { password: 'x'.repeat(20), confirm: 'x'.repeat(20) },
        { action: '/account/password' },
      );
      expect(refused.status).toBe(409);
      expect(errorOf(refused)).toContain('none of its providers can confirm here that it is you');
      expect((await admin('GET', `/api/v1/tenants/${slug}/users/${id}`)).body.hasPassword).toBe(false);
    } finally {
      const back = await admin('GET', `/api/v1/tenants/${slug}/identity-providers/${acme.id}`);
      await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${acme.id}`, {
        body: { enabled: true },
        headers: { 'if-match': `"${back.body.version}"` },
      });
    }
  });

  it('counts only identities at enabled providers as ways to sign in: the last one is not unlinked', async () => {
    // Made through acme (no password), with an identity at `strict` too, which is then disabled.
    const { id, browser } = await federatedUser();
    const tenant = await ts.server.ctx.tenants.findBySlug(slug);
    const providers = (await admin('GET', `/api/v1/tenants/${slug}/identity-providers`)).body.items as {
      id: string;
      slug: string;
      version: number;
    }[];
    const strict = providers.find((p) => p.slug === 'strict');
    if (!tenant || !strict) throw new Error('set-up');
    await ts.server.ctx.identities.link(
      tenant,
      { userId: id, providerId: strict.id, subject: `strict-${id}`, email: null },
      { type: 'system', id: null, ip: null, requestId: null },
    );
    const off = await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${strict.id}`, {
      body: { enabled: false },
      headers: { 'if-match': `"${strict.version}"` },
    });
    expect(off.status, off.text).toBe(200);
    try {
      const [acmeIdentity] = (await identitiesOf(id)).filter((i) => i.providerSlug === 'acme');
      // The page offers no Unlink for acme; the admin API refuses it too.
      const page = await browser.go(accountUrl());
      expect(page.html).not.toContain('Unlink IdP acme');
      const res = await admin('DELETE', `/api/v1/tenants/${slug}/users/${id}/identities/${acmeIdentity?.id}`);
      expect(res.status, res.text).toBe(409);
      expect(res.body.error.code).toBe('last_sign_in_method');
      expect(await identitiesOf(id)).toHaveLength(2);
    } finally {
      const back = await admin('GET', `/api/v1/tenants/${slug}/identity-providers/${strict.id}`);
      await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${strict.id}`, {
        body: { enabled: true },
        headers: { 'if-match': `"${back.body.version}"` },
      });
    }
  });
});
