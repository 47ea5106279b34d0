/**
 * The role form's values (what a role carries besides its name), made of a role, checked, and
 * turned into the body of a create or of a PATCH that sends only what changed.
 */
import type { ApiPermission, Permission, Role, RolePatch } from '../../api/types';
import type { FieldErrorOptions } from '../../components/fieldErrors';
import { normalizeApiPermissions } from './apiPermissions';
import { normalizePermissions } from './permissions';

export interface RoleFormValues {
  description: string;
  permissions: Permission[];
  apiPermissions: ApiPermission[];
}

export const emptyRoleForm = (): RoleFormValues => ({ description: '', permissions: [], apiPermissions: [] });

export function roleToForm(role: Role): RoleFormValues {
  return {
    description: role.description,
    permissions: normalizePermissions(role.permissions),
    apiPermissions: normalizeApiPermissions(role.apiPermissions),
  };
}

export function validateDescription(value: string): string | null {
  return value.trim().length > 500 ? 'At most 500 characters' : null;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The PATCH body: only the fields that differ from what was loaded. */
export function rolePatchBody(initial: RoleFormValues, values: RoleFormValues): RolePatch {
  const body: RolePatch = {};
  if (values.description.trim() !== initial.description.trim()) body.description = values.description.trim();
  if (!same(normalizePermissions(values.permissions), normalizePermissions(initial.permissions))) {
    body.permissions = normalizePermissions(values.permissions);
  }
  const api = normalizeApiPermissions(values.apiPermissions);
  if (!same(api, normalizeApiPermissions(initial.apiPermissions))) body.apiPermissions = api;
  return body;
}

/** Where the API's problems go: unknown APIs and scopes beside the API permissions. */
export const roleErrorOptions: FieldErrorOptions = {
  fields: ['name', 'description', 'permissions', 'apiPermissions'],
  codes: { role_exists: 'name', unknown_api: 'apiPermissions', unknown_scope: 'apiPermissions' },
};
