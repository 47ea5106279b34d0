/**
 * User imports (issue 13, "Moving users in"): a job per uploaded file of JSON lines, and its
 * lines, spooled as they arrive (already validated and normalised) until the background
 * worker (user-imports/worker.ts) has applied them. The job holds its progress (the next line
 * to apply, counts, the first failures by line number) and a lease, so that a node that dies
 * mid-import leaves the job to another node, or to itself after a restart, from where it was.
 * Both tables are new: an older node never reads them (expand only).
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('user_imports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('dry_run', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('lines_received', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_line', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('existing', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failures', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('locked_until', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('user_imports_tenant_time_idx')
    .on('user_imports')
    .columns(['tenant_id', 'created_at', 'id'])
    .execute();
  await db.schema.createIndex('user_imports_status_idx').on('user_imports').columns(['status']).execute();

  await db.schema
    .createTable('user_import_lines')
    .addColumn('import_id', 'text', (c) => c.notNull().references('user_imports.id').onDelete('cascade'))
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_import_lines_pk', ['import_id', 'line_no'])
    .execute();
}
