/**
 * Covering indexes for the users search: each half (email prefix, display-name prefix) is
 * read from an index alone, already in (email, id) order for the email half, so a page of a
 * prefix search touches a few dozen index entries instead of every match's row.
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createIndex('users_tenant_name_email_idx')
    .on('users')
    .columns(['tenant_id', 'name_sort', 'email', 'id'])
    .execute();
  await db.schema.createIndex('users_tenant_email_id_idx').on('users').columns(['tenant_id', 'email', 'id']).execute();
}
