/**
 * SAML identity providers (issue 13, kind `saml`): what a provider row needs beside the OpenID
 * Connect columns, and the AuthnRequests that are waiting for their answer.
 * - `identity_providers.saml_idp`: JSON of the IdP as its metadata says (entity id, SSO URL,
 *   signing certificates) and where the metadata came from; null for other kinds.
 * - `identity_providers.saml_email_verified`: whether the IdP's emails count as verified
 *   (SAML carries no such flag); null for other kinds.
 * - `identity_providers.sp_credentials_sealed`: the service provider's RSA key and self-signed
 *   certificate for this provider, sealed with the instance secret (SecretBox) as signing keys are.
 * - `saml_requests`: one row per AuthnRequest sent, consumed once by the Response that answers
 *   it (`UPDATE … WHERE consumed_at IS NULL`), so a Response posted twice signs in once.
 *
 * Expand only: nullable columns and a new table, which a node of the version before never reads.
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('identity_providers').addColumn('saml_idp', 'text').execute();
  await db.schema.alterTable('identity_providers').addColumn('saml_email_verified', 'integer').execute();
  await db.schema.alterTable('identity_providers').addColumn('sp_credentials_sealed', 'text').execute();

  await db.schema
    .createTable('saml_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('provider_id', 'text', (c) => c.notNull().references('identity_providers.id').onDelete('cascade'))
    .addColumn('uid', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  // The sweep of expired requests, and a provider's deletion.
  await db.schema.createIndex('saml_requests_expires_idx').on('saml_requests').columns(['expires_at']).execute();
  await db.schema.createIndex('saml_requests_provider_idx').on('saml_requests').columns(['provider_id']).execute();
}
