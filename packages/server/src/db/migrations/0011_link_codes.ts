/**
 * A 6-digit code beside a verification link (issue 11), for a user who reads the message on
 * another device: only its HMAC under a key of the instance secret is stored (a SHA-256 of six
 * digits would be reversed at once), with the wrong guesses counted against the link, which
 * ends after a few. Expand only: new columns with defaults, which a node of the version before
 * never reads.
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('user_links').addColumn('code_hash', 'text').execute();
  await db.schema
    .alterTable('user_links')
    .addColumn('code_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex('user_links_email_idx')
    .on('user_links')
    .columns(['tenant_id', 'email', 'purpose'])
    .execute();
}
