/**
 * The email outbox (issue 11): each message a tenant's flows send, written in the same
 * transaction as what caused it and delivered by the sender (email/outbox.ts), which retries
 * with backoff. Its content (which may hold a secret link) is sealed with the instance secret
 * and erased once the message is sent or has failed; the rest (recipient, template, status,
 * attempts, last error, times) stays for the Emails list until `EMAIL_RETENTION_DAYS`.
 *
 * And the links a user is sent (password reset, email verification): only the SHA-256 of
 * each link's secret, bound to the tenant, the user, the purpose and the address, single use,
 * expiring. Both tables are new: an older node never reads them (expand only).
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('emails')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('sealed_content', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('emails_tenant_time_idx')
    .on('emails')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('emails_due_idx').on('emails').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('emails_created_idx').on('emails').columns(['created_at']).execute();

  await db.schema
    .createTable('user_links')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('user_links_user_idx')
    .on('user_links')
    .columns(['tenant_id', 'user_id', 'purpose'])
    .execute();
  await db.schema.createIndex('user_links_expiry_idx').on('user_links').columns(['expires_at']).execute();
}
