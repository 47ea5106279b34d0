/**
 * The benchmark's databases: a SQLite file in a temporary directory, or a fresh PostgreSQL
 * database created for the run and dropped after it; and bulk inserts of seeded users
 * straight into the users table (no API, no password hashing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { userColumns } from './people.mjs';

export const defaultPostgresUrl = 'postgres://postgres@127.0.0.1:5432/test';

/** A temporary directory holding the SQLite file and the server's key file. */
export function createSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const path = join(dir, 'latchkey.db');
  return {
    dialect: 'sqlite',
    url: `sqlite:${path}`,
    dataDir: dir,
    path,
    async insertUsers(rows) {
      insertSqlite(path, rows);
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Null when PostgreSQL cannot be reached at `baseUrl` (with the reason). */
export async function probePostgres(baseUrl) {
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query('show server_version');
    return { ok: true, version: rows[0]?.server_version };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message || err.constructor.name : String(err) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** A new, empty PostgreSQL database on the server of `baseUrl`. */
export async function createPostgres(baseUrl) {
  const name = `latchkey_bench_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 3000 });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  return {
    dialect: 'postgres',
    url: url.toString(),
    dataDir: dir,
    name,
    async insertUsers(rows) {
      await insertPostgres(url.toString(), rows);
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 3000 });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

function insertSqlite(path, rows) {
  const db = new SQLite(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    const insert = db.prepare(
      `insert into users (${userColumns.join(', ')}) values (${userColumns.map((c) => `@${c}`).join(', ')})`,
    );
    const insertMany = db.transaction((batch) => {
      for (const row of batch) insert.run(row);
    });
    for (let i = 0; i < rows.length; i += 10_000) insertMany(rows.slice(i, i + 10_000));
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

async function insertPostgres(url, rows) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const batchSize = 1000;
    await client.query('begin');
    for (let i = 0; i < rows.length; i += batchSize) {
      const batch = rows.slice(i, i + batchSize);
      const params = [];
      const tuples = batch.map((row) => {
        const slots = userColumns.map((c) => {
          params.push(row[c]);
          return `$${params.length}`;
        });
        return `(${slots.join(', ')})`;
      });
      await client.query(`insert into users (${userColumns.join(', ')}) values ${tuples.join(', ')}`, params);
    }
    await client.query('commit');
    // What autovacuum does within a minute of such an insert anyway: statistics for the
    // planner and a visibility map, so that the figures show the steady state.
    await client.query('vacuum analyze users');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
}
