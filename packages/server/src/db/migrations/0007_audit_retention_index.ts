/**
 * Audit events by time alone, for the retention purge (`AUDIT_RETENTION_DAYS`): it deletes
 * the oldest rows of every tenant at once, which the tenant-led indexes cannot find without
 * reading them all.
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.createIndex('audit_events_occurred_at_idx').on('audit_events').columns(['occurred_at']).execute();
}
