/**
 * The databases a suite runs against: SQLite always, PostgreSQL too when TEST_DATABASE_URL
 * is set (CI sets it). Each call makes a fresh, empty database and a way to drop it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type DialectName = 'sqlite' | 'postgres';

export interface TestDatabase {
  dialect: DialectName;
  /** A DATABASE_URL for the server. */
  url: string;
  /** Directory for the data dir / secret file. */
  dataDir: string;
  drop(): Promise<void>;
}

export const pgUrl = process.env.TEST_DATABASE_URL;

/** Dialects this run covers, for `describe.each`. */
export const dialects: DialectName[] = pgUrl ? ['sqlite', 'postgres'] : ['sqlite'];

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  if (dialect === 'sqlite') {
    return {
      dialect,
      url: `sqlite:${join(dataDir, 'latchkey.db')}`,
      dataDir,
      async drop() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  if (!pgUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `lk_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    dataDir,
    async drop() {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
