import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import * as m0001 from './migrations/0001_core.js';
import * as m0002 from './migrations/0002_oidc.js';
import * as m0003 from './migrations/0003_user_search_index.js';
import * as m0004 from './migrations/0004_sessions_ended_at.js';
import * as m0005 from './migrations/0005_role_api_permissions.js';
import * as m0006 from './migrations/0006_oidc_payload_values.js';
import * as m0007 from './migrations/0007_audit_retention_index.js';
import * as m0008 from './migrations/0008_email_outbox.js';
import * as m0009 from './migrations/0009_pending_registrations.js';
import * as m0010 from './migrations/0010_tickets.js';
import * as m0011 from './migrations/0011_link_codes.js';
import * as m0012 from './migrations/0012_account_page.js';
import * as m0013 from './migrations/0013_user_imports.js';
import * as m0014 from './migrations/0014_federation.js';
import * as m0015 from './migrations/0015_federation_kinds.js';
import * as m0016 from './migrations/0016_saml.js';

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres';
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then, not today's types
type AnyDb = Kysely<any>;

type MigrationModule = { up: (db: AnyDb, ctx: MigrationContext) => Promise<void> };

/** Numbered and immutable: add a file, never edit a released one. */
const migrations: Record<string, MigrationModule> = {
  '0001_core': m0001,
  '0002_oidc': m0002,
  '0003_user_search_index': m0003,
  '0004_sessions_ended_at': m0004,
  '0005_role_api_permissions': m0005,
  '0006_oidc_payload_values': m0006,
  '0007_audit_retention_index': m0007,
  '0008_email_outbox': m0008,
  '0009_pending_registrations': m0009,
  '0010_tickets': m0010,
  '0011_link_codes': m0011,
  '0012_account_page': m0012,
  '0013_user_imports': m0013,
  '0014_federation': m0014,
  '0015_federation_kinds': m0015,
  '0016_saml': m0016,
};

class InCodeMigrations implements MigrationProvider {
  constructor(private readonly ctx: MigrationContext) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, mod] of Object.entries(migrations)) {
      out[name] = { up: (db) => mod.up(db, this.ctx) };
    }
    return out;
  }
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Applies every pending migration. Safe when several processes start at once: Kysely holds
 * a lock (an advisory lock on PostgreSQL) while it migrates. On SQLite Kysely takes no lock
 * and no transaction, so the whole run is one `begin immediate` transaction (the SQLite
 * driver has a single connection): a second process waits, then finds nothing to do, and a
 * failed migration leaves nothing half-applied.
 */
export async function migrateToLatest(db: AnyDb, ctx: MigrationContext): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrations(ctx),
    migrationTableName: 'latchkey_migrations',
    migrationLockTableName: 'latchkey_migrations_lock',
  });
  const sqlite = ctx.dialect === 'sqlite';
  if (sqlite) await sql`begin immediate`.execute(db);
  let outcome: Awaited<ReturnType<Migrator['migrateToLatest']>>;
  try {
    outcome = await migrator.migrateToLatest();
  } catch (err) {
    if (sqlite) await sql`rollback`.execute(db);
    throw err;
  }
  const { error, results } = outcome;
  if (sqlite) await (error ? sql`rollback` : sql`commit`).execute(db);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new MigrationError(
      `migration ${failed?.migrationName ?? '?'} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
