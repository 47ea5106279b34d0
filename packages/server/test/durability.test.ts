/**
 * SQLite group commit (db/database.ts, WalSync): commits are written to the WAL without an
 * fsync each, and every answer, from any route (Fastify's or oidc-provider's), waits for one
 * fsync of everything written so far. When that fsync fails, nothing is confirmed: the
 * connection is dropped instead of answered. (An fsync failure cannot be caused here; the
 * test stands in for it at the database's `makeDurable`.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { startTestServer, type TestServer, uniqueSlug } from './helpers/server.js';

describe('answers wait for durable writes (SQLite)', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('makes writes durable before answering, and drops the connection when it cannot', async () => {
    const database = ts.server.ctx.database;
    const real = database.whenDurable;
    expect(real).toBeTypeOf('function');
    let calls = 0;
    let failing = false;
    database.whenDurable = () => {
      calls++;
      if (failing) return Promise.reject(new Error('EIO: simulated fsync failure'));
      return real?.();
    };
    try {
      const slug = uniqueSlug();
      const created = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: 'Durable' } });
      expect(created.status, created.text).toBe(201);
      expect(calls).toBeGreaterThan(0);
      // A write is durable by the time its answer arrives: nothing is left to sync.
      expect(real?.()).toBeUndefined();

      failing = true;
      const unconfirmed = uniqueSlug();
      await expect(
        ts.api('POST', '/api/v1/tenants', { body: { slug: unconfirmed, displayName: 'Not confirmed' } }),
      ).rejects.toThrow();
      // oidc-provider writes its own answers; they wait too. Koa's default error printer (a
      // stack on stderr) stays quiet: the failure goes to the server's log, once.
      const printed = vi.spyOn(console, 'error');
      try {
        await expect(fetch(`${ts.url}/t/${slug}/.well-known/openid-configuration`)).rejects.toThrow();
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(printed).not.toHaveBeenCalled();
      } finally {
        printed.mockRestore();
      }
      failing = false;

      const discovery = await fetch(`${ts.url}/t/${slug}/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
      expect((await ts.api('GET', `/api/v1/tenants/${slug}`)).status).toBe(200);
    } finally {
      database.whenDurable = real;
    }
  });

  it('counts a commit as a write: an fsync between a transaction’s insert and its commit does not cover it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-durable-'));
    const database = openDatabase({ kind: 'sqlite', path: join(dir, 'db.sqlite') });
    try {
      await sql`create table t (x integer)`.execute(database.db);
      await database.whenDurable?.();
      expect(database.whenDurable?.()).toBeUndefined();
      await database.db.transaction().execute(async (trx) => {
        await sql`insert into t values (1)`.execute(trx);
        // Another answer leaves meanwhile: an fsync runs before the commit writes its frames.
        await database.whenDurable?.();
      });
      const pending = database.whenDurable?.();
      expect(pending).toBeInstanceOf(Promise);
      await pending;
      expect(database.whenDurable?.()).toBeUndefined();
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs SQLite with synchronous=NORMAL only because of that barrier', async () => {
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(ts.server.ctx.database.db);
    // 1 = NORMAL (2 would be FULL): safe only with whenDurable before every answer.
    expect(rows[0]?.synchronous).toBe(1);
  });
});
