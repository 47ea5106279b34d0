/**
 * Federated sign-in through the real thing: a stand-in upstream oidc-provider on 127.0.0.1
 * (helpers/upstream.ts), Latchkey on each database as its relying party, and openid-client as
 * the application downstream, the browser driven over HTTP with its cookies. New users,
 * returning ones, the linking rules (never on an unverified email), the upstream's failures
 * and forgeries (state, replay, audience, signature), tenant isolation, role mapping,
 * home-realm discovery, and the google/microsoft presets pointed at the stand-in.
 */
import { exportJWK, generateKeyPair } from 'jose';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import type { AuthenticatedPrincipal } from './helpers/federation.js';
import { createProvider, idpPrincipal } from './helpers/federation.js';
import { authorizationRequest, discover, redeem } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startUpstream, type Upstream, type UpstreamUser } from './helpers/upstream.js';

const secret = 'upstream-client-secret-0123456789abcdef';

describe.each(dialects)('federated sign-in (%s)', (dialect) => {
  let ts: TestServer;
  let up: Upstream;
  let admin: ApiClient;
  let slug: string;
  let config: oidc.Configuration;
  let principal: AuthenticatedPrincipal;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const atApp = (u: URL) => u.href.startsWith(redirectUri);
  const callbackOf = (tenant: string, idp: string) => `${ts.url}/t/${tenant}/federation/${idp}/callback`;
  let n = 0;
  const someone = (over: Partial<UpstreamUser> = {}): UpstreamUser => {
    n += 1;
    return {
      sub: `upstream-${n}`,
      email: `person${n}@upstream.test`,
      email_verified: true,
      name: `Person ${n}`,
      ...over,
    };
  };

  /** A provider of `tenant` at `upstream`, registered there with its callback. */
  async function provider(body: Record<string, unknown>, upstream = up, tenant = slug) {
    const s = String(body.slug);
    const clientId = String(body.clientId ?? `latchkey-${tenant}-${s}`);
    upstream.addClient({
      client_id: clientId,
      client_secret: secret,
      redirect_uris: [callbackOf(tenant, s)],
      token_endpoint_auth_method: body.tokenEndpointAuthMethod ?? 'client_secret_basic',
      ...(body.upstreamJwks ? { jwks: body.upstreamJwks } : {}),
    });
    const { upstreamJwks: _jwks, ...rest } = body;
    return createProvider(ts, principal, tenant, {
      issuer: upstream.issuer,
      clientId,
      clientSecret: secret,
      displayName: `IdP ${s}`,
      ...rest,
    });
  }

  /** An authorization request of the application, through the sign-in page's `idp` button, up to where it stops. */
  async function viaButton(browser: Browser, idp: string, who: UpstreamUser | null) {
    up.signInAs = who;
    const request = await authorizationRequest(config, redirectUri, { scope: 'openid email profile' });
    const signInPage = await browser.go(request.url, { stopAt: atApp });
    expect(signInPage.status, signInPage.html.slice(0, 300)).toBe(200);
    const href = new RegExp(`href="([^"]*/federated/${idp})"`).exec(signInPage.html)?.[1];
    expect(href, `no button for ${idp}`).toBeTruthy();
    const page = await browser.go(new URL(String(href), signInPage.url), { stopAt: atApp });
    return { page, request, signInPage };
  }

  /** The application's tokens for the code the browser came back with. */
  async function tokensOf(page: Page, request: Awaited<ReturnType<typeof authorizationRequest>>) {
    expect(atApp(page.url), `${page.url} ${page.status} ${page.html.slice(0, 400)}`).toBe(true);
    return redeem(config, { callback: page.url, ...request });
  }

  const usersNamed = async (email: string) =>
    (await admin('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(email)}`)).body.items as {
      id: string;
      email: string;
      roles: string[];
      emailVerified: boolean;
    }[];

  beforeAll(async () => {
    [ts, up] = await Promise.all([
      startTestServer(dialect, { FEDERATION_ALLOW_HTTP_ISSUERS: 'true' }),
      startUpstream(),
    ]);
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    principal = idpPrincipal(ts, slug);
    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } })).status,
    ).toBe(200);
    const client = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status, client.text).toBe(201);
    config = await discover(ts, slug, client.body);
    await provider({ slug: 'acme', allowSignUp: true, allowLink: true });
  });
  afterAll(async () => {
    await Promise.all([ts?.close(), up?.close()]);
  });

  it('signs up a new user, signs the same one in again, with amr fed and idp in the ID token', async () => {
    const who = someone();
    const first = await viaButton(new Browser(), 'acme', who);
    // A new email: create an account, or link one.
    expect(first.page.status, `${first.page.url} ${first.page.html.slice(0, 600)}`).toBe(200);
    expect(first.page.html).toContain('Create a new account');
    const created = await new Browser().go(first.page.url); // another browser has no flow cookie
    expect(created.status).toBe(400);
    const browser = new Browser();
    const again = await viaButton(browser, 'acme', who);
    const done = await browser.submit(again.page, {}, { action: '/federation/create', stopAt: atApp });
    const tokens = await tokensOf(done, again.request);
    const claims = tokens.claims();
    expect(claims?.amr).toEqual(['fed']);
    expect(claims?.idp).toBe('acme');
    const [user] = await usersNamed(String(who.email));
    expect(user?.email).toBe(who.email);
    expect(claims?.sub).toBe(user?.id);

    // Again, in a fresh browser: the same user, straight back to the application.
    const back = await viaButton(new Browser(), 'acme', who);
    const tokens2 = await tokensOf(back.page, back.request);
    expect(tokens2.claims()?.sub).toBe(user?.id);
    const identities = await ts.server.ctx.identities.listForUser(
      (await ts.server.ctx.tenants.findBySlug(slug))!,
      String(user?.id),
    );
    expect(identities).toHaveLength(1);
    expect(identities[0]?.lastSignInAt).not.toBeNull();
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${user?.id}`);
    const actions = (audit.body.items as { action: string }[]).map((e) => e.action);
    expect(actions.filter((a) => a === 'user.sign_in.federated')).toHaveLength(2);
  });
});
