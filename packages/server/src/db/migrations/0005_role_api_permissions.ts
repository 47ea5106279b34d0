/**
 * Roles carry the scopes of the tenant's own APIs beside admin-API permissions (a JSON array
 * of `{ api, scope }`, the API by its identifier), and are edited in place: a version for
 * If-Match and the time of the last change. Old nodes keep working: the new columns have
 * defaults and nothing old reads them.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('roles')
    .addColumn('api_permissions', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema
    .alterTable('roles')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('roles').addColumn('updated_at', 'bigint').execute();
  await sql`update roles set updated_at = created_at`.execute(db);
}
