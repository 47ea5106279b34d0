/**
 * For the account page (accounts/account-page.ts), expand-only:
 * - `users.sessions_kept_uid`: the one session a user kept when they signed out everywhere
 *   else (or changed their password there): beside `sessions_ended_at`, the sign-in before
 *   that time that still counts (see `findAccount`). A node of the version before reads no
 *   such column and ends that session too, which fails safe.
 * - an index of audit events by target, for a user's own recent security activity.
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('users').addColumn('sessions_kept_uid', 'text').execute();
  await db.schema
    .createIndex('audit_events_tenant_target_idx')
    .on('audit_events')
    .columns(['tenant_id', 'target_id', 'occurred_at'])
    .execute();
}
