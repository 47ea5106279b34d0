/**
 * Self-registrations waiting for their email's verification link (issue 11). Such an account
 * is stored `disabled` with this flag set, and shown as `pending`: a node of the version
 * before, which knows only `active` and `disabled`, reads it as a disabled account (it cannot
 * sign in, and lists and serialises it without error). Expand only: a new column with a default.
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('pending_verification', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
