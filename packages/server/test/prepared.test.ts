/**
 * Prepared queries (db/prepared.ts), on both databases: compiled once per dialect, each call's
 * values sent as parameters (the SQL text never changes, so the statement caches hold one
 * entry per query), a value forgotten into the SQL text refused at once. And the sign-in
 * counter's upsert, whose CASE once wrote the time into its text: one text for every attempt.
 * @see issue 10
 */
import { type CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { prepared } from '../src/db/prepared.js';
import { DbLockoutStore } from '../src/login/lockout.js';
import { createTestDatabase, dialects, type TestDatabase } from './helpers/databases.js';

describe.each(dialects)('prepared queries (%s)', (dialect) => {
  let td: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    td = await createTestDatabase(dialect);
    database = openDatabase(loadConfig({ DATABASE_URL: td.url, LATCHKEY_DATA_DIR: td.dataDir }).database);
    await migrateToLatest(database.db, { dialect: database.dialect });
    // The counters' tenant.
    await database.db
      .insertInto('tenants')
      .values({ id: 'ten_x', slug: 'x-tenant', display_name: 'X', settings: '{}', created_at: 0, updated_at: 0 })
      .execute();
  });
  afterAll(async () => {
    await database?.close();
    await td?.drop();
  });

  /** The SQL texts `fn` sent, and what it returned. */
  async function sent<T>(fn: () => Promise<T>): Promise<{ texts: string[]; result: T }> {
    const spy = vi.spyOn(database.db, 'executeQuery');
    try {
      const result = await fn();
      return { texts: spy.mock.calls.map(([q]) => (q as CompiledQuery).sql), result };
    } finally {
      spy.mockRestore();
    }
  }

  it('builds once, and runs with each call’s values as parameters', async () => {
    let builds = 0;
    const byKey = prepared((db, p: { key: string }) => {
      builds++;
      return db.selectFrom('login_failures').select(['key', 'count']).where('key', '=', p.key);
    });
    const upsert = prepared((db, p: { key: string; count: number; locked: number | null }) =>
      db
        .insertInto('login_failures')
        .values({ key: p.key, tenant_id: 'ten_x', count: p.count, window_started_at: 1, locked_until: p.locked })
        .onConflict((oc) => oc.column('key').doUpdateSet({ count: p.count })),
    );
    // Text that a string-built query would have to escape, and a value left out (NULL).
    const tricky = `k'; drop table users; --`;
    await upsert(database.db, { key: tricky, count: 3, locked: null });
    await upsert(database.db, { key: 'plain', count: 5 } as never);
    const { texts, result } = await sent(async () => [
      (await byKey(database.db, { key: tricky })).rows,
      (await byKey(database.db, { key: 'plain' })).rows,
      (await byKey(database.db, { key: 'none' })).rows,
    ]);
    expect(result).toEqual([[{ key: tricky, count: 3 }], [{ key: 'plain', count: 5 }], []]);
    expect(builds).toBe(1);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).not.toContain('plain');
    const locked = await database.db
      .selectFrom('login_failures')
      .select('locked_until')
      .where('key', '=', 'plain')
      .executeTakeFirst();
    expect(locked).toEqual({ locked_until: null });
    // In a transaction too.
    const inTx = await database.db.transaction().execute(async (trx) => (await byKey(trx, { key: 'plain' })).rows);
    expect(inTx).toEqual([{ key: 'plain', count: 5 }]);
    expect(builds).toBe(1);
  });

  it('refuses a value written into the SQL text, or computed from a placeholder', async () => {
    const literal = prepared((db, p: { x: string }) => db.selectFrom('login_failures').select(sql.lit(p.x).as('x')));
    await expect(literal(database.db, { x: 'a' })).rejects.toThrow(/SQL text/);
    const computed = prepared((db, p: { now: number }) =>
      db
        .selectFrom('login_failures')
        .select('key')
        .where('window_started_at', '<', p.now - 1000),
    );
    await expect(computed(database.db, { now: Date.now() })).rejects.toThrow(/computed with a placeholder/);
  });

  it('counts sign-in attempts with one SQL text for every attempt, at any time', async () => {
    const store = new DbLockoutStore(database.db);
    const policy = { maxFailures: 3, durationSeconds: 60 };
    const { texts, result } = await sent(async () => {
      const counts = [];
      for (let i = 0; i < 3; i++) {
        counts.push(await store.reserve('ten_x', 'ip:203.0.113.1', policy));
        await new Promise((r) => setTimeout(r, 3));
      }
      return counts;
    });
    expect(result.map((r) => r.allowed)).toEqual([true, true, true]);
    expect(await store.reserve('ten_x', 'ip:203.0.113.1', policy)).toMatchObject({ allowed: false, lockedMs: 0 });
    await store.lockIfReached('ten_x', 'ip:203.0.113.1', policy);
    expect((await store.reserve('ten_x', 'ip:203.0.113.1', policy)).lockedMs).toBeGreaterThan(0);
    expect(texts).toHaveLength(3);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).not.toMatch(/\d{10,}/);
  });

  it('clears the account and gives the address its attempt back in one statement when a sign-in succeeds', async () => {
    const store = new DbLockoutStore(database.db);
    const policy = { maxFailures: 3, durationSeconds: 60 };
    const count = async (key: string) =>
      database.db
        .selectFrom('login_failures')
        .select(['count', 'locked_until'])
        .where('key', '=', `ten_x:${key}`)
        .executeTakeFirst();
    for (let i = 0; i < 3; i++) await store.reserve('ten_x', 'user:a', policy);
    await store.lockIfReached('ten_x', 'user:a', policy);
    await store.reserve('ten_x', 'ip:198.51.100.9', policy);
    await store.reserve('ten_x', 'ip:198.51.100.9', policy);
    const { texts } = await sent(() => store.succeeded('ten_x', 'user:a', 'ip:198.51.100.9'));
    expect(texts).toHaveLength(1);
    expect(await count('user:a')).toEqual({ count: 0, locked_until: null });
    expect(await count('ip:198.51.100.9')).toEqual({ count: 1, locked_until: null });
    expect((await store.reserve('ten_x', 'user:a', policy)).allowed).toBe(true);
    // A locked address stays locked, and keeps its count.
    for (let i = 0; i < 3; i++) await store.reserve('ten_x', 'ip:198.51.100.10', policy);
    await store.lockIfReached('ten_x', 'ip:198.51.100.10', policy);
    const locked = await count('ip:198.51.100.10');
    await store.succeeded('ten_x', 'user:b', 'ip:198.51.100.10');
    expect(await count('ip:198.51.100.10')).toEqual(locked);
    expect((await store.reserve('ten_x', 'ip:198.51.100.10', policy)).lockedMs).toBeGreaterThan(0);
  });
});
