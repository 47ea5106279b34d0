/**
 * Federation's other provider kinds (issue 13): `github`, `facebook`, `apple` and `latchkey`
 * need a few settings of their own beside the OpenID Connect columns of 0014, kept as two
 * nullable columns of `identity_providers` so that a further kind adds no migration:
 * - `kind_settings`: JSON, what is not secret (GitHub Enterprise's endpoints, the tenant a
 *   `latchkey` provider signs in through);
 * - `kind_secrets_sealed`: JSON sealed with the instance secret like `client_secret_sealed`
 *   (Apple's team id, key id and .p8 private key).
 *
 * Both columns are new and nullable: an older node neither reads nor needs them (expand only).
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('identity_providers').addColumn('kind_settings', 'text').execute();
  await db.schema.alterTable('identity_providers').addColumn('kind_secrets_sealed', 'text').execute();
}
