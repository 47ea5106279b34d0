/**
 * User imports and exports (issue 13, "Moving users in"). An upload of JSON lines is read as
 * it streams (never buffered whole): each line is checked (lines.ts) and, valid, spooled in
 * the database in batches, each batch one transaction with the job's progress; a line that
 * breaks a rule is counted and kept by number with its reason. The upload is acknowledged
 * (202) once every line is durable, and a worker applies the spool in the background
 * (`ImportWorker`): each batch of users, their roles, the job's progress and the removal of
 * the applied lines commit together, so that a node killed mid-import loses nothing
 * acknowledged and the job goes on from where it was, on this node after a restart or on
 * another once the lease has passed. A user whose email (or kept id) exists already is left
 * as it is: running the same file again changes nothing, and an import never takes over an
 * account.
 *
 * Granting roles is granting rights: each role named in the file is checked with the one
 * rule (auth/grants.ts) when it first appears, and the whole upload is refused (403) at the
 * first role the caller may not hand out. Password hashes are stored as they come (no
 * hashing at import) in a form `passwords/imported.ts` verifies; the first sign-in replaces
 * them with argon2id.
 */
import { Readable } from 'node:stream';
import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type AuditActor, type AuditService, systemActor } from '../audit/service.js';
import { assertMayGrant } from '../auth/grants.js';
import type { Principal } from '../auth/permissions.js';
import { BackgroundRounds } from '../background.js';
import { type Database, isUniqueViolation } from '../db/database.js';
import type { DB, NewUserRow, UserIdentitiesTable, UserImportsTable } from '../db/schema.js';
import { AppError, notFound } from '../http/errors.js';
import { applyKeyset, cursorSchema, decodeCursor, limitSchema, parseSort, toPage } from '../http/pagination.js';
import { idPattern, newId } from '../ids.js';
import type { Role, RoleService } from '../roles/service.js';
import type { Tenant } from '../tenants/service.js';
import { nameSort, roleNamesOf, splitRoleNames } from '../users/service.js';
import { type ImportedUser, type LineFailure, linesOf, readLine } from './lines.js';

/** Lines one job may hold. */
export const MAX_LINES = 1_000_000;
/** Failures kept per job (the count goes on). */
const MAX_FAILURES = 1000;
/** Lines spooled per transaction while receiving, and at most about this many bytes of them. */
const SPOOL_BATCH = 1000;
const SPOOL_BYTES = 4 * 1024 * 1024;
/** Lines applied per transaction (on SQLite, the event loop waits for one: a few milliseconds). */
const APPLY_BATCH = 250;
/** Rows per insert statement (users have 12 values each: within both databases' parameter limits). */
const INSERT_CHUNK = 500;
/** Users created between two renewals of PostgreSQL's statistics of the users table. */
const ANALYZE_EVERY = 10_000;
/** How long a node holds a job it applies before another may take it over. */
const LEASE_MS = 10_000;
/** An upload that has sent nothing for this long is given up (and its job failed). */
const RECEIVE_IDLE_MS = 60_000;
/** Without a wake-up, the worker still looks every this often (other nodes' jobs, leases that ran out). */
const POLL_MS = 5000;

export const importIdSchema = z.string().regex(idPattern('userImport'), 'must be an import id (imp_…)');

const failureSchema = z.object({
  line: z.number().int().describe('The line number (from 1); 0 for the upload as a whole'),
  code: z.string(),
  message: z.string(),
});

export const importSchema = z
  .object({
    id: z.string(),
    status: z
      .enum(['receiving', 'queued', 'running', 'done', 'failed'])
      .describe('receiving (the upload goes on), queued, running, done, or failed (the upload did not end)'),
    dryRun: z.boolean().describe('Checked only: nothing was or will be written'),
    lines: z.number().int().describe('Lines received'),
    processed: z
      .number()
      .int()
      .describe('Lines up to which the file is applied (in a dry run: checked against the tenant)'),
    created: z.number().int().describe('Users created (in a dry run: that would be)'),
    existing: z.number().int().describe('Lines whose email or id exists already: left as they are'),
    failed: z.number().int().describe('Lines refused'),
    failures: z.array(failureSchema).describe(`The first ${MAX_FAILURES} refused lines, by number`),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'UserImport' });
export type ImportView = z.infer<typeof importSchema>;

export const importQuerySchema = z.strictObject({
  dryRun: z.enum(['true', 'false']).default('false').describe('`true`: check every line, write nothing'),
});

export const listImportsQuerySchema = z.strictObject({
  status: z.enum(['receiving', 'queued', 'running', 'done', 'failed']).optional(),
  limit: limitSchema,
  cursor: cursorSchema,
});

const sortFields = { createdAt: { column: 'created_at', type: 'number' } } as const;

export const exportQuerySchema = z.strictObject({
  includeHashes: z
    .enum(['true', 'false'])
    .default('false')
    .describe('`true`: with password hashes (needs `users:export_hashes`; audited)'),
});

type JobRow = Selectable<UserImportsTable>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function importView(row: JobRow): ImportView {
  return {
    id: row.id,
    status: row.status,
    dryRun: row.dry_run === 1,
    lines: Number(row.lines_received),
    processed: Math.min(Number(row.lines_received), Number(row.next_line) - 1),
    created: Number(row.created),
    existing: Number(row.existing),
    failed: Number(row.failed),
    failures: JSON.parse(row.failures) as LineFailure[],
    createdAt: iso(Number(row.created_at)) as string,
    updatedAt: iso(Number(row.updated_at)) as string,
    finishedAt: row.finished_at === null ? null : iso(Number(row.finished_at)),
  };
}

/** The users of an import line batch, as the worker decides them. */
interface Decided {
  rows: NewUserRow[];
  grants: { tenant_id: string; user_id: string; role_id: string; created_at: number }[];
  identities: Insertable<UserIdentitiesTable>[];
  existing: number;
  failures: LineFailure[];
}

export class UserImports {
  private readonly db: Kysely<DB>;
  private readonly dialect: Database['dialect'];

  constructor(
    database: Database,
    private readonly roles: RoleService,
    private readonly audit: AuditService,
    private readonly log: Logger,
  ) {
    this.db = database.db;
    this.dialect = database.dialect;
  }

  /**
   * Reads the upload `body` for `tenant` and spools its valid lines; resolves with the job,
   * queued, once every line is durable. Throws (and marks the job failed) when the caller may
   * not grant a role the file names, or the file has too many lines.
   */
  async upload(
    tenant: Tenant,
    principal: Principal,
    actor: AuditActor,
    body: AsyncIterable<Buffer>,
    dryRun: boolean,
  ): Promise<ImportView> {
    const id = newId('userImport');
    const now = Date.now();
    await this.db
      .insertInto('user_imports')
      .values({
        id,
        tenant_id: tenant.id,
        status: 'receiving',
        dry_run: dryRun ? 1 : 0,
        created_by: JSON.stringify(actor),
        locked_until: now + RECEIVE_IDLE_MS,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const known = new Map<string, Role | null>();
    let spool: { import_id: string; line_no: number; data: string }[] = [];
    let failures: LineFailure[] = [];
    let failedCount = 0;
    let received = 0;
    let kept = 0;
    let spooled = 0;
    const flush = async (last: boolean) => {
      const rows = spool;
      const newFailures = failures;
      const failed = failedCount;
      spool = [];
      failures = [];
      failedCount = 0;
      await this.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
          await trx
            .insertInto('user_import_lines')
            .values(rows.slice(i, i + INSERT_CHUNK))
            .execute();
        }
        const job = await trx
          .selectFrom('user_imports')
          .select(['failures', 'failed'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        const t = Date.now();
        await trx
          .updateTable('user_imports')
          .set({
            lines_received: received,
            failed: Number(job.failed) + failed,
            failures: appendFailures(job.failures, newFailures),
            locked_until: last ? null : t + RECEIVE_IDLE_MS,
            updated_at: t,
            ...(last ? { status: 'queued' as const } : {}),
          })
          .where('id', '=', id)
          .execute();
        if (last) {
          await this.audit.record(trx, actor, {
            tenantId: tenant.id,
            action: 'user.import',
            target: { type: 'user_import', id },
            details: { lines: received, dryRun },
          });
        }
      });
    };
    try {
      for await (const [bytes, line] of linesOf(body)) {
        if (line > MAX_LINES) {
          throw new AppError(413, 'too_many_lines', `An import may hold at most ${MAX_LINES} lines`, {
            maxLines: MAX_LINES,
          });
        }
        received = line;
        const user = readLine(bytes, line);
        let failure = 'code' in user ? user : undefined;
        if (!failure && !('code' in user)) {
          for (const name of user.roles) {
            if (!known.has(name)) known.set(name, await this.grantable(tenant, principal, name));
          }
          const unknown = user.roles.filter((name) => known.get(name) === null);
          if (unknown.length > 0) {
            failure = { line, code: 'unknown_role', message: `No role ${unknown.map((n) => `"${n}"`).join(', ')}` };
          }
        }
        if (failure) {
          failedCount++;
          if (kept < MAX_FAILURES) failures.push(failure);
          kept++;
        } else {
          const data = JSON.stringify(user);
          spooled += data.length;
          spool.push({ import_id: id, line_no: line, data });
        }
        if (spool.length + failures.length >= SPOOL_BATCH || spooled >= SPOOL_BYTES) {
          spooled = 0;
          await flush(false);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      await flush(true);
    } catch (err) {
      await this.giveUp(id, err);
      throw err;
    }
    return this.get(tenant, id);
  }

  /** The role named `name` if the caller may grant it; null when there is none; throws 403 otherwise. */
  private async grantable(tenant: Tenant, principal: Principal, name: string): Promise<Role | null> {
    let role: Role | undefined;
    try {
      [role] = await this.roles.byNames(this.db, tenant, [name]);
    } catch (err) {
      if (err instanceof AppError && err.code === 'unknown_role') return null;
      throw err;
    }
    if (!role) return null;
    assertMayGrant(principal, tenant.id, `Importing users with the role "${name}"`, { roles: [role] });
    return role;
  }

  /** Marks an upload that did not end as failed, and drops what it spooled. */
  private async giveUp(id: string, err: unknown): Promise<void> {
    const reason =
      err instanceof AppError
        ? { line: 0, code: err.code, message: err.message }
        : { line: 0, code: 'upload_incomplete', message: 'The upload ended before its last line' };
    try {
      await this.db.transaction().execute(async (trx) => {
        const job = await trx.selectFrom('user_imports').select('failures').where('id', '=', id).executeTakeFirst();
        if (!job) return;
        await trx.deleteFrom('user_import_lines').where('import_id', '=', id).execute();
        const t = Date.now();
        await trx
          .updateTable('user_imports')
          .set({
            status: 'failed',
            failures: appendFailures(job.failures, [reason]),
            locked_until: null,
            updated_at: t,
            finished_at: t,
          })
          .where('id', '=', id)
          .execute();
      });
    } catch (cause) {
      this.log.warn({ err: cause, importId: id }, 'an import that did not end could not be marked failed');
    }
  }

  /** The tenant's imports, newest first (a page). */
  async list(tenant: Tenant, query: z.output<typeof listImportsQuerySchema>) {
    const sort = parseSort('-createdAt', sortFields, '-createdAt');
    const cursor = decodeCursor(query.cursor, sort);
    let q = this.db.selectFrom('user_imports').selectAll().where('tenant_id', '=', tenant.id);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    const rows = await applyKeyset(q, sort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    return toPage(
      rows,
      query.limit,
      sort,
      (r) => Number(r.created_at),
      (r) => r.id,
      importView,
    );
  }

  async get(tenant: Tenant, id: string): Promise<ImportView> {
    const row = await this.db.selectFrom('user_imports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.tenant_id !== tenant.id) throw notFound('import_not_found', `No import ${id} in this tenant`);
    return importView(row);
  }

  /**
   * Takes the next job to apply (queued, or running with its lease passed), and fails
   * uploads whose sender went silent. Returns the job and its lease, or undefined.
   */
  async claim(): Promise<{ job: JobRow; lease: number } | undefined> {
    const now = Date.now();
    const stale = await this.db
      .selectFrom('user_imports')
      .select('id')
      .where('status', '=', 'receiving')
      .where('locked_until', '<', now)
      .limit(10)
      .execute();
    for (const { id } of stale) await this.giveUp(id, undefined);
    const job = await this.db
      .selectFrom('user_imports')
      .selectAll()
      .where('status', 'in', ['queued', 'running'])
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    if (!job) return undefined;
    // A lease of its own value: whoever holds it names it in every write (`apply`).
    const lease = now + LEASE_MS + Math.floor(Math.random() * 1000);
    const taken = await this.db
      .updateTable('user_imports')
      .set({ status: 'running', locked_until: lease, updated_at: now })
      .where('id', '=', job.id)
      .where('status', 'in', ['queued', 'running'])
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .executeTakeFirst();
    return taken.numUpdatedRows === 1n ? { job: { ...job, locked_until: lease }, lease } : undefined;
  }

  /**
   * Applies the job's next batch of lines under `lease`; returns the new lease, or undefined
   * when the job is finished (or was taken over by another node).
   */
  async apply(jobId: string, lease: number): Promise<number | undefined> {
    const renewed = await this.applyBatch(jobId, lease);
    // PostgreSQL plans by its statistics, which a bulk load outdates faster than autovacuum
    // renews them: planned for the table as it was (empty, say), the batch's lookup by email
    // scans it whole, and each batch gets slower. Renewed every so many users, and at the end.
    const made = this.created.get(jobId) ?? 0;
    if (this.dialect === 'postgres' && (renewed === undefined || made >= ANALYZE_EVERY)) {
      this.created.delete(jobId);
      await sql`analyze users`.execute(this.db);
    }
    return renewed;
  }

  /** Users this node created per job since PostgreSQL last renewed its statistics of them. */
  private readonly created = new Map<string, number>();

  private async applyBatch(jobId: string, lease: number): Promise<number | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const job = await trx.selectFrom('user_imports').selectAll().where('id', '=', jobId).executeTakeFirst();
          if (!job || Number(job.locked_until) !== lease || job.status !== 'running') return undefined;
          const lines = await trx
            .selectFrom('user_import_lines')
            .select(['line_no', 'data'])
            .where('import_id', '=', jobId)
            // From where the job is: on PostgreSQL the lines applied so far are dead tuples until
            // a vacuum, and a scan from the job's first line would walk them all, every batch.
            .where('line_no', '>=', Number(job.next_line))
            .orderBy('line_no')
            .limit(APPLY_BATCH)
            .execute();
          const now = Date.now();
          if (lines.length === 0) {
            await trx
              .updateTable('user_imports')
              .set({
                status: 'done',
                next_line: Number(job.lines_received) + 1,
                locked_until: null,
                updated_at: now,
                finished_at: now,
              })
              .where('id', '=', jobId)
              .execute();
            const actor = JSON.parse(job.created_by) as AuditActor;
            await this.audit.record(trx, actor.type ? actor : systemActor, {
              tenantId: job.tenant_id,
              action: 'user.import.finish',
              target: { type: 'user_import', id: jobId },
              details: {
                dryRun: job.dry_run === 1,
                created: Number(job.created),
                existing: Number(job.existing),
                failed: Number(job.failed),
              },
            });
            return undefined;
          }
          const users = lines.map((l) => [Number(l.line_no), JSON.parse(l.data) as ImportedUser] as const);
          const decided = await this.decide(trx, job.tenant_id, users, now);
          if (job.dry_run !== 1) {
            for (let i = 0; i < decided.rows.length; i += INSERT_CHUNK) {
              await trx
                .insertInto('users')
                .values(decided.rows.slice(i, i + INSERT_CHUNK))
                .execute();
            }
            for (let i = 0; i < decided.grants.length; i += INSERT_CHUNK) {
              await trx
                .insertInto('user_roles')
                .values(decided.grants.slice(i, i + INSERT_CHUNK))
                .execute();
            }
            for (let i = 0; i < decided.identities.length; i += INSERT_CHUNK) {
              await trx
                .insertInto('user_identities')
                .values(decided.identities.slice(i, i + INSERT_CHUNK))
                .execute();
            }
          }
          const first = users[0]?.[0] ?? 0;
          const last = users[users.length - 1]?.[0] ?? 0;
          await trx
            .deleteFrom('user_import_lines')
            .where('import_id', '=', jobId)
            .where('line_no', '>=', first)
            .where('line_no', '<=', last)
            .execute();
          if (job.dry_run !== 1) this.created.set(jobId, (this.created.get(jobId) ?? 0) + decided.rows.length);
          const renewed = now + LEASE_MS + Math.floor(Math.random() * 1000);
          await trx
            .updateTable('user_imports')
            .set({
              next_line: last + 1,
              created: Number(job.created) + decided.rows.length,
              existing: Number(job.existing) + decided.existing,
              failed: Number(job.failed) + decided.failures.length,
              failures: appendFailures(job.failures, decided.failures),
              locked_until: renewed,
              updated_at: now,
            })
            .where('id', '=', jobId)
            .execute();
          return renewed;
        });
      } catch (err) {
        // Another request made one of these users meanwhile: the batch is decided again.
        if (isUniqueViolation(err) && attempt < 3) continue;
        throw err;
      }
    }
  }

  /** Which lines of a batch make users, which exist already, which fail (an id taken elsewhere, a role gone). */
  private async decide(
    trx: Kysely<DB>,
    tenantId: string,
    users: readonly (readonly [number, ImportedUser])[],
    now: number,
  ): Promise<Decided> {
    const emails = [...new Set(users.map(([, u]) => u.email))];
    const ids = [...new Set(users.flatMap(([, u]) => (u.id ? [u.id] : [])))];
    const roleNames = [...new Set(users.flatMap(([, u]) => u.roles))];
    const existingEmails = new Set(
      (
        await trx
          .selectFrom('users')
          .select('email')
          .where('tenant_id', '=', tenantId)
          .where('email', 'in', emails)
          .execute()
      ).map((r) => r.email),
    );
    const takenIds = new Map(
      ids.length === 0
        ? []
        : (await trx.selectFrom('users').select(['id', 'tenant_id', 'email']).where('id', 'in', ids).execute()).map(
            (r) => [r.id, r] as const,
          ),
    );
    const roleIds = new Map(
      roleNames.length === 0
        ? []
        : (
            await trx
              .selectFrom('roles')
              .select(['id', 'name'])
              .where('tenant_id', '=', tenantId)
              .where('name', 'in', roleNames)
              .execute()
          ).map((r) => [r.name, r.id] as const),
    );
    const providerSlugs = [...new Set(users.flatMap(([, u]) => (u.identities ?? []).map((i) => i.provider)))];
    const providerIds = new Map(
      providerSlugs.length === 0
        ? []
        : (
            await trx
              .selectFrom('identity_providers')
              .select(['id', 'slug'])
              .where('tenant_id', '=', tenantId)
              .where('slug', 'in', providerSlugs)
              .execute()
          ).map((r) => [r.slug, r.id] as const),
    );
    const subjects = [...new Set(users.flatMap(([, u]) => (u.identities ?? []).map((i) => i.subject)))];
    const identityKey = (providerId: string, subject: string) => `${providerId}\n${subject}`;
    const takenIdentities = new Set(
      subjects.length === 0 || providerIds.size === 0
        ? []
        : (
            await trx
              .selectFrom('user_identities')
              .select(['provider_id', 'subject'])
              .where('provider_id', 'in', [...providerIds.values()])
              .where('subject', 'in', subjects)
              .execute()
          ).map((r) => identityKey(r.provider_id, r.subject)),
    );
    const out: Decided = { rows: [], grants: [], identities: [], existing: 0, failures: [] };
    const seenEmails = new Set<string>();
    const seenIds = new Set<string>();
    for (const [line, u] of users) {
      const taken = u.id ? takenIds.get(u.id) : undefined;
      if (existingEmails.has(u.email) || seenEmails.has(u.email)) {
        out.existing++;
        continue;
      }
      if (taken || (u.id && seenIds.has(u.id))) {
        out.failures.push({ line, code: 'id_taken', message: `The id ${u.id} belongs to another user` });
        continue;
      }
      const missing = u.roles.filter((r) => !roleIds.has(r));
      if (missing.length > 0) {
        out.failures.push({
          line,
          code: 'unknown_role',
          message: `No role ${missing.map((n) => `"${n}"`).join(', ')}`,
        });
        continue;
      }
      const identities = u.identities ?? [];
      const unknownProviders = identities.filter((i) => !providerIds.has(i.provider)).map((i) => i.provider);
      if (unknownProviders.length > 0) {
        out.failures.push({
          line,
          code: 'unknown_identity_provider',
          message: `No identity provider ${[...new Set(unknownProviders)].map((n) => `"${n}"`).join(', ')}`,
        });
        continue;
      }
      const keys = identities.map((i) => identityKey(providerIds.get(i.provider) as string, i.subject));
      const takenAt = keys.findIndex((k) => takenIdentities.has(k));
      if (takenAt !== -1) {
        const taken = identities[takenAt];
        out.failures.push({
          line,
          code: 'identity_taken',
          message: `The identity ${JSON.stringify(taken?.subject)} of "${taken?.provider}" belongs to another user`,
        });
        continue;
      }
      seenEmails.add(u.email);
      for (const k of keys) takenIdentities.add(k);
      const id = u.id ?? newId('user');
      seenIds.add(id);
      out.rows.push({
        id,
        tenant_id: tenantId,
        email: u.email,
        email_verified: u.emailVerified ? 1 : 0,
        display_name: u.displayName,
        name_sort: nameSort(u.displayName),
        status: u.status,
        attributes: JSON.stringify(u.attributes),
        password_hash: u.passwordHash,
        password_changed_at: u.passwordHash ? now : null,
        created_at: now,
        updated_at: now,
      });
      for (const r of u.roles) {
        out.grants.push({ tenant_id: tenantId, user_id: id, role_id: roleIds.get(r) as string, created_at: now });
      }
      for (const i of identities) {
        out.identities.push({
          id: newId('identity'),
          tenant_id: tenantId,
          user_id: id,
          provider_id: providerIds.get(i.provider) as string,
          subject: i.subject,
          email: i.email,
          created_at: now,
          last_sign_in_at: null,
        });
      }
    }
    return out;
  }

  /**
   * The tenant's users as import lines (the same shape), in id order, a page at a time; with
   * their password hashes when `includeHashes`.
   */
  exportStream(tenant: Tenant, includeHashes: boolean): Readable {
    return Readable.from(this.exportLines(tenant, includeHashes), { objectMode: false });
  }

  private async *exportLines(tenant: Tenant, includeHashes: boolean): AsyncGenerator<string> {
    let after = '';
    for (;;) {
      const rows = await this.db
        .selectFrom('users')
        .selectAll('users')
        .select(roleNamesOf(this.dialect))
        .where('users.tenant_id', '=', tenant.id)
        .where('users.id', '>', after)
        .orderBy('users.id')
        .limit(APPLY_BATCH)
        .execute();
      if (rows.length === 0) return;
      const identities = new Map<string, { provider: string; subject: string; email?: string }[]>();
      for (const i of await this.db
        .selectFrom('user_identities')
        .innerJoin('identity_providers', 'identity_providers.id', 'user_identities.provider_id')
        .select([
          'user_identities.user_id',
          'identity_providers.slug',
          'user_identities.subject',
          'user_identities.email',
        ])
        .where(
          'user_identities.user_id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('user_identities.user_id')
        .orderBy('user_identities.created_at')
        .execute()) {
        const list = identities.get(i.user_id) ?? [];
        list.push({ provider: i.slug, subject: i.subject, ...(i.email === null ? {} : { email: i.email }) });
        identities.set(i.user_id, list);
      }
      let chunk = '';
      for (const r of rows) {
        const line = {
          id: r.id,
          email: r.email,
          emailVerified: r.email_verified === 1,
          ...(r.display_name === null ? {} : { displayName: r.display_name }),
          status: r.status,
          attributes: JSON.parse(r.attributes) as unknown,
          roles: splitRoleNames(r.role_names),
          ...(identities.has(r.id) ? { identities: identities.get(r.id) } : {}),
          ...(includeHashes && r.password_hash ? { passwordHash: r.password_hash } : {}),
        };
        chunk += `${JSON.stringify(line)}\n`;
      }
      yield chunk;
      after = rows[rows.length - 1]?.id ?? after;
      if (rows.length < APPLY_BATCH) return;
    }
  }
}

/** A job's failures (JSON) with `more` added, up to the kept maximum. */
function appendFailures(json: string, more: readonly LineFailure[]): string {
  if (more.length === 0) return json;
  const list = JSON.parse(json) as LineFailure[];
  if (list.length >= MAX_FAILURES) return json;
  return JSON.stringify([...list, ...more.slice(0, MAX_FAILURES - list.length)]);
}

/**
 * The background applier (main.ts starts it): takes a job, applies it batch by batch under
 * its lease, then looks for the next; woken after an upload, and polling for the rest.
 */
export class ImportWorker {
  private readonly rounds: BackgroundRounds;

  constructor(
    private readonly imports: UserImports,
    log: Logger,
  ) {
    this.rounds = new BackgroundRounds(
      {
        round: (stopped) => this.round(stopped),
        failure: 'the user import worker failed; it tries again shortly',
        pollMs: POLL_MS,
      },
      log,
    );
  }

  start(): void {
    this.rounds.start();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  wake(): void {
    this.rounds.wake();
  }

  private async round(stopped: () => boolean): Promise<undefined> {
    for (let claimed = await this.imports.claim(); claimed && !stopped(); claimed = await this.imports.claim()) {
      let lease: number | undefined = claimed.lease;
      while (lease !== undefined && !stopped()) {
        lease = await this.imports.apply(claimed.job.id, lease);
        // SQLite's statements run synchronously: let requests (and fsyncs) in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return undefined;
  }
}
