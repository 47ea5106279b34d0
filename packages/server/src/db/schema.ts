/**
 * Kysely table types. Times are epoch milliseconds (bigint in PostgreSQL, integer in
 * SQLite); booleans are 0/1 integers and JSON is text, so that both dialects (and
 * PostgreSQL-compatible distributed databases) read the same rows the same way.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface TenantsTable {
  id: string;
  slug: string;
  display_name: string;
  /** JSON: TenantSettings */
  settings: string;
  version: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  /** Normalised: trimmed, NFKC, lower case. Unique per tenant. */
  email: string;
  email_verified: number;
  display_name: string | null;
  /** Lower-cased display name ('' when none), for prefix search and sorting. */
  name_sort: string;
  status: 'active' | 'disabled';
  /** JSON object. */
  attributes: string;
  password_hash: string | null;
  password_changed_at: number | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  version: Generated<number>;
}

export interface RolesTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  /** JSON array of permission names. */
  permissions: string;
  builtin: number;
  created_at: number;
}

export interface UserRolesTable {
  tenant_id: string;
  user_id: string;
  role_id: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  /** SHA-256 (hex) of the whole secret. */
  secret_hash: string;
  /** The first characters of the secret, to recognise it in lists. */
  secret_prefix: string;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  created_at: number;
}

export interface ApiKeyRolesTable {
  tenant_id: string;
  api_key_id: string;
  role_id: string;
}

export interface AuditEventsTable {
  id: string;
  tenant_id: string;
  occurred_at: number;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  outcome: 'success' | 'failure';
  request_id: string | null;
  /** JSON object or null. */
  details: string | null;
}

export interface DB {
  tenants: TenantsTable;
  users: UsersTable;
  roles: RolesTable;
  user_roles: UserRolesTable;
  api_keys: ApiKeysTable;
  api_key_roles: ApiKeyRolesTable;
  audit_events: AuditEventsTable;
}

export type TenantRow = Selectable<TenantsTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type RoleRow = Selectable<RolesTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type { ColumnType };
