/**
 * Federation (issue 13, "Identity providers per tenant"): a tenant's upstream identity
 * providers, the email domains that route to each (home-realm discovery), and users'
 * identities, each a (provider, upstream subject) pair beside the password.
 *
 * A provider's client secret and private key are sealed with the instance secret (SecretBox,
 * as signing keys are): nothing here redeems them without it. A domain routes to at most one
 * provider of a tenant: (tenant_id, domain) is the key of `identity_provider_domains`, so two
 * providers saved at once cannot both claim one. An upstream subject is one user's:
 * (provider_id, subject) is unique.
 *
 * All three tables are new: an older node never reads them (expand only).
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('identity_providers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('button_text', 'text')
    .addColumn('icon_url', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_secret_sealed', 'text')
    .addColumn('private_key_sealed', 'text')
    .addColumn('token_endpoint_auth_method', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('allow_sign_up', 'integer', (c) => c.notNull())
    .addColumn('allow_link', 'integer', (c) => c.notNull())
    .addColumn('allow_unlink', 'integer', (c) => c.notNull())
    .addColumn('trust_emails', 'integer', (c) => c.notNull())
    .addColumn('domains', 'text', (c) => c.notNull())
    .addColumn('claims', 'text', (c) => c.notNull())
    .addColumn('role_mappings', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('identity_providers_tenant_slug_key', ['tenant_id', 'slug'])
    .execute();

  await db.schema
    .createTable('identity_provider_domains')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('provider_id', 'text', (c) => c.notNull().references('identity_providers.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('identity_provider_domains_pkey', ['tenant_id', 'domain'])
    .execute();
  // Deleting a provider finds its domains here.
  await db.schema
    .createIndex('identity_provider_domains_provider_idx')
    .on('identity_provider_domains')
    .columns(['provider_id'])
    .execute();

  await db.schema
    .createTable('user_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('provider_id', 'text', (c) => c.notNull().references('identity_providers.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_sign_in_at', 'bigint')
    .addUniqueConstraint('user_identities_provider_subject_key', ['provider_id', 'subject'])
    .execute();
  await db.schema
    .createIndex('user_identities_user_idx')
    .on('user_identities')
    .columns(['user_id', 'created_at'])
    .execute();
}
