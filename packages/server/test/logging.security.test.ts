/**
 * Nothing secret is logged: a full code flow, a refresh, logout with `id_token_hint` and
 * failed requests carrying secrets in their query run against a server logging at trace,
 * and no code, token, hint, client secret, password, API key or cookie value appears in its
 * log, while the paths asked for (and harmless parameters such as `state`) still do.
 * @see issue 9, item 10
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorize, basicAuth, discover, redeem, tokenRequest } from './helpers/oidc.js';
import { captureLog, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

describe.each(dialects)('logs keep no secrets (%s)', (dialect) => {
  const log = captureLog();
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer(dialect, { LOG_LEVEL: 'trace' }, undefined, { logDestination: log });
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('redacts codes, tokens, hints and secrets from every logged URL, and logs no header or body', async () => {
    const { slug, api, key } = await tenantWithAdmin(ts);
    const user = { email: 'logged@example.test', password: 'a password nobody logs' };
    expect((await api('POST', `/api/v1/tenants/${slug}/users`, { body: user })).status).toBe(201);
    // The application's callback is on this server (as the admin console's is): the code
    // arrives in a URL the server logs.
    const redirectUri = `${ts.url}/cb`;
    const postLogoutUri = `${ts.url}/signed-out`;
    const created = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: {
        kind: 'web',
        name: 'Logged app',
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [postLogoutUri],
        firstParty: true,
      },
    });
    expect(created.status, created.text).toBe(201);
    const client = { id: created.body.clientId as string, secret: created.body.clientSecret as string };
    const config = await discover(ts, slug, created.body);

    const browser = new Browser();
    const authorized = await authorize(config, browser, redirectUri, user, { scope: 'openid email offline_access' });
    const code = authorized.callback.searchParams.get('code') ?? '';
    expect(code).not.toBe('');
    // The browser arrives at the callback (a 404 here: a failed request with the code in it).
    const landed = await fetch(authorized.callback, { redirect: 'manual' });
    expect(landed.status).toBe(404);
    expect(await landed.text()).not.toContain(code);
    const tokens = await redeem(config, authorized);
    const idToken = tokens.id_token ?? '';
    const refreshToken = tokens.refresh_token ?? '';
    expect(idToken && refreshToken).toBeTruthy();
    const refreshed = await tokenRequest(
      ts,
      slug,
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      client,
    );
    expect(refreshed.status).toBe(200);
    const accessToken = refreshed.body.access_token as string;

    // Secrets where they do not belong, in the query of failed requests.
    const loginHint = 'hinted-person@example.test';
    const verifier = 'a-code-verifier-that-must-not-be-logged-0123456789';
    const failed = [
      `/api/v1/tenants?access_token=${accessToken}`,
      `/t/${slug}/me?access_token=${accessToken}`,
      `/t/${slug}/token/introspection?token=${refreshed.body.refresh_token}&client_secret=${client.secret}`,
      `/t/${slug}/auth?client_id=nobody&id_token_hint=${idToken}&login_hint=${encodeURIComponent(loginHint)}&code_verifier=${verifier}&state=kept-state`,
      `/nowhere?reset_token=${verifier}&ticket=${verifier}x&password=${encodeURIComponent(user.password)}`,
      // A password reset link's page (accounts/routes.ts): its secret is the token.
      `/t/${slug}/account/reset?token=${verifier.padEnd(43, 'x')}`,
    ];
    for (const path of failed) {
      const res = await fetch(`${ts.url}${path}`, { headers: { authorization: basicAuth(client.id, client.secret) } });
      expect(res.status, path).toBeGreaterThanOrEqual(400);
    }

    // RP-initiated logout with the ID token as hint, through to the post-logout redirect.
    const logoutUrl = new URL(`${ts.url}/t/${slug}/session/end`);
    logoutUrl.search = new URLSearchParams({
      id_token_hint: idToken,
      post_logout_redirect_uri: postLogoutUri,
      client_id: client.id,
      state: 'logout-state',
    }).toString();
    const atPostLogout = (u: URL) => u.href.startsWith(postLogoutUri);
    let page = await browser.go(logoutUrl, { stopAt: atPostLogout });
    if (!atPostLogout(page.url)) page = await browser.submit(page, { logout: 'yes' }, { stopAt: atPostLogout });
    expect(atPostLogout(page.url)).toBe(true);
    const cookieValues = browser.jar
      .header(new URL(`${ts.url}/t/${slug}/`))
      .split('; ')
      .map((c) => c.slice(c.indexOf('=') + 1))
      .filter((v) => v.length >= 16);

    const text = log.text();
    const secrets = {
      code,
      idToken,
      refreshToken,
      rotatedRefreshToken: refreshed.body.refresh_token as string,
      accessToken,
      clientSecret: client.secret,
      adminKey: ts.adminKey,
      tenantKey: key,
      password: user.password,
      encodedPassword: encodeURIComponent(user.password),
      loginHint,
      encodedLoginHint: encodeURIComponent(loginHint),
      verifier,
      basic: basicAuth(client.id, client.secret).slice('Basic '.length),
      ...Object.fromEntries(cookieValues.map((v, i) => [`cookie${i}`, v])),
    };
    for (const [name, value] of Object.entries(secrets)) {
      expect(value.length, name).toBeGreaterThan(8);
      expect(text.includes(value), `${name} appears in the log`).toBe(false);
    }

    // The log still says what was asked for.
    const urls = log.lines
      .map((line) => JSON.parse(line) as { url?: string; msg?: string })
      .flatMap((l) => l.url ?? []);
    expect(urls).toContain(
      `/cb?code=[redacted]&state=${authorized.state}&iss=${encodeURIComponent(`${ts.url}/t/${slug}`)}`,
    );
    expect(
      urls.some((u) => u.startsWith(`/t/${slug}/session/end?id_token_hint=[redacted]&post_logout_redirect_uri=`)),
    ).toBe(true);
    expect(
      urls.some((u) =>
        u.startsWith(
          `/t/${slug}/auth?client_id=nobody&id_token_hint=[redacted]&login_hint=[redacted]&code_verifier=[redacted]&state=kept-state`,
        ),
      ),
    ).toBe(true);
    expect(urls).toContain(`/t/${slug}/token/introspection?token=[redacted]&client_secret=[redacted]`);
    expect(urls).toContain('/nowhere?reset_token=[redacted]&ticket=[redacted]&password=[redacted]');
    expect(urls).toContain(`/t/${slug}/account/reset?token=[redacted]`);
    expect(urls).toContain(`/t/${slug}/token`);
  });
});
