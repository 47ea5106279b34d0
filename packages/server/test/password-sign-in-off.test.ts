/**
 * A tenant that signs in through its identity providers only (`settings.passwordSignIn`
 * false, issue 13), on each database, against a stand-in upstream oidc-provider: the sign-in
 * page has the providers' buttons and no password form (an email form only where an email's
 * domain routes to a provider); a password posted anyway is refused before any is checked;
 * registration, the forgot-password and reset pages and the account page's password section
 * are gone; the system tenant keeps password sign-in; turned on again, passwords sign in.
 */
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { appTokens, createProvider, signInVia } from './helpers/federation.js';
import { authorizationRequest, discover } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const secret = 'upstream-client-secret-0123456789abcdef';
const PASSWORD = 'a password that no longer signs in';

describe.each(dialects)('password sign-in turned off (%s)', (dialect) => {
  let ts: TestServer;
  let up: Upstream;
  let admin: ApiClient;
  let slug: string;
  let config: oidc.Configuration;
  let version: number;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const atApp = (u: URL) => u.href.startsWith(redirectUri);
  const email = `pwd-off-${dialect}@example.test`;
  let userId: string;

  const setPasswords = async (on: boolean) => {
    const res = await admin('PATCH', `/api/v1/tenants/${slug}`, {
      body: { settings: { passwordSignIn: on } },
      headers: { 'if-match': `"${version}"` },
    });
    expect(res.status, res.text).toBe(200);
    version = res.body.version;
    expect(res.body.settings.passwordSignIn).toBe(on);
  };
  const signInPage = async (browser = new Browser()) => {
    const request = await authorizationRequest(config, redirectUri, { scope: 'openid email' });
    const page = await browser.go(request.url, { stopAt: atApp });
    expect(page.status, page.html.slice(0, 300)).toBe(200);
    return { browser, page, request };
  };
  const loginAudits = async () =>
    (await admin('GET', `/api/v1/tenants/${slug}/audit-events?action=login.password&limit=100`)).body.items.length;

  beforeAll(async () => {
    [ts, up] = await Promise.all([
      startTestServer(dialect, { FEDERATION_ALLOW_HTTP_ISSUERS: 'true' }),
      startUpstream(),
    ]);
    ({ slug, api: admin } = await tenantWithAdmin(ts));
    const settings = await admin('PATCH', `/api/v1/tenants/${slug}`, {
      body: { settings: { selfRegistration: true } },
    });
    version = settings.body.version;
    const client = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    config = await discover(ts, slug, client.body);
    up.addClient({
      client_id: 'pwd-off',
      client_secret: secret,
      redirect_uris: [`${ts.url}/t/${slug}/federation/acme/callback`],
    });
    await createProvider(admin, slug, {
      kind: 'oidc',
      slug: 'acme',
      displayName: 'Acme',
      issuer: up.issuer,
      clientId: 'pwd-off',
      clientSecret: secret,
      allowSignUp: true,
    });
    const user = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email, password: PASSWORD, emailVerified: true },
    });
    expect(user.status, user.text).toBe(201);
    userId = user.body.id;
  });
  afterAll(async () => {
    await Promise.all([ts?.close(), up?.close()]);
  });

  it('shows only the providers’ buttons, and refuses a password posted anyway before checking it', async () => {
    await setPasswords(false);
    const { page } = await signInPage();
    expect(page.html).not.toContain('name="password"');
    expect(page.html).toContain('Sign in with one of the ways below.');
    expect(page.html).toContain('Sign in with Acme');
    expect(page.html).not.toContain('/register');
    expect(page.html).not.toContain('/account/forgot');

    // An email domain routed to the provider: an email form (Continue) for it.
    const providers = await admin('GET', `/api/v1/tenants/${slug}/identity-providers`);
    const acme = providers.body.items[0];
    const routed = await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${acme.id}`, {
      body: { domains: ['acme.test'] },
      headers: { 'if-match': `"${acme.version}"` },
    });
    expect(routed.status, routed.text).toBe(200);
    const { browser, page: withEmail } = await signInPage();
    expect(withEmail.html).toContain('name="email"');
    expect(withEmail.html).not.toContain('name="password"');
    expect(withEmail.html).toContain('>Continue</button>');
    const before = await loginAudits();
    const refused = await browser.submit(withEmail, { email, password: PASSWORD }, { stopAt: atApp });
    expect(refused.status).toBe(401);
    expect(refused.html).toContain('No sign-in here is set up for that email address.');
    expect(await loginAudits()).toBe(before); // no password was looked at
    const routedTo = await browser.submit(
      refused,
      { email: 'someone@acme.test' },
      { stopAt: (u) => u.origin === new URL(up.issuer).origin },
    );
    expect(routedTo.status).toBe(0);
  });

  it('has no registration, password reset or account-page password, and signs in through the provider', async () => {
    const { browser, page } = await signInPage();
    const base = page.url.href.split('?')[0];
    const register = await browser.go(`${base}/register`);
    expect(register.html).not.toContain('Create your account');
    for (const path of ['/account/forgot', '/account/reset?token=x']) {
      expect((await new Browser().go(`${ts.url}/t/${slug}${path}`)).status, path).toBe(404);
    }
    const posted = await new Browser().go(`${ts.url}/t/${slug}/account/forgot`, { method: 'POST', form: { email } });
    expect(posted.status).toBe(404);

    up.signInAs = { sub: `off-${dialect}`, email: `fed-${dialect}@upstream.test`, email_verified: true };
    const fed = new Browser();
    const flow = await signInVia({ config, redirectUri, atApp }, fed, 'acme');
    const done = await fed.submit(flow.page, {}, { action: '/federation/create', stopAt: atApp });
    expect((await appTokens({ config, redirectUri, atApp }, done, flow.request)).claims()?.amr).toEqual(['fed']);
    const account = await fed.go(`${ts.url}/t/${slug}/account`);
    expect(account.html).toContain('<h1>Your account</h1>');
    expect(account.html).not.toContain('id="password-h"');
    const csrf = /name="csrf" value="([^"]+)"/.exec(account.html)?.[1] ?? '';
    const set = await fed.go(`${ts.url}/t/${slug}/account/password`, {
      method: 'POST',
      form: { csrf, password: 'a new password here', confirm: 'a new password here' },
    });
    expect(set.status).toBe(404);
  });

  it('keeps it in the system tenant, and signs in with the password once it is on again', async () => {
    const system = await ts.api('GET', '/api/v1/tenants/system');
    const refused = await ts.api('PATCH', '/api/v1/tenants/system', { body: { settings: { passwordSignIn: false } } });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.error.code).toBe('invalid_settings');
    expect(refused.body.error.details).toEqual([
      { path: '/settings/passwordSignIn', message: 'the system tenant keeps password sign-in' },
    ]);
    expect((await ts.api('GET', '/api/v1/tenants/system')).body.version).toBe(system.body.version);

    await setPasswords(true);
    const { browser, page, request } = await signInPage();
    expect(page.html).toContain('name="password"');
    const back = await browser.submit(page, { email, password: PASSWORD }, { stopAt: atApp });
    expect((await appTokens({ config, redirectUri, atApp }, back, request)).claims()?.sub).toBe(userId);
  });
});
