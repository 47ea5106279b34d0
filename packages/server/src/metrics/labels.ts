/**
 * The label values of metrics.ts, each from a fixed set: whatever a request sends (a method,
 * a path, a `grant_type`, an error) is mapped onto one of them, so that no caller can add a
 * series. Route labels are templates, never the path asked for.
 */

/** Label of every request no route matched (Fastify's 404 handler, a path no provider serves). */
export const UNMATCHED = 'unmatched';

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof methods)[number] | 'OTHER';
const knownMethods: ReadonlySet<string> = new Set(methods);

/** The request's method, or `OTHER` (Node parses some thirty more). */
export function methodOf(method: string | undefined): HttpMethod {
  return method !== undefined && knownMethods.has(method) ? (method as HttpMethod) : 'OTHER';
}

/**
 * The routes of a tenant's provider (oidc-provider's defaults for the features enabled in
 * oidc/provider.ts), below /t/:slug, as served before Fastify (oidc/routes.ts).
 */
const providerRoutes: ReadonlySet<string> = new Set([
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
  '/auth',
  '/token',
  '/token/introspection',
  '/token/revocation',
  '/me',
  '/jwks',
  '/request',
  '/session/end',
  '/session/end/confirm',
  '/session/end/success',
]);

/** Provider route templates by path, made once: the label of a request is then a lookup. */
const providerTemplates = new Map([...providerRoutes].map((path) => [path, `/t/:slug${path}`]));
const RESUME = '/t/:slug/auth/:uid';

/**
 * The route template of a request to a tenant's provider (a URL that `providerSlugOf` took):
 * `/t/acme/token?x=1` → `/t/:slug/token`, `/t/acme/auth/abc` → `/t/:slug/auth/:uid`, any
 * other path `unmatched`.
 */
export function providerRouteOf(url: string): string {
  let start = 3;
  while (start < url.length && url[start] !== '/' && url[start] !== '?') start++;
  const query = url.indexOf('?', start);
  const path = query < 0 ? url.slice(start) : url.slice(start, query);
  const known = providerTemplates.get(path);
  if (known) return known;
  if (path.startsWith('/auth/') && path.length > 6 && path.indexOf('/', 6) < 0) return RESUME;
  return UNMATCHED;
}

/** The grant types oidc-provider is configured with (oidc/provider.ts); any other is `other`. */
const grantTypes: ReadonlySet<string> = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

export function grantTypeOf(value: unknown): string {
  return typeof value === 'string' && grantTypes.has(value) ? value : 'other';
}

/** OAuth error codes a token request may end with (RFC 6749 5.2, RFC 8707, RFC 9449); any other is `other_error`. */
const grantErrors: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'server_error',
]);

/** `success` without an error, else its OAuth code (`error` of oidc-provider's errors) from the set above. */
export function grantOutcomeOf(error: unknown): string {
  if (error === undefined) return 'success';
  const code = typeof error === 'object' && error !== null ? (error as { error?: unknown }).error : undefined;
  return typeof code === 'string' && grantErrors.has(code) ? code : 'other_error';
}

/**
 * The sign-in form's outcomes. `failed` is a wrong password, an unknown or disabled account
 * alike (the page does not tell them apart, and neither do the metrics); `locked` an account
 * or address locked; `busy` refused before any check, too many attempts waiting for a hash;
 * `unverified` the right password for an account whose email must be verified first;
 * `rejected` a form that could not be taken (its CSRF token or interaction expired).
 */
export type SignInOutcome = 'success' | 'failed' | 'locked' | 'busy' | 'unverified' | 'rejected';

/**
 * A federated sign-in's outcomes, by the provider's kind (oidc, google… saml: a bounded set,
 * never a tenant's slug): `success` signed in; `denied` the user said no upstream; `failed` the
 * upstream's answer failed a check (state, PKCE, an ID token's or a SAML Response's signature,
 * audience, time, a replay); `expired` no flow of this browser's (too late, or another
 * browser's answer); `unavailable` the upstream could not be reached; `refused` the account
 * may not sign in (disabled).
 */
export type FederatedSignInOutcome = 'success' | 'denied' | 'failed' | 'expired' | 'unavailable' | 'refused';

/** What a lockout locked: an account (or an email without one), or a client address. */
export type LockoutSubject = 'account' | 'address';

export type DbOperation = 'select' | 'insert' | 'update' | 'delete' | 'transaction' | 'other';

/** A statement's operation from its SQL text's first word (Kysely and our raw SQL write it in lower case). */
export function operationOf(sql: string): DbOperation {
  if (sql.startsWith('select')) return 'select';
  if (sql.startsWith('insert')) return 'insert';
  if (sql.startsWith('update')) return 'update';
  if (sql.startsWith('delete')) return 'delete';
  if (sql.startsWith('begin') || sql.startsWith('commit') || sql.startsWith('rollback')) return 'transaction';
  return 'other';
}
