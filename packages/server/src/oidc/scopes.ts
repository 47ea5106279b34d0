/**
 * The OpenID Connect scopes every tenant's provider knows, and what an application's
 * `scopes` list lets it ask. The list names OpenID Connect scopes and scopes of the tenant's
 * own APIs. API scopes: only those listed (an empty list asks none). OpenID Connect scopes:
 * those listed, or all four when the list names none (they disclose only the signed-in
 * user's own profile, and only with consent). docs/authorization.md states it for users.
 */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export function isOidcScope(scope: string): boolean {
  return (OIDC_SCOPES as readonly string[]).includes(scope);
}

/** The OpenID Connect part of an application's scopes, for oidc-provider's `scope` metadata. */
export function oidcScopesOf(scopes: readonly string[]): string[] {
  return scopes.filter(isOidcScope);
}

/** The API scopes an application may ask of an API that defines `defined`. */
export function apiScopesOf(scopes: readonly string[], defined: readonly string[]): string[] {
  const allowed = new Set(scopes.filter((s) => !isOidcScope(s)));
  return defined.filter((s) => allowed.has(s));
}
