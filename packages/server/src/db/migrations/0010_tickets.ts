/**
 * Invitation tickets (issue 11): ticket types per tenant (what a ticket grants and where it
 * leads), the roles each type grants (a join table, so that deleting a role or a type takes
 * its rows with it), and the tickets themselves: a foreign key (an email or any external id),
 * only the SHA-256 of the secret in the ticket's URL, and the times that make its state.
 *
 * At most one live ticket per foreign key and type is the data model's rule, not the code's:
 * `live_key` holds the foreign key while the ticket is live (not used, disabled or replaced)
 * and null after, and (type_id, live_key) is unique (nulls never collide, on both databases).
 * Two batches issuing the same keys at once cannot both insert one.
 *
 * All three tables are new: an older node never reads them (expand only).
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('ticket_types')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('allow_user_creation', 'integer', (c) => c.notNull())
    .addColumn('validity_hours', 'integer', (c) => c.notNull())
    .addColumn('post_use_url', 'text')
    .addColumn('post_invalid_url', 'text')
    .addColumn('welcome', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('ticket_types_tenant_name_key', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('ticket_type_roles')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('type_id', 'text', (c) => c.notNull().references('ticket_types.id').onDelete('cascade'))
    .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('ticket_type_roles_pkey', ['type_id', 'role_id'])
    .execute();
  // Deleting a role finds its rows here.
  await db.schema.createIndex('ticket_type_roles_role_idx').on('ticket_type_roles').columns(['role_id']).execute();

  await db.schema
    .createTable('tickets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('type_id', 'text', (c) => c.notNull().references('ticket_types.id').onDelete('cascade'))
    .addColumn('foreign_key', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('live_key', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('used_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('disabled_at', 'bigint')
    .addColumn('reissued_at', 'bigint')
    .addColumn('replaced_by', 'text')
    .addColumn('reissue_requested_at', 'bigint')
    .execute();
  await db.schema.createIndex('tickets_live_key_idx').on('tickets').columns(['type_id', 'live_key']).unique().execute();
  await db.schema
    .createIndex('tickets_type_status_idx')
    .on('tickets')
    .columns(['type_id', 'status', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('tickets_type_key_idx').on('tickets').columns(['type_id', 'foreign_key']).execute();
  await db.schema
    .createIndex('tickets_reissue_idx')
    .on('tickets')
    .columns(['tenant_id', 'reissue_requested_at', 'id'])
    .execute();
  // Deleting a user finds the tickets it used.
  await db.schema.createIndex('tickets_used_by_idx').on('tickets').columns(['used_by']).execute();
}
