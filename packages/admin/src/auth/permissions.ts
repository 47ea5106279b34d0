/**
 * What the signed-in admin may do, as far as the console can tell, so that screens hide actions
 * the API would refuse. It reads the `roles` claim of the access token (a JWT for the admin API;
 * the console does not verify it, the API does) and, for custom roles, their permissions, with
 * the server's own rule (`permissionsOf`). The API decides: this only tidies the screen.
 */
import {
  type Permission,
  permissionsOf,
  SYSTEM_ADMIN_ROLE,
  SYSTEM_TENANT_SLUG,
  TENANT_ADMIN_ROLE,
} from '../../../server/src/auth/permissions';
import type { ConsoleScope } from './scope';

function base64UrlDecode(text: string): Uint8Array {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The `roles` claim of a JWT access token, or null when the token is not a JWT carrying one. */
export function accessTokenRoles(token: string): string[] | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(new TextDecoder().decode(base64UrlDecode(payload)));
    const roles = (claims as { roles?: unknown } | null)?.roles;
    return Array.isArray(roles) && roles.every((r) => typeof r === 'string') ? roles : null;
  } catch {
    return null;
  }
}

export interface HeldRights {
  scope: ConsoleScope;
  /** The tenant of the screen. */
  slug: string;
  /** The admin's roles in the tenant it signed in to (`scope.authTenant`); null when unknown. */
  roles: readonly string[] | null;
  /** The roles of `scope.authTenant` with their permissions, once loaded (custom roles need them). */
  definitions?: readonly { name: string; permissions: readonly string[] }[];
}

/**
 * Whether the admin holds `permission` in tenant `slug`: true or false when the console can tell,
 * null when it cannot (no roles claim, or custom roles whose permissions it could not read).
 * The server's rule: a system admin may do everything everywhere; anyone else only in the tenant
 * it signed in to, with what its roles carry (`tenant:admin` carries everything there).
 */
export function holdsPermission(held: HeldRights, permission: Permission): boolean | null {
  const { scope, slug, roles, definitions } = held;
  if (roles === null) return null;
  if (scope.authTenant === SYSTEM_TENANT_SLUG && roles.includes(SYSTEM_ADMIN_ROLE)) return true;
  if (slug !== scope.authTenant) return false;
  if (roles.includes(TENANT_ADMIN_ROLE)) return true;
  if (roles.length === 0) return false;
  if (!definitions) return null;
  const mine = definitions.filter((d) => roles.includes(d.name));
  return permissionsOf(mine).has(permission);
}

/** Whether the roles alone settle it (no role definitions needed). */
export function needsRoleDefinitions(held: Omit<HeldRights, 'definitions'>, permission: Permission): boolean {
  return holdsPermission(held, permission) === null && held.roles !== null;
}
