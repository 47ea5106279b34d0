/**
 * Tenants, users, roles, API keys and the audit log. Immutable once released: later
 * changes go in new numbered files.
 */
import { type ColumnDefinitionBuilder, type Kysely, sql } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, ctx: MigrationContext): Promise<void> {
  // Byte-order collation in PostgreSQL so that prefix ranges use the btree indexes and
  // sort the same as SQLite's BINARY collation.
  const bytewise = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    ctx.dialect === 'postgres' ? c.modifyEnd(sql`collate "C"`) : c;

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => bytewise(c.notNull()))
    .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('display_name', 'text')
    .addColumn('name_sort', 'text', (c) => bytewise(c.notNull()))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('password_changed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_login_at', 'bigint')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('users_tenant_email_key', ['tenant_id', 'email'])
    .execute();
  await db.schema.createIndex('users_tenant_name_idx').on('users').columns(['tenant_id', 'name_sort', 'id']).execute();
  await db.schema
    .createIndex('users_tenant_created_idx')
    .on('users')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('users_tenant_updated_idx')
    .on('users')
    .columns(['tenant_id', 'updated_at', 'id'])
    .execute();
  await db.schema
    .createIndex('users_tenant_last_login_idx')
    .on('users')
    .columns(['tenant_id', 'last_login_at', 'id'])
    .execute();

  await db.schema
    .createTable('roles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => bytewise(c.notNull()))
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('roles_tenant_name_key', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_roles_pkey', ['user_id', 'role_id'])
    .execute();
  await db.schema.createIndex('user_roles_role_idx').on('user_roles').columns(['role_id', 'user_id']).execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('secret_prefix', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('api_keys_tenant_idx')
    .on('api_keys')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('api_key_roles')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('api_key_id', 'text', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('api_key_roles_pkey', ['api_key_id', 'role_id'])
    .execute();
  await db.schema.createIndex('api_key_roles_role_idx').on('api_key_roles').columns(['role_id']).execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('details', 'text')
    .execute();
  await db.schema
    .createIndex('audit_events_tenant_time_idx')
    .on('audit_events')
    .columns(['tenant_id', 'occurred_at', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_events_tenant_action_idx')
    .on('audit_events')
    .columns(['tenant_id', 'action', 'occurred_at'])
    .execute();
  await db.schema
    .createIndex('audit_events_tenant_actor_idx')
    .on('audit_events')
    .columns(['tenant_id', 'actor_id', 'occurred_at'])
    .execute();
}
