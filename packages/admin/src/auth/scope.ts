/**
 * Which console this is. `/admin/...` is the system console (signs in to the `system` tenant,
 * manages every tenant); `/admin/t/{slug}/...` is the console of tenant {slug} for its own
 * admins (signs in to that tenant, sees only it). Everything the auth flow needs (issuer,
 * redirect URIs, where to come back to) follows from the scope and config.json.
 */

/** Where the server mounts the console; the router's basename. */
export const CONSOLE_BASE = '/admin';
export const SYSTEM_TENANT = 'system';
export const CLIENT_ID = 'admin-console';
export const SCOPE = 'openid profile email offline_access';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$/;

export interface ConsoleScope {
  kind: 'system' | 'tenant';
  /** The tenant the admin signs in to: `system`, or the tenant console's slug. */
  authTenant: string;
  /** Router path prefix of the console: '' for the system console, `/t/{slug}` for a tenant console. */
  prefix: string;
}

export const systemScope: ConsoleScope = { kind: 'system', authTenant: SYSTEM_TENANT, prefix: '' };

export function isSlug(value: string): boolean {
  return SLUG.test(value);
}

/** The scope of a browser pathname (with the /admin base). */
export function scopeFromPathname(pathname: string): ConsoleScope {
  const m = pathname.match(/^\/admin\/t\/([^/]+)(?:\/|$)/);
  const slug = m?.[1] ? safeDecode(m[1]) : null;
  if (slug && isSlug(slug) && slug !== SYSTEM_TENANT) return { kind: 'tenant', authTenant: slug, prefix: `/t/${slug}` };
  return systemScope;
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

export interface ConsoleConfig {
  publicUrl: string;
  adminApi: string;
}

export function issuerUrl(config: ConsoleConfig, scope: ConsoleScope): URL {
  return new URL(`${config.publicUrl}/t/${scope.authTenant}`);
}
export function redirectUri(config: ConsoleConfig, scope: ConsoleScope): string {
  return `${config.publicUrl}${CONSOLE_BASE}${scope.prefix}/callback`;
}
export function postLogoutRedirectUri(config: ConsoleConfig, scope: ConsoleScope): string {
  return `${config.publicUrl}${CONSOLE_BASE}${scope.prefix}/`;
}

/** The console's home as a router path: '/' or '/t/{slug}'. */
export function homePath(scope: ConsoleScope): string {
  return scope.prefix || '/';
}

/**
 * Where to go after sign-in: a router path inside this console (no scheme, no host, no `//`,
 * not the callback itself); anything else becomes the console's home. The value travels through
 * sessionStorage only, but an open redirect is cheap to rule out.
 */
export function safeReturnTo(raw: string | null | undefined, scope: ConsoleScope): string {
  const home = homePath(scope);
  if (!raw?.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return home;
  let url: URL;
  try {
    url = new URL(raw, 'http://console.invalid');
  } catch {
    return home;
  }
  if (url.origin !== 'http://console.invalid') return home;
  const path = url.pathname;
  const inScope =
    scope.kind === 'tenant' ? path === scope.prefix || path.startsWith(`${scope.prefix}/`) : !/^\/t(?:\/|$)/.test(path);
  if (!inScope) return home;
  if (path === `${scope.prefix}/callback`) return home;
  return `${path}${url.search}${url.hash}`;
}

/** The router path (without /admin) of a browser location, to come back to after sign-in. */
export function routerPathOf(location: { pathname: string; search: string; hash: string }): string {
  const path = location.pathname.startsWith(CONSOLE_BASE)
    ? location.pathname.slice(CONSOLE_BASE.length) || '/'
    : location.pathname;
  return `${path}${location.search}${location.hash}`;
}
