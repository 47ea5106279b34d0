/**
 * The relying-party side of the OAuth/OpenID Connect tests: openid-client set up for a
 * tenant's issuer over plain HTTP, an authorization request signed in through the sign-in
 * form with the HTTP `Browser`, the code redeemed, and raw token endpoint requests.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { expect } from 'vitest';
import { Browser } from './browser.js';
import type { ApiClient } from './server.js';

/** openid-client options for the test server's plain-HTTP issuer. */
export const insecure = { execute: [oidc.allowInsecureRequests] };

/** A client id and secret, as HTTP Basic client authentication sends them. */
export interface ClientCredentials {
  id: string;
  secret: string;
}

/** Discovery of the tenant's issuer for a confidential client (client_secret_basic), as the admin API created it. */
export function discover(
  ts: { url: string },
  slug: string,
  client: { clientId: string; clientSecret: string },
  metadata?: Partial<oidc.ClientMetadata>,
): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(`${ts.url}/t/${slug}`),
    client.clientId,
    metadata,
    oidc.ClientSecretBasic(client.clientSecret),
    insecure,
  );
}

/** A service client made through the admin API (`body` adds to or overrides kind and name), and its credentials. */
export async function serviceClient(
  api: ApiClient,
  slug: string,
  body: Record<string, unknown> = {},
): Promise<ClientCredentials & { rowId: string }> {
  const res = await api('POST', `/api/v1/tenants/${slug}/clients`, { body: { kind: 'service', name: 'svc', ...body } });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.clientId as string, secret: res.body.clientSecret as string, rowId: res.body.id as string };
}

export interface AuthorizationRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/**
 * An authorization request URL: code flow with PKCE (S256), a fresh state and nonce, scope
 * `openid` unless `params` say otherwise.
 */
export async function authorizationRequest(
  config: oidc.Configuration,
  redirectUri: string,
  params: Record<string, string> = {},
): Promise<AuthorizationRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

export interface Authorized {
  /** The redirect back to the client, with the code. */
  callback: URL;
  verifier: string;
  state: string;
  nonce: string;
  /** Whether the sign-in page was shown on the way. */
  signInShown: boolean;
}

/** Runs an authorization request in `browser`, signing in when the page asks for it, up to the redirect back. */
export async function authorize(
  config: oidc.Configuration,
  browser: Browser,
  redirectUri: string,
  credentials: { email: string; password: string },
  params: Record<string, string> = {},
): Promise<Authorized> {
  const { url, verifier, state, nonce } = await authorizationRequest(config, redirectUri, params);
  const stopAt = (u: URL) => u.href.startsWith(redirectUri);
  let page = await browser.go(url, { stopAt });
  let signInShown = false;
  if (!stopAt(page.url)) {
    expect(page.status, page.html.slice(0, 500)).toBe(200);
    expect(page.html).toContain('<button type="submit">Sign in</button>');
    signInShown = true;
    page = await browser.submit(page, credentials, { stopAt });
  }
  expect(stopAt(page.url), `${page.url} ${page.status} ${page.html.slice(0, 500)}`).toBe(true);
  return { callback: page.url, verifier, state, nonce, signInShown };
}

/** Exchanges the code of `a` (checking state and nonce), with `extra` token request parameters. */
export function redeem(
  config: oidc.Configuration,
  a: { callback: URL; verifier: string; state: string; nonce: string },
  extra?: Record<string, string>,
) {
  return oidc.authorizationCodeGrant(
    config,
    a.callback,
    { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce },
    extra,
  );
}

/** A PKCE verifier and its S256 challenge, for hand-built authorization requests. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** A hand-built authorization request (code, PKCE S256, scope `openid`) of `slug` on `baseUrl`. */
export function authUrl(baseUrl: string, slug: string, clientId: string, redirectUri: string): string {
  return `${baseUrl}/t/${slug}/auth?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
  })}`;
}

/** The `Authorization` header value for HTTP Basic client authentication (RFC 6749 2.3.1). */
export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export interface OAuthResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: OAuth JSON bodies, asserted field by field
  body: any;
}

async function formPost(url: string, form: Record<string, string>, client?: ClientCredentials) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client) headers.authorization = basicAuth(client.id, client.secret);
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  return { status: res.status, body: await res.json() } as OAuthResponse;
}

/** POST to a tenant's token endpoint, with HTTP Basic client authentication when `client` is given. */
export function tokenRequest(
  ts: { url: string },
  slug: string,
  form: Record<string, string>,
  client?: ClientCredentials,
): Promise<OAuthResponse> {
  return formPost(`${ts.url}/t/${slug}/token`, form, client);
}

/** The client credentials grant at a tenant's token endpoint, with `extra` parameters (resource, scope). */
export function clientCredentialsGrant(
  ts: { url: string },
  slug: string,
  client: ClientCredentials,
  extra: Record<string, string> = {},
): Promise<OAuthResponse> {
  return tokenRequest(ts, slug, { grant_type: 'client_credentials', ...extra }, client);
}

/** Token introspection at a tenant's endpoint, authenticated as `client`. */
export function introspection(
  ts: { url: string },
  slug: string,
  client: ClientCredentials,
  token: string,
): Promise<OAuthResponse> {
  return formPost(`${ts.url}/t/${slug}/token/introspection`, { token }, client);
}

/**
 * Signs in on the tenant's sign-in page in a fresh browser, for the first-party client of
 * `config` redirecting to `redirectUri`: whether the application got a code.
 */
export async function signsIn(
  config: oidc.Configuration,
  redirectUri: string,
  email: string,
  password: string,
): Promise<boolean> {
  const atApp = (u: URL) => u.href.startsWith(redirectUri);
  const browser = new Browser();
  const request = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: 'x'.repeat(43),
    code_challenge_method: 'S256',
  });
  const page = await browser.go(request, { stopAt: atApp });
  const after = await browser.submit(page, { email, password }, { stopAt: atApp });
  return atApp(after.url) && after.url.searchParams.has('code');
}
