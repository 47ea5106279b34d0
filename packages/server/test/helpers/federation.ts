/**
 * Identity providers for the federation tests, made through the admin API, and the
 * application whose sign-in the tests drive through a provider's button.
 */
import type * as oidc from 'openid-client';
import { expect } from 'vitest';
import type { IdentityProvider } from '../../src/federation/store.js';
import type { Browser, Page } from './browser.js';
import { authorizationRequest, discover, redeem } from './oidc.js';
import type { ApiClient, TestServer } from './server.js';

export async function createProvider(
  api: ApiClient,
  slug: string,
  body: Record<string, unknown>,
): Promise<IdentityProvider> {
  const res = await api('POST', `/api/v1/tenants/${slug}/identity-providers`, { body });
  expect(res.status, res.text).toBe(201);
  return res.body as IdentityProvider;
}

/** An application of a tenant (a first-party web client) that signs its users in, as the federation tests drive it. */
export interface AppUnderTest {
  config: oidc.Configuration;
  redirectUri: string;
  /** Whether the browser is back at the application. */
  atApp(u: URL): boolean;
}

/** Registers the application in tenant `slug` through `api` and discovers the tenant. */
export async function appOf(ts: TestServer, api: ApiClient, slug: string): Promise<AppUnderTest> {
  const redirectUri = 'http://127.0.0.1:9/callback';
  const client = await api('POST', `/api/v1/tenants/${slug}/clients`, {
    body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
  });
  expect(client.status, client.text).toBe(201);
  return {
    config: await discover(ts, slug, client.body),
    redirectUri,
    atApp: (u) => u.href.startsWith(redirectUri),
  };
}

/**
 * An authorization request of the application, through the sign-in page's button for
 * provider `idp`, followed until the browser stops (back at the application, a page to
 * answer, or where `stopAt` says).
 */
export async function signInVia(
  app: AppUnderTest,
  browser: Browser,
  idp: string,
  options: { stopAt?: (u: URL) => boolean } = {},
) {
  const request = await authorizationRequest(app.config, app.redirectUri, { scope: 'openid email profile' });
  const signInPage = await browser.go(request.url, { stopAt: app.atApp });
  expect(signInPage.status, signInPage.html.slice(0, 300)).toBe(200);
  const href = new RegExp(`href="([^"]*/federated/${idp})"`).exec(signInPage.html)?.[1];
  expect(href, `no button for ${idp}`).toBeTruthy();
  const stopAt = (u: URL) => app.atApp(u) || (options.stopAt?.(u) ?? false);
  const page = await browser.go(new URL(String(href), signInPage.url), { stopAt });
  return { page, request, signInPage };
}

/** The application's tokens for the code the browser came back with. */
export async function appTokens(
  app: AppUnderTest,
  page: Page,
  request: Awaited<ReturnType<typeof authorizationRequest>>,
) {
  expect(app.atApp(page.url), `${page.url} ${page.status} ${page.html.slice(0, 400)}`).toBe(true);
  return redeem(app.config, { callback: page.url, ...request });
}
