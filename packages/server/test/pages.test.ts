import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorizationRequest, discover, redeem } from './helpers/oidc.js';
import { linkFromOutbox } from './helpers/outbox.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const postLogoutUri = 'http://127.0.0.1:9/signed-out';
const atRedirect = (u: URL) => u.href.startsWith(redirectUri) || u.href.startsWith(postLogoutUri);

interface App {
  slug: string;
  api: ApiClient;
  config: oidc.Configuration;
  clientId: string;
}

function hidden(html: string, name: string): string | undefined {
  return new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html)?.[1];
}

function formAction(page: Page): URL {
  const action = /<form[^>]*action="([^"]*)"/.exec(page.html)?.[1];
  if (!action) throw new Error(`no form on ${page.url}`);
  return new URL(action.replace(/&amp;/g, '&'), page.url);
}

describe.each(dialects)('sign-in pages (%s)', (dialect) => {
  let ts: TestServer;
  let main: App;
  let thirdParty: App;
  const email = 'pages@example.test';
  const password = 'pages password 2024';
  let userId: string;

  async function makeApp(slug: string, api: ApiClient, firstParty: boolean): Promise<App> {
    const created = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: {
        kind: 'web',
        name: firstParty ? 'First <party> app' : 'Third & party app',
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [postLogoutUri],
        firstParty,
      },
    });
    expect(created.status).toBe(201);
    const config = await discover(ts, slug, created.body);
    return { slug, api, config, clientId: created.body.clientId };
  }

  async function startFlow(app: App, extra: Record<string, string> = {}) {
    const request = await authorizationRequest(app.config, redirectUri, { scope: 'openid email profile', ...extra });
    const browser = new Browser();
    const page = await browser.go(request.url);
    return { ...request, browser, page };
  }

  async function sessionCount(app: App, id: string): Promise<number> {
    const res = await app.api('GET', `/api/v1/tenants/${app.slug}/users/${id}/sessions`);
    expect(res.status).toBe(200);
    return res.body.items.length;
  }

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const t = await tenantWithAdmin(ts);
    main = await makeApp(t.slug, t.api, true);
    thirdParty = await makeApp(t.slug, t.api, false);
    const user = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email, password, displayName: 'Page Tester' },
    });
    expect(user.status).toBe(201);
    userId = user.body.id;
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('renders an accessible sign-in page with a CSRF field and protective headers', async () => {
    const { page, browser } = await startFlow(main);
    expect(page.status).toBe(200);
    expect(page.url.pathname).toMatch(new RegExp(`^/t/${main.slug}/interaction/[\\w-]+$`));
    expect(page.html).toContain('<label for="email">Email</label>');
    expect(page.html).toMatch(/<input id="email" name="email" type="email"/);
    expect(page.html).toContain('<label for="password">Password</label>');
    expect(page.html).toMatch(/<input id="password" name="password" type="password"/);
    expect(page.html).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(hidden(page.html, 'csrf')).toMatch(/^[\w-]{20,}$/);
    expect(page.html).toContain('First &lt;party&gt; app');
    const res = await fetch(page.url, { headers: { cookie: browser.jar.header(page.url) } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
  });

  it('shows the tenant’s branding, HTML-escaped', async () => {
    const t = await tenantWithAdmin(ts);
    const logoUrl = 'https://cdn.example.com/logo.png?size=2&v="><script>alert(2)</script>';
    const patch = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, {
      body: {
        displayName: 'Acme & <Co>',
        settings: {
          branding: { primaryColor: '#aa3300', loginMessage: '<script>alert(1)</script>', logoUrl },
        },
      },
    });
    expect(patch.status, patch.text).toBe(200);
    const app = await makeApp(t.slug, t.api, true);
    const { page } = await startFlow(app);
    expect(page.status).toBe(200);
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.html).toContain('Acme &amp; &lt;Co&gt;');
    expect(page.html).toContain('--brand: #aa3300');
    expect(page.html).toContain(
      'src="https://cdn.example.com/logo.png?size=2&amp;v=&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"',
    );
    expect(page.html).not.toMatch(/<script/i);
    expect(page.html).not.toContain('Acme & <Co>');
    // The colour goes into CSS, so only a plain colour is accepted.
    const css = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, {
      body: { settings: { branding: { primaryColor: 'red;}</style><script>alert(3)</script>' } } },
    });
    expect(css.status).toBe(400);
    const js = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, {
      body: { settings: { branding: { logoUrl: 'javascript:alert(4)' } } },
    });
    expect(js.status).toBe(400);
  });

  it('does not sign in on a POST without the CSRF token, or with a wrong one', async () => {
    const other = await startFlow(main);
    const otherCsrf = hidden(other.page.html, 'csrf') ?? '';
    for (const csrf of [undefined, '', 'wrong', otherCsrf, `${hidden((await startFlow(main)).page.html, 'csrf')}x`]) {
      const { browser, page } = await startFlow(main);
      const form: Record<string, string> = { email, password };
      if (csrf !== undefined) form.csrf = csrf;
      const after = await browser.go(formAction(page), { method: 'POST', form, stopAt: atRedirect });
      expect(atRedirect(after.url), `csrf ${JSON.stringify(csrf)}`).toBe(false);
      expect(after.url.search).toBe('?error=csrf');
      expect(after.html).toContain('Your session expired. Please try again.');
      expect(after.html).toContain('<label for="password">Password</label>');
    }
    expect(await sessionCount(main, userId)).toBe(0);
    // The same form with its own token signs in.
    const flow = await startFlow(main);
    const done = await flow.browser.submit(flow.page, { email, password }, { stopAt: atRedirect });
    expect(done.url.href.startsWith(redirectUri)).toBe(true);
    const tokens = await redeem(main.config, { ...flow, callback: done.url });
    expect(tokens.claims()?.email).toBe(email);
    expect(await sessionCount(main, userId)).toBe(1);
    await main.api('DELETE', `/api/v1/tenants/${main.slug}/users/${userId}/sessions`);
  });

  it('shows registration only when the tenant allows self-registration', async () => {
    const t = await tenantWithAdmin(ts);
    const app = await makeApp(t.slug, t.api, true);
    const newEmail = 'newcomer@example.test';
    const off = await startFlow(app);
    expect(off.page.html).not.toContain('/register');
    const registerUrl = new URL(`${off.page.url.pathname}/register`, off.page.url);
    const redirected = await fetch(registerUrl, {
      headers: { cookie: off.browser.jar.header(registerUrl) },
      redirect: 'manual',
    });
    expect(redirected.status).toBe(303);
    expect(redirected.headers.get('location')).toBe(off.page.url.pathname);
    const posted = await off.browser.go(registerUrl, {
      method: 'POST',
      form: { csrf: hidden(off.page.html, 'csrf') ?? '', email: newEmail, password: 'a fine new password' },
      stopAt: atRedirect,
    });
    expect(atRedirect(posted.url)).toBe(false);
    const none = await t.api('GET', `/api/v1/tenants/${t.slug}/users?q=newcomer`);
    expect(none.body.items).toEqual([]);

    expect(
      (await t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { settings: { selfRegistration: true } } })).status,
    ).toBe(200);
    const on = await startFlow(app);
    expect(on.page.html).toContain(`href="${on.page.url.pathname}/register"`);
    const form = await on.browser.go(new URL(`${on.page.url.pathname}/register`, on.page.url));
    expect(form.status).toBe(200);
    expect(form.html).toContain('<label for="email">Email</label>');
    expect(form.html).toContain('<label for="password">Password</label>');
    expect(hidden(form.html, 'csrf')).toBeTruthy();

    // A weak password or a missing token creates nobody.
    const weak = await on.browser.submit(form, { email: newEmail, name: 'New', password: 'short' });
    expect(weak.html).toContain('The password is too short.');
    const forged = await on.browser.go(formAction(form), {
      method: 'POST',
      form: { csrf: 'forged', email: newEmail, password: 'a fine new password' },
      stopAt: atRedirect,
    });
    expect(atRedirect(forged.url)).toBe(false);
    expect((await t.api('GET', `/api/v1/tenants/${t.slug}/users?q=newcomer`)).body.items).toEqual([]);

    // Registered, but not signed in (a taken email gets the same answer): the sign-in form,
    // its email filled in, says to check the inbox or sign in; the password chosen signs in.
    const registered = await on.browser.submit(
      weak,
      { email: newEmail, name: 'New <Comer>', password: 'a fine new password' },
      { stopAt: atRedirect },
    );
    expect(registered.status).toBe(200);
    expect(registered.html).toContain('Check your inbox');
    expect(registered.html).toContain(`value="${newEmail}"`);
    // Pending until the email's link is used: the password chosen does not sign in yet.
    const early = await on.browser.submit(
      registered,
      { email: newEmail, password: 'a fine new password' },
      { stopAt: atRedirect },
    );
    expect(atRedirect(early.url)).toBe(false);
    expect(early.html).toContain('Invalid email or password.');
    const pending = await t.api('GET', `/api/v1/tenants/${t.slug}/users?q=newcomer`);
    expect(pending.body.items[0]).toMatchObject({ status: 'pending', emailVerified: false });
    const link = await linkFromOutbox(ts.api, t.slug, newEmail, 'verify');
    const confirm = await new Browser().go(link);
    expect(confirm.status).toBe(200);
    const confirmed = await new Browser().submit(confirm, {});
    // The form's CSRF cookie belongs to the browser that opened the link.
    expect(confirmed.status).toBe(400);
    const browser = new Browser();
    const confirmedHere = await browser.submit(await browser.go(link), {});
    expect(confirmedHere.status).toBe(200);
    expect(confirmedHere.html).toContain('Email address confirmed');
    const done = await on.browser.submit(
      early,
      { email: newEmail, password: 'a fine new password' },
      { stopAt: atRedirect },
    );
    expect(done.url.href.startsWith(redirectUri), done.html.slice(0, 400)).toBe(true);
    const tokens = await redeem(app.config, { ...on, callback: done.url });
    expect(tokens.claims()?.email).toBe(newEmail);
    expect(tokens.claims()?.name).toBe('New <Comer>');
    const users = await t.api('GET', `/api/v1/tenants/${t.slug}/users?q=newcomer`);
    expect(users.body.items).toHaveLength(1);
    expect(users.body.items[0]).toMatchObject({
      email: newEmail,
      displayName: 'New <Comer>',
      status: 'active',
      emailVerified: true,
    });
    expect(tokens.claims()?.email_verified).toBe(true);
    expect(users.body.items[0].id).toBe(tokens.claims()?.sub);

    // Registering the same email again does not make a second account.
    const again = await startFlow(app, { prompt: 'login' });
    const regAgain = await again.browser.go(new URL(`${again.page.url.pathname}/register`, again.page.url));
    const dup = await again.browser.submit(
      regAgain,
      { email: newEmail, password: 'another fine password' },
      { stopAt: atRedirect },
    );
    expect(atRedirect(dup.url)).toBe(false);
    expect((await t.api('GET', `/api/v1/tenants/${t.slug}/users?q=newcomer`)).body.items).toHaveLength(1);
  });

  it('asks third-party clients for consent: Deny returns access_denied, Allow completes', async () => {
    const { browser, page, state } = await startFlow(thirdParty);
    const consent = await browser.submit(page, { email, password }, { stopAt: atRedirect });
    expect(atRedirect(consent.url)).toBe(false);
    expect(consent.status).toBe(200);
    expect(consent.html).toContain('Allow access?');
    expect(consent.html).toContain('Third &amp; party app');
    expect(consent.html).toMatch(/<button type="submit" name="decision" value="allow">Allow<\/button>/);
    expect(consent.html).toMatch(/name="decision" value="deny"[^>]*>Deny<\/button>/);
    expect(consent.html).toContain('see your email address');

    // Without its CSRF token the consent form grants nothing.
    const forged = await browser.go(formAction(consent), {
      method: 'POST',
      form: { decision: 'allow' },
      stopAt: atRedirect,
    });
    expect(atRedirect(forged.url)).toBe(false);
    expect(forged.html).toContain('Allow access?');

    const denied = await browser.submit(consent, { decision: 'deny' }, { stopAt: atRedirect });
    expect(denied.url.href.startsWith(redirectUri)).toBe(true);
    expect(denied.url.searchParams.get('error')).toBe('access_denied');
    expect(denied.url.searchParams.get('state')).toBe(state);
    expect(denied.url.searchParams.get('iss')).toBe(`${ts.url}/t/${thirdParty.slug}`);
    expect(denied.url.searchParams.get('code')).toBeNull();

    // Same browser, new request: signed in already, so straight to consent; Allow completes.
    const second = await startFlow(thirdParty);
    const again = await browser.go(second.url, { stopAt: atRedirect });
    expect(again.html).toContain('Allow access?');
    const allowed = await browser.submit(again, { decision: 'allow' }, { stopAt: atRedirect });
    expect(allowed.url.searchParams.get('code')).toBeTruthy();
    const tokens = await redeem(thirdParty.config, { ...second, callback: allowed.url });
    expect(tokens.claims()?.email).toBe(email);
    // First-party clients never show it.
    const first = await startFlow(main);
    const firstDone = await browser.go(first.url, { stopAt: atRedirect });
    expect(firstDone.url.href.startsWith(redirectUri)).toBe(true);
    await main.api('DELETE', `/api/v1/tenants/${main.slug}/users/${userId}/sessions`);
  });

  it('shows an error page, never a redirect, for an invalid client_id or redirect_uri', async () => {
    const other = await tenantWithAdmin(ts);
    const otherApp = await makeApp(other.slug, other.api, true);
    const base = {
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'xyz',
    };
    const cases: Record<string, string>[] = [
      { ...base, client_id: 'cli_doesnotexist', redirect_uri: redirectUri },
      { ...base, client_id: otherApp.clientId, redirect_uri: redirectUri },
      { ...base, client_id: main.clientId, redirect_uri: 'https://evil.example.com/callback' },
      { ...base, client_id: main.clientId, redirect_uri: `${redirectUri}/` },
      { ...base, client_id: main.clientId, redirect_uri: `${redirectUri}?x=1` },
      { ...base, client_id: main.clientId, redirect_uri: 'http://127.0.0.1:10/callback' },
      { ...base, client_id: main.clientId, redirect_uri: postLogoutUri },
      { ...base, client_id: main.clientId },
    ];
    for (const params of cases) {
      const res = await fetch(`${ts.url}/t/${main.slug}/auth?${new URLSearchParams(params)}`, { redirect: 'manual' });
      const text = await res.text();
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(text).toContain('Something went wrong');
      expect(text).not.toMatch(/http-equiv|<script|evil\.example/i);
    }
  });

  it('shows a logout confirmation page for RP-initiated logout without an id_token_hint, and signs out', async () => {
    const flow = await startFlow(main);
    const { browser } = flow;
    const done = await browser.submit(flow.page, { email, password }, { stopAt: atRedirect });
    await redeem(main.config, { ...flow, callback: done.url });
    expect(await sessionCount(main, userId)).toBe(1);
    // (With the hint of this session there is no question: logout.test.ts.)
    const endUrl = oidc.buildEndSessionUrl(main.config, {
      post_logout_redirect_uri: postLogoutUri,
      state: 'bye',
    });
    const confirm = await browser.go(endUrl, { stopAt: atRedirect });
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('<h1>Sign out</h1>');
    expect(confirm.html).toMatch(/<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out/);
    expect(hidden(confirm.html, 'xsrf')).toBeTruthy();
    const headers = await fetch(endUrl, { headers: { cookie: browser.jar.header(endUrl) } });
    expect(headers.headers.get('x-frame-options')).toBe('DENY');
    expect(headers.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.headers.get('cache-control')).toBe('no-store');

    // Without its xsrf token the confirmation does nothing.
    const forged = await browser.go(formAction(confirm), {
      method: 'POST',
      form: { logout: 'yes' },
      stopAt: atRedirect,
    });
    expect(atRedirect(forged.url)).toBe(false);
    expect(forged.status).toBe(400);
    expect(await sessionCount(main, userId)).toBe(1);

    const fresh = await browser.go(endUrl, { stopAt: atRedirect });
    const out = await browser.submit(fresh, { logout: 'yes' }, { stopAt: atRedirect });
    expect(out.url.href.startsWith(postLogoutUri)).toBe(true);
    expect(out.url.searchParams.get('state')).toBe('bye');
    expect(await sessionCount(main, userId)).toBe(0);
    // Signed out: a new authorization request asks for the password again.
    const next = await startFlow(main);
    const back = await browser.go(next.url, { stopAt: atRedirect });
    expect(back.html).toContain('<label for="password">Password</label>');
  });

  it('shows an error page (400), never a 500, for an unknown or finished interaction', async () => {
    const interaction = `/t/${main.slug}/interaction`;
    const bogus = ['nope', 'A'.repeat(43), 'x'.repeat(500), '..%2F..%2Fjwks', '%00', '%E2%80%AE'];
    for (const uid of bogus) {
      for (const [method, suffix] of [
        ['GET', ''],
        ['POST', '/login'],
        ['GET', '/register'],
        ['POST', '/register'],
        ['POST', '/consent'],
        ['GET', '/abort'],
      ] as const) {
        const res = await fetch(`${ts.url}${interaction}/${uid}${suffix}`, {
          method,
          redirect: 'manual',
          headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
          body: method === 'POST' ? new URLSearchParams({ email, password, csrf: 'x' }).toString() : undefined,
        });
        const text = await res.text();
        expect(res.status, `${method} ${uid}${suffix}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${uid}${suffix}`).toBeLessThan(500);
        expect(text).not.toContain('<label for="password">');
      }
    }
    // Plausible ids get the branded error page (over-long ones are not routed at all: 404).
    for (const uid of ['nope', 'A'.repeat(43), '%00', '%E2%80%AE']) {
      const page = await fetch(`${ts.url}${interaction}/${uid}`);
      expect(page.status, uid).toBe(400);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(await page.text()).toContain('Something went wrong');
    }

    // A real interaction's cookie with another uid in the URL.
    const { browser, page } = await startFlow(main);
    const wrong = new URL(`${interaction}/${'B'.repeat(43)}`, page.url);
    const mismatch = await browser.go(wrong);
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain('Something went wrong');

    // An interaction already finished (the back button after signing in).
    const done = await browser.submit(page, { email, password }, { stopAt: atRedirect });
    expect(atRedirect(done.url)).toBe(true);
    const revisit = await browser.go(page.url);
    expect(revisit.status).toBe(400);
    expect(revisit.html).toContain('Something went wrong');
    const replay = await browser.go(new URL(`${page.url.pathname}/login`, page.url), {
      method: 'POST',
      form: { csrf: hidden(page.html, 'csrf') ?? '', email, password },
      stopAt: atRedirect,
    });
    expect(atRedirect(replay.url)).toBe(false);
    expect(replay.status).toBe(400);
    await main.api('DELETE', `/api/v1/tenants/${main.slug}/users/${userId}/sessions`);
  });

  it('answers 404 for an unknown tenant’s pages', async () => {
    const res = await fetch(`${ts.url}/t/no-such-tenant-x/interaction/abc`);
    expect(res.status).toBe(404);
  });
});
