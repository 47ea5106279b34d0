/**
 * The storage suite: the same tests on SQLite and PostgreSQL, through the real code
 * (openDatabase, migrateToLatest, the services of createContext, bootstrap), not HTTP.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditActor } from '../src/audit/service.js';
import { type Principal, SYSTEM_ADMIN_ROLE, SYSTEM_TENANT_SLUG } from '../src/auth/permissions.js';
import { bootstrap } from '../src/bootstrap/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { type AppContext, createContext } from '../src/context.js';
import { type Database, isUniqueViolation, openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { AppError } from '../src/http/errors.js';
import { createLogger } from '../src/logger.js';
import { resolveSecret } from '../src/secret.js';
import type { Tenant } from '../src/tenants/service.js';
import { readSettings, storedSettings } from '../src/tenants/settings.js';
import { createUserSchema, listUsersQuerySchema, normalizeEmail, type UserView } from '../src/users/service.js';
import { createTestDatabase, type DialectName, dialects, type TestDatabase } from './helpers/databases.js';

/** Tables of the core migration; every one but `tenants` is tenant-owned. */
const coreTables = ['tenants', 'users', 'roles', 'user_roles', 'api_keys', 'api_key_roles', 'audit_events'] as const;
const tenantTables = ['users', 'roles', 'user_roles', 'api_keys', 'api_key_roles', 'audit_events'] as const;

interface Store {
  testDb: TestDatabase;
  database: Database;
  ctx: AppContext;
  system: Tenant;
  /** The bootstrap API key as a principal: holds system:admin. */
  principal: Principal;
  actor: AuditActor;
  close(): Promise<void>;
}

/** A fresh, migrated and bootstrapped database with the services on top of it. */
async function openStore(dialect: DialectName): Promise<Store> {
  const testDb = await createTestDatabase(dialect);
  const apiKey = `lk_${randomBytes(32).toString('base64url')}`;
  const config = loadConfig({
    DATABASE_URL: testDb.url,
    LATCHKEY_DATA_DIR: testDb.dataDir,
    LATCHKEY_SECRET: 'storage-test-secret-storage-test-secret',
    LOG_LEVEL: 'silent',
    LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
    LATCHKEY_BOOTSTRAP_ADMIN_EMAIL: 'root@example.test',
    LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: `pw-${randomBytes(12).toString('hex')}`,
  });
  const database = openDatabase(config.database);
  await migrateToLatest(database.db, { dialect: database.dialect });
  const ctx = createContext(config, database, createLogger(config), { instanceSecret: resolveSecret(config) });
  await bootstrap(database, config, ctx.audit);
  const principal = await ctx.apiKeys.authenticate(apiKey);
  const system = await ctx.tenants.findBySlug(SYSTEM_TENANT_SLUG);
  if (!principal || !system) throw new Error('bootstrap did not create the system tenant and key');
  return {
    testDb,
    database,
    ctx,
    system,
    principal,
    actor: { type: 'api_key', id: principal.id, ip: '127.0.0.1', requestId: null },
    async close() {
      await database.close();
      await testDb.drop();
    },
  };
}

let slugCounter = 0;
function slug(prefix: string): string {
  slugCounter += 1;
  return `${prefix}-${randomBytes(3).toString('hex')}-${slugCounter}`;
}

async function newTenant(store: Store, prefix = 'st'): Promise<Tenant> {
  return store.ctx.tenants.create(
    { slug: slug(prefix), displayName: `Tenant ${prefix}` },
    store.actor,
    store.system.id,
  );
}

async function newUser(store: Store, tenant: Tenant, input: Record<string, unknown>): Promise<UserView> {
  return store.ctx.users.create(tenant, createUserSchema.parse(input), store.actor);
}

/** The AppError a promise rejects with (fails the test if it resolves or throws something else). */
async function appError(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError, but the call succeeded');
}

async function countRows(db: Database['db'], table: string, tenantId: string): Promise<number> {
  const { rows } = await sql<{
    n: number | string;
  }>`select count(*) as n from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(db);
  return Number(rows[0]?.n);
}

describe.each(dialects)('storage (%s)', (dialect) => {
  describe('migrations', () => {
    let testDb: TestDatabase;
    let database: Database;
    beforeAll(async () => {
      testDb = await createTestDatabase(dialect);
      database = openDatabase(
        dialect === 'sqlite'
          ? { kind: 'sqlite', path: testDb.url.slice('sqlite:'.length) }
          : { kind: 'postgres', url: testDb.url, poolSize: 4 },
      );
    });
    afterAll(async () => {
      await database?.close();
      await testDb?.drop();
    });

    it('apply on an empty database, once, and create the tables', async () => {
      const before = await database.db.introspection.getTables();
      expect(before).toEqual([]);

      const applied = await migrateToLatest(database.db, { dialect });
      expect(applied[0]).toBe('0001_core');
      expect(applied).toEqual([...applied].sort());

      const recorded = await sql<{ name: string }>`select name from latchkey_migrations order by name`.execute(
        database.db,
      );
      expect(recorded.rows.map((r) => r.name)).toEqual(applied);

      expect(await migrateToLatest(database.db, { dialect })).toEqual([]);
      const recordedAgain = await sql<{ n: number | string }>`select count(*) as n from latchkey_migrations`.execute(
        database.db,
      );
      expect(Number(recordedAgain.rows[0]?.n)).toBe(applied.length);

      const tables = (await database.db.introspection.getTables()).map((t) => t.name);
      for (const table of coreTables) expect(tables).toContain(table);
      const users = (await database.db.introspection.getTables()).find((t) => t.name === 'users');
      expect(users?.columns.map((c) => c.name)).toEqual(
        expect.arrayContaining(['id', 'tenant_id', 'email', 'name_sort', 'password_hash', 'version', 'last_login_at']),
      );
    });

    // (SQLite is covered by two `latchkey migrate` processes in process.test.ts: in one process
    // its synchronous driver would make the second connection block the first.)
    it.runIf(dialect === 'postgres')(
      'are safe when two connections migrate a fresh database at the same moment',
      async () => {
        const fresh = await createTestDatabase(dialect);
        const config =
          dialect === 'sqlite'
            ? ({ kind: 'sqlite', path: fresh.url.slice('sqlite:'.length) } as const)
            : ({ kind: 'postgres', url: fresh.url, poolSize: 4 } as const);
        const a = openDatabase(config);
        const b = openDatabase(config);
        try {
          const [ra, rb] = await Promise.all([migrateToLatest(a.db, { dialect }), migrateToLatest(b.db, { dialect })]);
          const all = [...ra, ...rb].sort();
          expect(new Set(all).size).toBe(all.length); // nothing applied twice
          expect(all[0]).toBe('0001_core');
          const recorded = await sql<{ name: string }>`select name from latchkey_migrations order by name`.execute(
            a.db,
          );
          expect(recorded.rows.map((r) => r.name)).toEqual(all);
        } finally {
          await a.close();
          await b.close();
          await fresh.drop();
        }
      },
    );
  });

  describe('data', () => {
    let store: Store;
    beforeAll(async () => {
      store = await openStore(dialect);
    });
    afterAll(async () => {
      await store?.close();
    });

    it('reads times back as JS numbers, and booleans and JSON as they were written', async () => {
      const tenant = await newTenant(store, 'types');
      const attributes = {
        plan: 'pro',
        seats: 42,
        ratio: 0.125,
        active: true,
        nothing: null,
        tags: ['a', 'b', 'ü', '😀'],
        nested: { deep: { deeper: [1, { x: 'y' }] } },
        quote: 'it\'s "quoted" \\ back\\slash',
      };
      const user = await newUser(store, tenant, { email: 'types@example.com', emailVerified: true, attributes });
      const { db } = store.database;

      // A time beyond 2^31 seconds and one at the edge of exact JS integers.
      const lastLogin = Date.UTC(2200, 0, 1, 12, 0, 0, 123);
      await db.updateTable('users').set({ last_login_at: lastLogin }).where('id', '=', user.id).execute();
      const row = await db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
      expect(typeof row.created_at).toBe('number');
      expect(typeof row.updated_at).toBe('number');
      expect(row.last_login_at).toBe(lastLogin);
      expect(row.created_at).toBe(Date.parse(user.createdAt));
      expect(row.version).toBe(1);
      expect(row.email_verified).toBe(1);
      expect(row.password_changed_at).toBeNull();
      expect(JSON.parse(row.attributes)).toEqual(attributes);

      await db.updateTable('users').set({ last_login_at: Number.MAX_SAFE_INTEGER }).where('id', '=', user.id).execute();
      const max = await db
        .selectFrom('users')
        .select('last_login_at')
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
      expect(max.last_login_at).toBe(Number.MAX_SAFE_INTEGER);
      await db.updateTable('users').set({ last_login_at: lastLogin }).where('id', '=', user.id).execute();

      const view = await store.ctx.users.get(tenant, user.id);
      expect(view.emailVerified).toBe(true);
      expect(view.attributes).toEqual(attributes);
      expect(view.lastLoginAt).toBe(new Date(lastLogin).toISOString());
      expect(view.hasPassword).toBe(false);

      const unverified = await newUser(store, tenant, { email: 'types2@example.com' });
      expect((await store.ctx.users.get(tenant, unverified.id)).emailVerified).toBe(false);

      const tenantRow = await db
        .selectFrom('tenants')
        .selectAll()
        .where('id', '=', tenant.id)
        .executeTakeFirstOrThrow();
      expect(typeof tenantRow.created_at).toBe('number');
      expect(tenantRow.created_at).toBe(tenant.createdAt);
      // Stored as written (a field at its default since the previous release left out), read back whole.
      expect(JSON.parse(tenantRow.settings)).toEqual(JSON.parse(storedSettings(tenant.settings)));
      expect(readSettings(tenantRow.settings)).toEqual(tenant.settings);

      const role = await db
        .selectFrom('roles')
        .selectAll()
        .where('tenant_id', '=', tenant.id)
        .where('name', '=', 'tenant:admin')
        .executeTakeFirstOrThrow();
      expect(role.builtin).toBe(1);
      expect(typeof role.created_at).toBe('number');

      const expiresAt = Date.now() + 86_400_000;
      const key = await store.ctx.apiKeys.create(
        tenant,
        { name: 'typed', roles: ['tenant:admin'], expiresAt },
        store.principal,
        store.actor,
      );
      const keyRow = await db.selectFrom('api_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
      expect(keyRow.expires_at).toBe(expiresAt);
      expect(keyRow.last_used_at).toBeNull();

      // Aggregates too: count(*) is a bigint in PostgreSQL.
      const count = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', tenant.id)
        .executeTakeFirstOrThrow();
      expect(count.n).toBe(2);
    });

    it('stores emails normalised, so the same address in another case is a duplicate in one tenant', async () => {
      const tenant = await newTenant(store, 'email');
      const alice = await newUser(store, tenant, { email: '  Alice.Smith@Example.COM ' });
      expect(alice.email).toBe('alice.smith@example.com');
      const row = await store.database.db
        .selectFrom('users')
        .select('email')
        .where('id', '=', alice.id)
        .executeTakeFirstOrThrow();
      expect(row.email).toBe('alice.smith@example.com');

      for (const email of ['alice.smith@example.com', 'ALICE.SMITH@EXAMPLE.COM', 'Alice.Smith@Example.Com']) {
        const err = await appError(newUser(store, tenant, { email }));
        expect(err.status).toBe(409);
        expect(err.code).toBe('email_taken');
      }
      // NFKC: a full-width "Ａ" and the "ﬁ" ligature are the same letters.
      const fi = await newUser(store, tenant, { email: 'ﬁona@example.com' });
      expect(fi.email).toBe('fiona@example.com');
      expect((await appError(newUser(store, tenant, { email: 'FIONA@example.com' }))).status).toBe(409);
      expect((await appError(newUser(store, tenant, { email: 'Ａlice.smith@example.com' }))).status).toBe(409);

      // Renaming another user onto the address, in any case, is refused as well.
      const bob = await newUser(store, tenant, { email: 'bob@example.com' });
      const renamed = await appError(
        store.ctx.users.update(
          tenant,
          bob.id,
          { email: normalizeEmail('ALICE.smith@example.com') },
          undefined,
          store.principal,
          store.actor,
        ),
      );
      expect(renamed.status).toBe(409);

      // The database itself refuses the duplicate, not only the service.
      let dbErr: unknown;
      try {
        await store.database.db
          .insertInto('users')
          .values({
            id: `usr_${randomBytes(8).toString('hex')}`,
            tenant_id: tenant.id,
            email: 'alice.smith@example.com',
            email_verified: 0,
            display_name: null,
            name_sort: '',
            status: 'active',
            attributes: '{}',
            password_hash: null,
            password_changed_at: null,
            created_at: Date.now(),
            updated_at: Date.now(),
            last_login_at: null,
          })
          .execute();
      } catch (err) {
        dbErr = err;
      }
      expect(isUniqueViolation(dbErr)).toBe(true);

      // Another tenant may hold the same address: it is another account.
      const other = await newTenant(store, 'email2');
      const otherAlice = await newUser(store, other, { email: 'ALICE.SMITH@example.com' });
      expect(otherAlice.email).toBe('alice.smith@example.com');
      expect(otherAlice.id).not.toBe(alice.id);

      const count = await store.database.db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', tenant.id)
        .where('email', '=', 'alice.smith@example.com')
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(1);
    });

    it('deletes every row of a deleted tenant and nothing of another', async () => {
      const { ctx, principal, actor } = store;
      const { db } = store.database;
      async function populate(tenant: Tenant) {
        const role = await ctx.roles.create(
          tenant,
          { name: 'support', description: 'Support desk', permissions: ['users:read'], apiPermissions: [] },
          principal,
          actor,
        );
        const users: UserView[] = [];
        for (const email of ['a@x.test', 'b@x.test', 'c@x.test']) users.push(await newUser(store, tenant, { email }));
        for (const user of users) {
          await ctx.roles.grant(tenant, user.id, 'tenant:admin', principal, actor);
          await ctx.roles.grant(tenant, user.id, role.name, principal, actor);
        }
        await ctx.apiKeys.create(tenant, { name: 'k1', roles: ['tenant:admin', 'support'] }, principal, actor);
        await ctx.apiKeys.create(tenant, { name: 'k2', roles: ['support'] }, principal, actor);
      }
      const doomed = await newTenant(store, 'doomed');
      const kept = await newTenant(store, 'kept');
      await populate(doomed);
      await populate(kept);

      async function counts(tenantId: string) {
        const out: Record<string, number> = {};
        for (const table of tenantTables) out[table] = await countRows(db, table, tenantId);
        return out;
      }
      const doomedBefore = await counts(doomed.id);
      const keptBefore = await counts(kept.id);
      const systemBefore = await counts(store.system.id);
      for (const table of tenantTables) {
        expect(doomedBefore[table], table).toBeGreaterThan(0);
        expect(keptBefore[table], table).toBeGreaterThan(0);
      }

      // A stale version deletes nothing.
      const stale = await appError(ctx.tenants.delete(doomed, [doomed.version + 7], actor, store.system.id));
      expect(stale.status).toBe(412);
      expect(await counts(doomed.id)).toEqual(doomedBefore);

      await ctx.tenants.delete(doomed, [doomed.version], actor, store.system.id);

      const doomedAfter = await counts(doomed.id);
      for (const table of tenantTables) expect(doomedAfter[table], table).toBe(0);
      expect(await counts(kept.id)).toEqual(keptBefore);
      expect(
        await db.selectFrom('tenants').select('id').where('id', '=', doomed.id).executeTakeFirst(),
      ).toBeUndefined();

      // Tables added by later migrations must not keep rows of a deleted tenant either.
      const tables = await db.introspection.getTables();
      for (const table of tables) {
        if (!table.columns.some((c) => c.name === 'tenant_id')) continue;
        expect(await countRows(db, table.name, doomed.id), table.name).toBe(0);
      }

      // The deletion is on record in the system tenant, whose own rows are otherwise untouched.
      const systemAfter = await counts(store.system.id);
      expect(systemAfter.audit_events).toBe((systemBefore.audit_events ?? 0) + 1);
      expect({ ...systemAfter, audit_events: 0 }).toEqual({ ...systemBefore, audit_events: 0 });
      const event = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('tenant_id', '=', store.system.id)
        .where('action', '=', 'tenant.delete')
        .where('target_id', '=', doomed.id)
        .executeTakeFirst();
      expect(event?.outcome).toBe('success');

      const gone = await appError(ctx.tenants.delete(doomed, undefined, actor, store.system.id));
      expect(gone.status).toBe(404);
    });

    it('walks every user exactly once, in sort order, through keyset pages', async () => {
      const { ctx } = store;
      const { db } = store.database;
      const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

      // Small alphabets so that duplicates, case and NFKC variants and astral characters meet.
      const localPart = fc.string({
        unit: fc.constantFrom('a', 'b', 'B', 'z', 'Z', '0', '9', '.', '_', 'é', 'É', 'ß', 'ﬁ', '𝒜'),
        minLength: 1,
        maxLength: 6,
      });
      const email = fc
        .tuple(localPart, fc.constantFrom('example.com', 'Example.ORG', 'x.test'))
        .map(([local, domain]) => `${local}@${domain}`);
      const displayName = fc.oneof(
        fc.constant(null),
        fc.constantFrom('Ann', 'ann', 'ANN', 'Zoë', 'zoe', 'Émile', ' Bob '),
        fc
          .string({ unit: fc.constantFrom('a', 'B', 'z', ' ', '-', 'é', 'É', 'ﬁ', '𝒜', 'Ω', '0'), maxLength: 5 })
          .map((s) => (s.trim() === '' ? null : s)),
      );
      // 8.64e15 is the latest time a JS Date can hold.
      const time = fc.constantFrom(1_000, 2_000, 1_700_000_000_000, 1_700_000_000_001, 8_640_000_000_000_000);
      const userArb = fc.record({
        email,
        displayName,
        lastLoginAt: fc.option(time, { nil: null }),
        createdAt: time,
        updatedAt: time,
      });
      const usersArb = fc.uniqueArray(userArb, { maxLength: 24, selector: (u) => normalizeEmail(u.email) });
      const sortArb = fc.record({
        field: fc.constantFrom('email', 'displayName', 'createdAt', 'updatedAt', 'lastLoginAt'),
        descending: fc.boolean(),
        limit: fc.integer({ min: 1, max: 7 }),
      });

      await fc.assert(
        fc.asyncProperty(usersArb, fc.array(sortArb, { minLength: 1, maxLength: 3 }), async (specs, sorts) => {
          const tenant = await newTenant(store, 'page');
          interface Expected {
            id: string;
            email: string;
            displayName: string;
            createdAt: number;
            updatedAt: number;
            lastLoginAt: number | null;
          }
          const expected: Expected[] = [];
          for (const spec of specs) {
            const user = await newUser(store, tenant, {
              email: spec.email,
              ...(spec.displayName === null ? {} : { displayName: spec.displayName }),
            });
            expected.push({
              id: user.id,
              email: user.email,
              displayName: (user.displayName ?? '').normalize('NFKC').toLowerCase(),
              createdAt: spec.createdAt,
              updatedAt: spec.updatedAt,
              lastLoginAt: spec.lastLoginAt,
            });
          }
          await db.transaction().execute(async (trx) => {
            for (const [i, spec] of specs.entries()) {
              await trx
                .updateTable('users')
                .set({ created_at: spec.createdAt, updated_at: spec.updatedAt, last_login_at: spec.lastLoginAt })
                .where('id', '=', expected[i]?.id ?? '')
                .execute();
            }
          });

          for (const sort of sorts) {
            const key = (u: Expected) => u[sort.field as keyof Omit<Expected, 'id'>];
            const ascending = (a: Expected, b: Expected): number => {
              const va = key(a);
              const vb = key(b);
              if (va !== vb) {
                if (va === null) return -1; // nulls first ascending
                if (vb === null) return 1;
                const c = typeof va === 'string' ? byteOrder(va, vb as string) : va - (vb as number);
                if (c !== 0) return Math.sign(c);
              }
              return byteOrder(a.id, b.id);
            };
            const order = [...expected].sort(ascending);
            if (sort.descending) order.reverse(); // nulls last, ids descending

            const seen: string[] = [];
            let cursor: string | undefined;
            for (let pages = 0; ; pages += 1) {
              expect(pages).toBeLessThanOrEqual(expected.length + 1);
              const page = await ctx.users.list(
                tenant,
                listUsersQuerySchema.parse({
                  sort: `${sort.descending ? '-' : ''}${sort.field}`,
                  limit: String(sort.limit),
                  ...(cursor === undefined ? {} : { cursor }),
                }),
              );
              expect(page.items.length).toBeLessThanOrEqual(sort.limit);
              seen.push(...page.items.map((u) => u.id));
              if (page.nextCursor === null) break;
              expect(page.items.length).toBe(sort.limit);
              cursor = page.nextCursor;
            }
            expect(seen).toEqual(order.map((u) => u.id));
          }
        }),
        { numRuns: 30 },
      );
    });

    it('lets exactly one of ten concurrent updates with the same expected version win', async () => {
      const tenant = await newTenant(store, 'occ');
      const user = await newUser(store, tenant, { email: 'contended@example.com', displayName: 'Before' });
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.ctx.users.update(
            tenant,
            user.id,
            { displayName: `Writer ${i}` },
            [user.version],
            store.principal,
            store.actor,
          ),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const r of lost) {
        expect(r.reason).toBeInstanceOf(AppError);
        expect((r.reason as AppError).status).toBe(412);
        expect((r.reason as AppError).code).toBe('version_mismatch');
      }
      const winner = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
      const after = await store.ctx.users.get(tenant, user.id);
      expect(after.version).toBe(user.version + 1);
      expect(after.displayName).toBe(winner?.displayName);
      const updates = await store.database.db
        .selectFrom('audit_events')
        .select('id')
        .where('tenant_id', '=', tenant.id)
        .where('action', '=', 'user.update')
        .where('target_id', '=', user.id)
        .execute();
      expect(updates).toHaveLength(1);

      // The next writer with the new version wins; one with the old version still loses.
      await store.ctx.users.update(
        tenant,
        user.id,
        { displayName: 'After' },
        [after.version],
        store.principal,
        store.actor,
      );
      const stale = await appError(
        store.ctx.users.update(tenant, user.id, { displayName: 'Late' }, [after.version], store.principal, store.actor),
      );
      expect(stale.status).toBe(412);
    });
  });

  describe('the last system:admin', () => {
    let store: Store;
    let roleId: string;
    beforeAll(async () => {
      store = await openStore(dialect);
      const role = await store.database.db
        .selectFrom('roles')
        .select('id')
        .where('tenant_id', '=', store.system.id)
        .where('name', '=', SYSTEM_ADMIN_ROLE)
        .executeTakeFirstOrThrow();
      roleId = role.id;
    });
    afterAll(async () => {
      await store?.close();
    });

    /** The ids of the active users holding system:admin. */
    async function activeAdminUserIds(): Promise<string[]> {
      const rows = await store.database.db
        .selectFrom('user_roles')
        .innerJoin('users', 'users.id', 'user_roles.user_id')
        .select('users.id')
        .where('user_roles.role_id', '=', roleId)
        .where('users.status', '=', 'active')
        .execute();
      return rows.map((r) => r.id);
    }

    /** Active users and unexpired keys holding system:admin. */
    async function holders(): Promise<number> {
      const { db } = store.database;
      const users = await activeAdminUserIds();
      const keys = await db.selectFrom('api_key_roles').select('api_key_id').where('role_id', '=', roleId).execute();
      return users.length + keys.length;
    }

    /** Leaves exactly two admin users (the bootstrap key is removed) and returns their ids. */
    async function twoAdminUsers(): Promise<[string, string]> {
      const { db } = store.database;
      const ids = await activeAdminUserIds();
      while (ids.length < 2) {
        const user = await newUser(store, store.system, {
          email: `admin-${randomBytes(4).toString('hex')}@example.test`,
        });
        await store.ctx.roles.grant(store.system, user.id, SYSTEM_ADMIN_ROLE, store.principal, store.actor);
        ids.push(user.id);
      }
      await db.deleteFrom('api_keys').where('tenant_id', '=', store.system.id).execute();
      store.ctx.apiKeys.invalidate();
      expect(await holders()).toBe(2);
      return [ids[0] ?? '', ids[1] ?? ''];
    }

    /** Of two racing changes, one went through and the other was refused: one holder is left. */
    async function expectOneRefused(results: PromiseSettledResult<unknown>[]) {
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toMatchObject({
        status: 409,
        code: 'last_system_admin',
      });
      expect(await holders()).toBe(1);
    }

    it('survives two concurrent revocations of the two last holders', async () => {
      const [a, b] = await twoAdminUsers();
      const results = await Promise.allSettled(
        [a, b].map((id) => store.ctx.roles.revoke(store.system, id, SYSTEM_ADMIN_ROLE, store.principal, store.actor)),
      );
      await expectOneRefused(results);
    });

    it('survives a concurrent deletion and disabling of the two last holders', async () => {
      const [a, b] = await twoAdminUsers();
      const results = await Promise.allSettled([
        store.ctx.users.delete(store.system, a, undefined, store.principal, store.actor),
        store.ctx.users.update(store.system, b, { status: 'disabled' }, undefined, store.principal, store.actor),
      ]);
      await expectOneRefused(results);
    });

    it.runIf(dialect === 'postgres')(
      'makes a second transaction wait for the first and then refuse (assertSystemAdminRemains)',
      async () => {
        const [a, b] = await twoAdminUsers();
        const { db } = store.database;
        const removeHolder = (userId: string, afterCheck?: () => Promise<void>) =>
          db.transaction().execute(async (trx) => {
            await store.ctx.roles.assertSystemAdminRemains(trx, store.system.id, { userIds: [userId] });
            await trx.deleteFrom('user_roles').where('user_id', '=', userId).where('role_id', '=', roleId).execute();
            await afterCheck?.();
          });

        let checked!: () => void;
        const firstChecked = new Promise<void>((resolve) => {
          checked = resolve;
        });
        let release!: () => void;
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        // The first transaction passes the check, removes its holder, and stays open.
        const first = removeHolder(a, async () => {
          checked();
          await released;
        });
        await firstChecked;
        // The second starts while the first is open: it must wait, not read the old state.
        const second = removeHolder(b);
        const secondSettled = second.then(
          () => 'settled',
          () => 'settled',
        );
        const waiting = (async () => {
          for (let i = 0; i < 500; i += 1) {
            const { rows } = await sql<{ n: number }>`
              select count(*) as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
            if (Number(rows[0]?.n) > 0) return 'waiting';
            await new Promise((r) => setTimeout(r, 10));
          }
          return 'never waited';
        })();
        // Either the second blocks on the lock (correct), or it finishes on its own (the bug).
        const state = await Promise.race([secondSettled, waiting]);
        release();
        await first;
        const [outcome] = await Promise.allSettled([second]);
        expect(state).toBe('waiting');
        expect(outcome.status).toBe('rejected');
        expect(outcome.status === 'rejected' && outcome.reason).toMatchObject({
          status: 409,
          code: 'last_system_admin',
        });
        expect(await holders()).toBe(1);
      },
    );
  });
});
