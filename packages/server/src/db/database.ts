/**
 * Opens the configured database: better-sqlite3 (WAL, foreign keys, group commit: see
 * `WalSync`; its files readable by their owner only, see private-files.ts) or PostgreSQL
 * through a `pg` pool. Nothing here runs at import time.
 */

import { createHash } from 'node:crypto';
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type KyselyConfig, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type PgModule from 'pg';
import type { Config } from '../config.js';
import { makePrivateDatabase, makePrivateDir } from '../private-files.js';
import type { DB } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  /** Keeps the query planner's statistics current (SQLite; PostgreSQL's autovacuum does it). */
  optimize(): Promise<void>;
  /**
   * Undefined when every write so far is durable; else a promise that settles when it is.
   * Await it before anything that depends on a write is acknowledged (the HTTP server holds
   * every answer until then). Absent when every commit is durable already (PostgreSQL).
   */
  whenDurable?: () => Promise<void> | undefined;
  /** The connections now, for metrics: PostgreSQL's pool; SQLite has its one connection. */
  connections(): { total: number; idle: number; waiting: number; max: number };
  close(): Promise<void>;
}

export interface OpenOptions {
  /**
   * Hears of every statement once it ended: its SQL text, whether it succeeded and how long
   * it took (Kysely's `log`). Unset, Kysely times nothing.
   */
  onQuery?: ((sql: string, ok: boolean, milliseconds: number) => void) | undefined;
}

/** Kysely's `log` option for `onQuery`. */
function queryLog(onQuery: OpenOptions['onQuery']): KyselyConfig['log'] {
  if (!onQuery) return undefined;
  return (event) => onQuery(event.query.sql, event.level === 'query', event.queryDurationMillis);
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** `pg` is loaded only for PostgreSQL, so the embedded set-up starts without it. */
function loadPg(): typeof PgModule {
  return createRequire(import.meta.url)('pg') as typeof PgModule;
}

/** Epoch-millisecond bigints fit a JS number exactly; read them as numbers, not strings. */
function pgTypes(pg: typeof PgModule) {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
      // biome-ignore lint/suspicious/noExplicitAny: pg's own overloads are not expressible here
      return (pg.types.getTypeParser as any)(oid, format);
    },
  };
}

export function openDatabase(database: Config['database'], options: OpenOptions = {}): Database {
  if (database.kind === 'sqlite') {
    if (database.path !== ':memory:') {
      makePrivateDir(dirname(database.path));
      makePrivateDatabase(database.path);
    }
    const sqlite = new SQLite(database.path);
    sqlite.pragma('journal_mode = WAL');
    const wal = database.path === ':memory:' ? undefined : new WalSync(`${database.path}-wal`);
    // With the WAL fsynced before every acknowledgement, NORMAL loses nothing acknowledged.
    sqlite.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Without statistics SQLite scans whole indexes for prefix searches; this gathers them
    // (cheaply, with a row limit) for tables that have none or have grown.
    sqlite.pragma('analysis_limit = 1000');
    sqlite.pragma('optimize = 0x10002');
    const db = new Kysely<DB>({
      dialect: new SqliteDialect({ database: cachingStatements(sqlite, wal ? () => wal.wrote() : undefined) }),
      log: queryLog(options.onQuery),
    });
    return {
      db,
      dialect: 'sqlite',
      async ping() {
        wal?.assertHealthy();
        await sql`select 1`.execute(db);
      },
      async optimize() {
        sqlite.pragma('optimize');
      },
      whenDurable: wal ? () => wal.whenDurable() : undefined,
      connections: () => ({ total: 1, idle: 0, waiting: 0, max: 1 }),
      async close() {
        wal?.syncNow();
        await db.destroy();
        wal?.close();
      },
    };
  }
  const pg = loadPg();
  const pool = new pg.Pool({
    connectionString: database.url,
    max: database.poolSize,
    types: pgTypes(pg),
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // A client losing its connection (PostgreSQL restarted, a network cut) must not crash the
  // process: an idle one reports it on the pool, one checked out (between two statements of a
  // transaction, say) on itself, where pg-pool listens no longer and Kysely never did. The
  // query under way fails with the error (503, http/errors.ts); the pool drops the client.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool: preparingStatements(pool) }),
    log: queryLog(options.onQuery),
  });
  return {
    db,
    dialect: 'postgres',
    async ping() {
      await sql`select 1`.execute(db);
    },
    async optimize() {},
    connections: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: database.poolSize,
    }),
    async close() {
      await db.destroy();
    },
  };
}

/**
 * PostgreSQL parses and plans every unnamed query anew. Naming a query makes `pg` prepare it
 * once per connection and reuse the plan, which on hot, short queries is much of the work.
 * Only the first few hundred distinct SQL texts are named, so that ad-hoc SQL cannot make
 * the server keep statements without bound.
 */
function preparingStatements(pool: PgModule.Pool): PgModule.Pool {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name && names.size < 500 && text.length < 8000) {
      name = `lk_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      names.set(text, name);
    }
    return name;
  };
  const patched = new WeakSet<object>();
  const connect = pool.connect.bind(pool) as () => Promise<PgModule.PoolClient>;
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== 'connect') {
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async () => {
        const client = await connect();
        if (!patched.has(client)) {
          const query = client.query.bind(client) as (...args: unknown[]) => unknown;
          (client as unknown as { query: unknown }).query = (text: unknown, values?: unknown) => {
            const name = typeof text === 'string' && Array.isArray(values) ? nameOf(text) : undefined;
            return name ? query({ name, text, values }) : query(text, values);
          };
          patched.add(client);
        }
        return client;
      };
    },
  });
}

/**
 * Group commit for SQLite. Commits run with `synchronous = NORMAL`: written to the WAL, not
 * yet fsynced. Before anything is acknowledged, an `fdatasync` of the WAL file makes every
 * commit so far durable (an fsync covers the whole file, whichever descriptor asks). So an
 * acknowledged write is as durable as with `synchronous = FULL`, while the several commits of
 * one request, and of the requests answered together, share one fsync instead of one each;
 * and the fsync runs off the main thread, which goes on serving meanwhile. Checkpoints stay
 * safe: in WAL mode NORMAL syncs the WAL before a checkpoint and the database file after it.
 */
class WalSync {
  /** Statements that may have written, so far. */
  private writes = 0;
  /** How many of them the last successful fsync covered. */
  private synced = 0;
  private inFlight: Promise<void> | undefined;
  /**
   * A failed fsync, for good: after one, the kernel may have dropped the pages it could not
   * write and report the next fsync as a success, so nothing can be vouched for any more.
   */
  private failure: Error | undefined;
  private fd: number | undefined;
  private inode = 0;

  constructor(private readonly path: string) {}

  /** A statement that may write is about to run. */
  wrote(): void {
    this.writes++;
  }

  /** Undefined when every write so far is durable; else a promise of when it is. */
  whenDurable(): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    return this.synced >= this.writes ? undefined : this.syncUpTo(this.writes);
  }

  /** Throws once an fsync has failed: the process can confirm nothing and should be replaced. */
  assertHealthy(): void {
    if (this.failure) throw this.failure;
  }

  private async syncUpTo(target: number): Promise<void> {
    while (this.synced < target) {
      this.inFlight ??= this.fsync().finally(() => {
        this.inFlight = undefined;
      });
      await this.inFlight;
    }
  }

  private async fsync(): Promise<void> {
    const covers = this.writes;
    try {
      const fd = this.walFd();
      if (fd !== undefined)
        await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.failure ??= err as Error;
      throw this.failure;
    }
    this.synced = Math.max(this.synced, covers);
  }

  /** For shutdown: everything durable now, on this thread. */
  syncNow(): void {
    const covers = this.writes;
    const fd = this.walFd();
    if (fd !== undefined) fdatasyncSync(fd);
    this.synced = Math.max(this.synced, covers);
  }

  /**
   * The WAL's descriptor, or undefined when there is no WAL (everything was checkpointed
   * into the database file, which NORMAL syncs). SQLite deletes the WAL when the last
   * connection closes and may make a new one later (another process on the same file): this
   * follows the file that is there now.
   */
  private walFd(): number | undefined {
    const inode = statSync(this.path, { throwIfNoEntry: false })?.ino;
    if (inode === undefined) return undefined;
    if (this.fd === undefined || inode !== this.inode) {
      this.close();
      // Writable: some systems (Windows) flush only files opened for writing.
      this.fd = openSync(this.path, 'r+');
      this.inode = fstatSync(this.fd).ino;
    }
    return this.fd;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares each query it runs.
 * Reusing compiled statements by their SQL text saves that work on every request. Bounded, so
 * ad-hoc SQL cannot grow it without limit. `onWrite` hears of every statement that may write,
 * and of every statement inside a transaction (the COMMIT among them), just before it runs
 * (Kysely runs what it prepares at once, in the same tick).
 */
function cachingStatements(sqlite: SQLite.Database, onWrite?: () => void): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  const cachingPrepare = (source: string) => {
    let stmt = cache.get(source);
    if (!stmt) {
      stmt = prepare(source);
      if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
      cache.set(source, stmt);
    }
    // Inside a transaction even COMMIT counts: its frames reach the WAL only then.
    if (onWrite && (!stmt.readonly || sqlite.inTransaction)) onWrite();
    return stmt;
  };
  // The database's other methods, bound once (Kysely asks for them on every query).
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return cachingPrepare;
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (!fn) {
        fn = value.bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}

/** True when the error is a unique-constraint violation in either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** True when the error is a foreign-key violation in either dialect. */
export function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * Serialises transactions that check-then-change the same rows. PostgreSQL locks the row;
 * SQLite needs nothing, as Kysely runs its transactions one at a time on one connection.
 */
export async function lockForUpdate(
  trx: Kysely<DB>,
  dialect: Dialect,
  table: 'roles' | 'users' | 'tenants' | 'api_keys',
  id: string,
): Promise<void> {
  if (dialect === 'postgres') {
    await sql`select id from ${sql.table(table)} where id = ${id} for update`.execute(trx);
  }
}
