/**
 * When a user's sessions were last ended (signed out everywhere: disabled, password set,
 * sessions deleted). A session or token from a sign-in before that is refused even if a
 * request that was under way when they were ended saved it back (see `findAccount`).
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('users').addColumn('sessions_ended_at', 'bigint').execute();
}
