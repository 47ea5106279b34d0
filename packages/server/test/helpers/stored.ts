/**
 * Everything a test server has stored, as text to search: every row of every table (as JSON)
 * and, on SQLite, the database's raw files (with the WAL). For "this secret is nowhere in
 * clear" checks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { TestServer } from './server.js';

export async function everythingStored(ts: TestServer): Promise<{ rows: string; files: string }> {
  const db = ts.server.ctx.database.db;
  const tables =
    ts.dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(db);
  let rows = '';
  for (const { name } of tables.rows) {
    rows += JSON.stringify((await sql`select * from ${sql.table(name)}`.execute(db)).rows);
  }
  let files = '';
  if (ts.dialect === 'sqlite') {
    const dir = ts.database.dataDir;
    const names = readdirSync(dir).filter((f) => f.startsWith('latchkey.db'));
    files = names.map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
  }
  return { rows, files };
}
