/**
 * The one rule for handing out rights: a caller may create or change a credential only when
 * everything the credential could yield (its reach) is within what the caller holds. Every
 * route that makes or changes a credential (API keys, client secrets and settings, users'
 * passwords and emails, role grants, a role's permissions, identity providers) builds the
 * reach and calls `assertMayGrant` before any expensive work. docs/authorization.md states
 * the rule.
 */
import { forbidden } from '../http/errors.js';
import {
  type Permission,
  type Principal,
  permissionsOf,
  SYSTEM_ADMIN_ROLE,
  SYSTEM_TENANT_SLUG,
  TENANT_ADMIN_ROLE,
} from './permissions.js';

/** One scope of one of the tenant's own APIs, named by the API's identifier. */
export interface ApiPermission {
  api: string;
  scope: string;
}

/** A role as authorization sees it: admin-API permissions and API scopes. */
export interface RoleGrant {
  name: string;
  permissions: readonly string[];
  apiPermissions?: readonly ApiPermission[];
}

/** Everything a credential could yield in its tenant. */
export interface Reach {
  /** Admin-API permissions. */
  permissions: ReadonlySet<Permission>;
  /** Scopes of the tenant's own APIs, per API identifier. */
  apiScopes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Every right in the tenant: `tenant:admin`, or a first-party application (acts for anyone). */
  tenantWide: boolean;
  /** `system:admin`: every right in every tenant. */
  systemWide: boolean;
}

export const NO_REACH: Reach = { permissions: new Set(), apiScopes: new Map(), tenantWide: false, systemWide: false };
export const TENANT_WIDE: Reach = { ...NO_REACH, tenantWide: true };
const SYSTEM_WIDE: Reach = { ...NO_REACH, tenantWide: true, systemWide: true };

/**
 * What acting silently for any signed-in user of a tenant reaches (a first-party application):
 * everything in the tenant, and in the `system` tenant, whose admins hold `system:admin`,
 * everything everywhere.
 */
export function actingForAnyone(tenantSlug: string): Reach {
  return tenantSlug === SYSTEM_TENANT_SLUG ? SYSTEM_WIDE : TENANT_WIDE;
}

/** What a set of roles yields. The built-in roles yield everything in the tenant. */
export function reachOfRoles(roles: Iterable<RoleGrant>): Reach {
  const list = [...roles];
  const apiScopes = new Map<string, Set<string>>();
  for (const role of list) {
    for (const { api, scope } of role.apiPermissions ?? []) {
      const scopes = apiScopes.get(api) ?? new Set<string>();
      scopes.add(scope);
      apiScopes.set(api, scopes);
    }
  }
  const systemWide = list.some((r) => r.name === SYSTEM_ADMIN_ROLE);
  return {
    permissions: permissionsOf(list),
    apiScopes,
    tenantWide: systemWide || list.some((r) => r.name === TENANT_ADMIN_ROLE),
    systemWide,
  };
}

/** The union of several reaches (a role before and after a change, say). */
export function unionOf(...reaches: Reach[]): Reach {
  const apiScopes = new Map<string, Set<string>>();
  for (const r of reaches) {
    for (const [api, scopes] of r.apiScopes) apiScopes.set(api, new Set([...(apiScopes.get(api) ?? []), ...scopes]));
  }
  return {
    permissions: new Set(reaches.flatMap((r) => [...r.permissions])),
    apiScopes,
    tenantWide: reaches.some((r) => r.tenantWide),
    systemWide: reaches.some((r) => r.systemWide),
  };
}

/** The principal a credential with these roles in this tenant is. */
export function principalFrom(
  kind: Principal['kind'],
  id: string,
  tenant: { id: string; slug: string },
  roles: readonly RoleGrant[],
): Principal {
  const reach = reachOfRoles(roles);
  return {
    kind,
    id,
    tenantId: tenant.id,
    tenantSlug: tenant.slug,
    roles: roles.map((r) => r.name).sort(),
    permissions: reach.permissions,
    apiScopes: reach.apiScopes,
    tenantAdmin: reach.tenantWide,
    systemAdmin: tenant.slug === SYSTEM_TENANT_SLUG && reach.systemWide,
  };
}

/** What a reach holds that the principal does not, in tenant `tenantId`; null when nothing. */
export interface Shortfall {
  systemWide?: true;
  tenantWide?: true;
  permissions?: Permission[];
  apiPermissions?: ApiPermission[];
}

export function shortfall(principal: Principal, tenantId: string, reach: Reach): Shortfall | null {
  if (principal.systemAdmin) return null;
  const out: Shortfall = {};
  const foreign = principal.tenantId !== tenantId;
  if (reach.systemWide) out.systemWide = true;
  if (reach.tenantWide && (foreign || !principal.tenantAdmin)) out.tenantWide = true;
  if (foreign || !principal.tenantAdmin) {
    const permissions = [...reach.permissions].filter((p) => foreign || !principal.permissions.has(p)).sort();
    if (permissions.length > 0) out.permissions = permissions;
    const apiPermissions: ApiPermission[] = [];
    for (const [api, scopes] of reach.apiScopes) {
      const held = foreign ? undefined : principal.apiScopes.get(api);
      for (const scope of scopes) if (!held?.has(scope)) apiPermissions.push({ api, scope });
    }
    if (apiPermissions.length > 0) out.apiPermissions = apiPermissions;
  }
  return Object.keys(out).length > 0 ? out : null;
}

export function mayGrant(principal: Principal, tenantId: string, reach: Reach): boolean {
  return shortfall(principal, tenantId, reach) === null;
}

/** What a credential would hold: roles, and beyond them (a first-party flag) a reach. */
export interface Grant {
  roles?: readonly RoleGrant[];
  reach?: Reach;
}

/**
 * What an upstream identity provider could yield. `trustEmails` (linking to any user whose
 * email the provider says is verified) and `allowLink` let it sign in as the tenant's users,
 * so either reaches the whole tenant; each role its `roleMappings` name goes to whoever it
 * signs in.
 */
export function identityProviderGrant(
  provider: { trustEmails: boolean; allowLink: boolean },
  mappedRoles: readonly RoleGrant[],
): Grant {
  return { roles: mappedRoles, reach: provider.trustEmails || provider.allowLink ? TENANT_WIDE : NO_REACH };
}

/**
 * Throws 403 `forbidden` unless the principal holds everything the grant could yield in the
 * tenant. `what` names the act for the message ("Rotating this application's secret"). The
 * answer's details say what is `missing` and, when roles are handed out, which of them
 * (`roles`) carry more than the caller holds.
 */
export function assertMayGrant(principal: Principal, tenantId: string, what: string, grant: Grant): void {
  const roles = grant.roles ?? [];
  const reach = unionOf(grant.reach ?? NO_REACH, reachOfRoles(roles));
  const missing = shortfall(principal, tenantId, reach);
  if (!missing) return;
  const stronger = roles.filter((r) => !mayGrant(principal, tenantId, reachOfRoles([r]))).map((r) => r.name);
  throw forbidden(`${what} needs every right it would hand out, and the caller holds less`, {
    ...(grant.roles ? { roles: [...new Set(stronger)].sort() } : {}),
    missing,
  });
}
