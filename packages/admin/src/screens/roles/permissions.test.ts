import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../api/types';
import {
  accessLevel,
  normalizePermissions,
  PERMISSION_GROUPS,
  permissionsForLevel,
  setPermission,
  summarizePermissions,
  validateRoleName,
} from './permissions';

const group = (resource: string) => {
  const g = PERMISSION_GROUPS.find((x) => x.resource === resource);
  if (!g) throw new Error(`no group ${resource}`);
  return g;
};

describe('permission groups', () => {
  it('cover every permission of the API exactly once', () => {
    const listed = PERMISSION_GROUPS.flatMap((g) => (g.write ? [g.read, g.write] : [g.read]));
    expect([...listed].sort()).toEqual([...PERMISSIONS].sort());
    expect(new Set(listed).size).toBe(listed.length);
  });
});

describe('normalizePermissions', () => {
  it('drops unknown and repeated entries and keeps the canonical order', () => {
    expect(normalizePermissions(['users:write', 'bogus', 'tenant:read', 'users:write', 'system:admin'])).toEqual([
      'tenant:read',
      'users:write',
    ]);
  });
});

describe('setPermission', () => {
  it('checks read along with write', () => {
    expect(setPermission([], 'users:write', true)).toEqual(['users:read', 'users:write']);
  });
  it('unchecks write along with read', () => {
    expect(setPermission(['users:read', 'users:write', 'audit:read'], 'users:read', false)).toEqual(['audit:read']);
  });
  it('unchecks write alone and keeps read', () => {
    expect(setPermission(['roles:read', 'roles:write'], 'roles:write', false)).toEqual(['roles:read']);
  });
  it('handles a resource without a write level', () => {
    expect(setPermission(['audit:read'], 'audit:read', false)).toEqual([]);
    expect(setPermission([], 'audit:read', true)).toEqual(['audit:read']);
  });
  it('never returns a permission the API does not know', () => {
    expect(setPermission(['nope', 'keys:read'], 'keys:write', true)).toEqual(['keys:read', 'keys:write']);
  });
});

describe('accessLevel and shortcuts', () => {
  it('reads the level per resource', () => {
    expect(accessLevel(['users:read', 'users:write'], group('users'))).toBe('write');
    expect(accessLevel(['users:read'], group('users'))).toBe('read');
    expect(accessLevel(['users:write'], group('users'))).toBe('write');
    expect(accessLevel([], group('audit'))).toBe('none');
  });
  it('sets every resource to a level', () => {
    expect(permissionsForLevel('write')).toEqual([...PERMISSIONS]);
    expect(permissionsForLevel('read').every((p) => p.endsWith(':read'))).toBe(true);
    // Every group but the password hashes, which a "read only" role never exports.
    expect(permissionsForLevel('read')).toHaveLength(PERMISSION_GROUPS.length - 1);
    expect(permissionsForLevel('read')).not.toContain('users:export_hashes');
    expect(permissionsForLevel('none')).toEqual([]);
  });
});

describe('summarizePermissions', () => {
  it('names the common cases', () => {
    expect(summarizePermissions([])).toBe('No admin access');
    expect(summarizePermissions([...PERMISSIONS])).toBe('Full access');
    expect(summarizePermissions(permissionsForLevel('read'))).toBe('Read only (everything)');
  });
  it('lists resources with their level otherwise', () => {
    expect(summarizePermissions(['users:read', 'users:write', 'audit:read'])).toBe('Users: write · Audit log: read');
  });
});

describe('validateRoleName', () => {
  it('accepts the names the server accepts', () => {
    expect(validateRoleName('support')).toBeNull();
    expect(validateRoleName('billing.read-only_2')).toBeNull();
    expect(validateRoleName('org:admin')).toBeNull();
  });
  it('refuses what the server refuses', () => {
    expect(validateRoleName('')).toMatch(/name/);
    expect(validateRoleName('-lead')).toMatch(/starting/);
    expect(validateRoleName('has space')).toMatch(/Letters/);
    expect(validateRoleName('tenant:helper')).toMatch(/reserved/);
    expect(validateRoleName('system:ops')).toMatch(/reserved/);
    expect(validateRoleName('x'.repeat(101))).toMatch(/100/);
  });
});
