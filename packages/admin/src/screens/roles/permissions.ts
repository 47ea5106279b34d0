/**
 * The admin API permissions a role can carry, as the console shows them: one row per resource
 * with a read and a write level. Checking "write" also checks "read" (a write-only role could
 * change what it cannot list), and unchecking "read" unchecks "write".
 */
import { PERMISSIONS, type Permission } from '../../api/types';

export interface PermissionGroup {
  /** The part before the colon: `users` in `users:read`. */
  resource: string;
  label: string;
  description: string;
  read: Permission;
  /** Null where there is nothing to write (the audit log). */
  write: Permission | null;
  /** Left out of the "read only" shortcut: reading it hands out secrets (password hashes). */
  sensitive?: boolean;
}

export const PERMISSION_GROUPS: readonly PermissionGroup[] = [
  {
    resource: 'tenant',
    label: 'Tenant settings',
    description: 'Display name, sign-in policy, lifetimes, branding',
    read: 'tenant:read',
    write: 'tenant:write',
  },
  {
    resource: 'users',
    label: 'Users',
    description: 'Accounts, passwords, sessions',
    read: 'users:read',
    write: 'users:write',
  },
  {
    resource: 'users_hashes',
    label: 'Password hashes',
    description: 'Exporting users with their password hashes (moving them to another system)',
    read: 'users:export_hashes',
    write: null,
    sensitive: true,
  },
  {
    resource: 'roles',
    label: 'Roles',
    description: 'Roles, and granting them to users',
    read: 'roles:read',
    write: 'roles:write',
  },
  {
    resource: 'clients',
    label: 'Applications',
    description: 'OAuth clients and their secrets',
    read: 'clients:read',
    write: 'clients:write',
  },
  {
    resource: 'apis',
    label: 'APIs',
    description: 'Resource servers and their scopes',
    read: 'apis:read',
    write: 'apis:write',
  },
  {
    resource: 'api_keys',
    label: 'API keys',
    description: 'Keys for the admin API',
    read: 'api_keys:read',
    write: 'api_keys:write',
  },
  {
    resource: 'keys',
    label: 'Signing keys',
    description: 'Token signing keys and their rotation',
    read: 'keys:read',
    write: 'keys:write',
  },
  { resource: 'audit', label: 'Audit log', description: 'Who did what, when', read: 'audit:read', write: null },
  {
    resource: 'emails',
    label: 'Emails',
    description: 'Messages sent and their delivery',
    read: 'emails:read',
    write: null,
  },
  {
    resource: 'tickets',
    label: 'Invitation tickets',
    description: 'Ticket types, issuing and disabling tickets, the reissue queue',
    read: 'tickets:read',
    write: 'tickets:write',
  },
  {
    resource: 'identity_providers',
    label: 'Identity providers',
    description: 'Upstream sign-in providers, their secrets and role mappings',
    read: 'identity_providers:read',
    write: 'identity_providers:write',
  },
];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/** Known permissions only, each once, in the canonical order (the order of the permission list). */
export function normalizePermissions(list: readonly string[]): Permission[] {
  const set = new Set(list);
  return PERMISSIONS.filter((p) => set.has(p));
}

/** The permissions after checking (`on`) or unchecking one: write implies read. */
export function setPermission(current: readonly string[], permission: Permission, on: boolean): Permission[] {
  const next = new Set(normalizePermissions(current));
  const group = PERMISSION_GROUPS.find((g) => g.read === permission || g.write === permission);
  if (on) {
    next.add(permission);
    if (group && group.write === permission) next.add(group.read);
  } else {
    next.delete(permission);
    if (group && group.read === permission && group.write) next.delete(group.write);
  }
  return normalizePermissions([...next]);
}

export type AccessLevel = 'none' | 'read' | 'write';

/** What a set of permissions allows on one resource. */
export function accessLevel(permissions: readonly string[], group: PermissionGroup): AccessLevel {
  if (group.write && permissions.includes(group.write)) return 'write';
  return permissions.includes(group.read) ? 'read' : 'none';
}

/** Sets every resource to one level at once (the "read only" and "everything" shortcuts). */
export function permissionsForLevel(level: AccessLevel): Permission[] {
  if (level === 'none') return [];
  return normalizePermissions(
    PERMISSION_GROUPS.flatMap((g) => {
      if (level === 'write') return g.write ? [g.read, g.write] : [g.read];
      return g.sensitive ? [] : [g.read];
    }),
  );
}

/** One line for a list: "Full access", "Read only (all)", "Users: write · Audit log: read", "No admin access". */
export function summarizePermissions(permissions: readonly string[]): string {
  const known = normalizePermissions(permissions);
  if (known.length === 0) return 'No admin access';
  if (known.length === PERMISSIONS.length) return 'Full access';
  const levels = PERMISSION_GROUPS.map((g) => [g, accessLevel(known, g)] as const);
  if (levels.every(([g, l]) => l === 'read' || (g.sensitive && l === 'none'))) return 'Read only (everything)';
  return levels
    .filter(([, l]) => l !== 'none')
    .map(([g, l]) => `${g.label}: ${l}`)
    .join(' · ');
}

export const ROLE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]*$/;

/** The server's rules for a new role's name, said before sending. */
export function validateRoleName(raw: string): string | null {
  const name = raw.trim();
  if (!name) return 'Give the role a name';
  if (name.length > 100) return 'At most 100 characters';
  if (!ROLE_NAME_PATTERN.test(name)) return 'Letters, digits and : . _ - only, starting with a letter or digit';
  if (/^(system|tenant):/.test(name)) return 'Names starting with system: or tenant: are reserved for built-in roles';
  return null;
}
