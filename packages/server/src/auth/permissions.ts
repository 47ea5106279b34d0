/**
 * What a credential may do. Permissions are tenant-scoped; roles carry them. The two
 * built-in roles are special: `tenant:admin` holds every permission in its tenant, and
 * `system:admin` (only in the `system` tenant) holds every permission in every tenant plus
 * the global ones (create, list and delete tenants).
 */
export const SYSTEM_TENANT_SLUG = 'system';
export const SYSTEM_ADMIN_ROLE = 'system:admin';
export const TENANT_ADMIN_ROLE = 'tenant:admin';

export const tenantPermissions = [
  'tenant:read',
  'tenant:write',
  'users:read',
  'users:write',
  'users:export_hashes',
  'roles:read',
  'roles:write',
  'api_keys:read',
  'api_keys:write',
  'audit:read',
  'clients:read',
  'clients:write',
  'apis:read',
  'apis:write',
  'keys:read',
  'keys:write',
  'emails:read',
  'tickets:read',
  'tickets:write',
  'identity_providers:read',
  'identity_providers:write',
] as const;

export type Permission = (typeof tenantPermissions)[number];

export const builtinRoles = {
  [TENANT_ADMIN_ROLE]: {
    description: 'Manages everything in this tenant',
    permissions: [...tenantPermissions] as Permission[],
  },
  [SYSTEM_ADMIN_ROLE]: {
    description: 'Manages every tenant of this Latchkey',
    permissions: [...tenantPermissions] as Permission[],
  },
} as const;

/** Who is calling: the credential, its tenant, and what its roles let it do there. */
export interface Principal {
  kind: 'api_key' | 'user' | 'client';
  id: string;
  tenantId: string;
  tenantSlug: string;
  roles: readonly string[];
  permissions: ReadonlySet<Permission>;
  /** Scopes of its tenant's own APIs its roles grant, per API identifier. */
  apiScopes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Holds `tenant:admin` (or `system:admin`): every right in its tenant. */
  tenantAdmin: boolean;
  /** Holds `system:admin` in the `system` tenant: may do everything everywhere. */
  systemAdmin: boolean;
}

export function permissionsOf(roles: Iterable<{ name: string; permissions: readonly string[] }>): Set<Permission> {
  const out = new Set<Permission>();
  for (const role of roles) {
    const builtin = Object.hasOwn(builtinRoles, role.name)
      ? builtinRoles[role.name as keyof typeof builtinRoles]
      : undefined;
    for (const p of builtin?.permissions ?? role.permissions) {
      if ((tenantPermissions as readonly string[]).includes(p)) out.add(p as Permission);
    }
  }
  return out;
}

/** May this principal see tenant `tenantId` at all? (Otherwise it gets 404s there.) */
export function canSeeTenant(principal: Principal, tenantId: string): boolean {
  return principal.systemAdmin || principal.tenantId === tenantId;
}

export function can(principal: Principal, tenantId: string, permission: Permission): boolean {
  return principal.systemAdmin || (principal.tenantId === tenantId && principal.permissions.has(permission));
}
