/**
 * The `latchkey` command as an operator runs it: a child process of the built CLI
 * (`node packages/server/dist/cli.js`), its exit codes, what it prints, first and later
 * starts, concurrent starts, signals, readiness, and `latchkey migrate`.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../src/passwords/hash.js';
import { createTestDatabase, type DialectName, dialects, pgUrl, type TestDatabase } from './helpers/databases.js';
import { assertCliBuilt, cleanUp, runCli, startServe, tempDir } from './helpers/process.js';
import { apiClient, randomApiKey, startTestServer } from './helpers/server.js';

const secret = 'process-test-secret-process-test-secret-0';

/** Non-empty stderr lines. */
const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

const keyPattern = /lk_[A-Za-z0-9_-]{43,}/;

beforeAll(() => {
  assertCliBuilt();
});
afterAll(async () => {
  await cleanUp();
});

/** SQL against the test database, whichever dialect. */
async function query<T>(db: TestDatabase, text: string, params: unknown[] = []): Promise<T[]> {
  if (db.dialect === 'sqlite') {
    const sqlite = new SQLite(db.url.slice('sqlite:'.length), { readonly: true });
    try {
      return sqlite.prepare(text.replace(/\$\d+/g, '?')).all(...params) as T[];
    } finally {
      sqlite.close();
    }
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * A POST whose headers reach the server (proved by its `100 Continue`) while its body is
 * held back until `send()`: a request that is in flight for as long as the test wants.
 */
function heldPost(url: string, path: string, token: string, body: unknown, agent: Agent) {
  const payload = JSON.stringify(body);
  const req = request(`${url}${path}`, {
    method: 'POST',
    agent,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      expect: '100-continue',
    },
  });
  const continued = new Promise<void>((resolve) => req.once('continue', () => resolve()));
  const response = new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
      res.once('error', reject);
    });
  });
  req.flushHeaders();
  return { continued, response, send: () => req.end(payload) };
}

/** Waits until the server refuses new work (503 or no connection): it has begun to shut down. */
async function untilClosing(url: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      if (res.status === 503) return;
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the server never began to shut down');
}

// Short-lived processes that never touch a database: run them side by side.
describe.concurrent('latchkey command line', () => {
  it('prints usage for --help and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: latchkey/m);
    for (const command of ['serve', 'migrate', 'bootstrap']) expect(run.stdout).toContain(command);
  });

  it('refuses an unknown command with one line and a non-zero exit', async () => {
    const run = await runCli(['frobnicate']);
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('frobnicate');
    expect(run.stdout).toBe('');
  });

  it.each([
    ['PORT', 'abc'],
    ['DATABASE_URL', 'mysql://x'],
    ['LOG_LEVEL', 'loud'],
    ['LATCHKEY_BOOTSTRAP_API_KEY', 'lk_short-and-secret'],
  ])('stops on a bad %s with one stderr line naming it', async (name, value) => {
    const cwd = tempDir();
    const run = await runCli(['serve'], { [name]: value, LATCHKEY_SECRET: secret }, cwd);
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(lines(run.stderr), run.stderr).toHaveLength(1);
    expect(run.stderr).toContain(name);
    expect(run.stdout).toBe('');
    if (name.endsWith('API_KEY')) expect(run.stderr).not.toContain(value);
  });
});

describe('first and later starts on an empty SQLite data directory', () => {
  const cwd = tempDir();
  let apiKey = '';
  let password = '';

  it('migrates, creates the admin and prints the email, a generated password and a generated API key', async () => {
    const server = await startServe({ LOG_LEVEL: 'info' }, cwd);
    try {
      await server.ready();
      const out = server.stdout();
      expect(out).toMatch(/email:\s+admin@localhost/);
      password = /password:\s+(\S+)/.exec(out)?.[1] ?? '';
      expect(password.length).toBeGreaterThanOrEqual(16);
      expect(password).not.toContain('LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD');
      apiKey = /System API key \(system:admin\): (lk_\S+)/.exec(out)?.[1] ?? '';
      expect(apiKey).toMatch(new RegExp(`^${keyPattern.source}$`));

      const res = await apiClient(server.url, apiKey)('GET', '/api/v1/tenants');
      expect(res.status).toBe(200);
      expect(res.body.items.map((t: { slug: string }) => t.slug)).toContain('system');
      expect((await apiClient(server.url, null)('GET', '/api/v1/tenants')).status).toBe(401);

      // The printed password is the admin's real one (checked against the stored hash).
      const db = new SQLite(join(cwd, 'data', 'latchkey.db'), { readonly: true });
      const row = db.prepare('select password_hash from users where email = ?').get('admin@localhost') as
        | { password_hash: string }
        | undefined;
      db.close();
      expect(row?.password_hash).toMatch(/^\$argon2id\$/);
      expect(await verifyPassword(row?.password_hash ?? '', password)).toBe(true);
      expect(await verifyPassword(row?.password_hash ?? '', `${password}x`)).toBe(false);

      // Without LATCHKEY_SECRET the instance key lives in the data directory, for its owner only.
      expect(statSync(join(cwd, 'data', 'secret.key')).mode & 0o077).toBe(0);
      // The secrets appear once, in the message, and nowhere in the logs.
      expect(out.split(apiKey)).toHaveLength(3); // the key line and the curl example
      expect(server.stderr()).not.toContain(apiKey);
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }
  });

  it('prints none of them on the next start, and the old key still works', async () => {
    expect(apiKey).not.toBe('');
    const server = await startServe({ LOG_LEVEL: 'info' }, cwd);
    try {
      await server.ready();
      const out = server.stdout() + server.stderr();
      expect(out).not.toMatch(/password:/);
      expect(out).not.toContain(password);
      expect(out).not.toMatch(keyPattern);
      expect(out).not.toContain('System API key');
      const res = await apiClient(server.url, apiKey)('GET', '/api/v1/tenants');
      expect(res.status).toBe(200);
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }
  });
});

describe('LATCHKEY_BOOTSTRAP_API_KEY', () => {
  it('works as soon as a fresh server is ready, and is never printed', async () => {
    const key = randomApiKey();
    const adminPassword = `Pw-${randomBytes(9).toString('hex')}`;
    const server = await startServe({
      LOG_LEVEL: 'info',
      LATCHKEY_SECRET: secret,
      LATCHKEY_BOOTSTRAP_API_KEY: key,
      LATCHKEY_BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com',
      LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    });
    try {
      await server.ready();
      const api = apiClient(server.url, key);
      const created = await api('POST', '/api/v1/tenants', { body: { slug: 'acme-boot', displayName: 'Acme' } });
      expect(created.status).toBe(201);
      const out = server.stdout() + server.stderr();
      expect(out).toMatch(/email:\s+ops@example\.com/);
      expect(out).not.toContain(key);
      expect(out).not.toContain(adminPassword);
      expect((await apiClient(server.url, randomApiKey())('GET', '/api/v1/tenants')).status).toBe(401);
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }
  });
});

describe.skipIf(!pgUrl)('two processes starting at once on one fresh PostgreSQL database', () => {
  it('create exactly one system tenant, admin and API key, and both serve', async () => {
    const db = await createTestDatabase('postgres');
    const env = { DATABASE_URL: db.url, LATCHKEY_SECRET: secret, LOG_LEVEL: 'warn' };
    const [a, b] = await Promise.all([startServe(env), startServe(env)]);
    try {
      await Promise.all([a.ready(), b.ready()]);
      const count = async (sql: string) => Number((await query<{ n: string }>(db, sql))[0]?.n);
      expect(await count(`select count(*) as n from tenants where slug = 'system'`)).toBe(1);
      expect(await count('select count(*) as n from tenants')).toBe(1);
      expect(await count('select count(*) as n from users')).toBe(1);
      expect(await count('select count(*) as n from api_keys')).toBe(1);
      expect(await count('select count(*) as n from user_roles')).toBe(1);
      expect(await count(`select count(*) as n from audit_events where action = 'system.bootstrap'`)).toBe(1);
      expect(await count('select count(*) as n from latchkey_migrations')).toBe(
        await count('select count(distinct name) as n from latchkey_migrations'),
      );

      const printed = [a.stdout(), b.stdout()].filter((out) => out.includes('System API key'));
      expect(printed).toHaveLength(1);
      const key = keyPattern.exec(printed[0] ?? '')?.[0] ?? '';
      for (const server of [a, b]) {
        const res = await apiClient(server.url, key)('GET', '/api/v1/tenants');
        expect(res.status).toBe(200);
        expect(res.body.items).toHaveLength(1);
      }
    } finally {
      const exits = await Promise.all([a.stop(), b.stop()]);
      await db.drop();
      expect(exits).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
    }
  });
});

describe.each(dialects)('signals and readiness (%s)', (dialect: DialectName) => {
  const key = randomApiKey();
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });
  const env = () => ({
    DATABASE_URL: db.url,
    LATCHKEY_DATA_DIR: db.dataDir,
    LATCHKEY_SECRET: secret,
    LATCHKEY_BOOTSTRAP_API_KEY: key,
    LOG_LEVEL: 'warn',
  });

  it('lets in-flight requests finish on SIGTERM, then exits 0', async () => {
    const server = await startServe(env());
    let exit: Awaited<ReturnType<typeof server.stop>> | undefined;
    try {
      await server.ready();
      const api = apiClient(server.url, key);
      const slug = `sig-${randomBytes(3).toString('hex')}`;
      expect((await api('POST', '/api/v1/tenants', { body: { slug, displayName: 'Signals' } })).status).toBe(201);

      // Three user creations with a password (argon2 hashing is the slow part), each already
      // routed by the server, their bodies still to come. The client keeps connections alive
      // for as long as the server allows, as a load balancer would.
      const agent = new Agent({ keepAlive: true });
      const emails = [1, 2, 3].map((i) => `inflight-${i}-${randomBytes(3).toString('hex')}@example.com`);
      const held = emails.map((email) =>
        heldPost(
          server.url,
          `/api/v1/tenants/${slug}/users`,
          key,
          { email, password: `Unguessable-${randomBytes(8).toString('hex')}` },
          agent,
        ),
      );
      await Promise.all(held.map((h) => h.continued));

      server.child.kill('SIGTERM');
      await untilClosing(server.url);
      for (const h of held) h.send();
      const responses = await Promise.all(held.map((h) => h.response));
      for (const res of responses) {
        expect(res.status, res.body).toBe(201);
        // A kept-alive connection must not hold the shutdown open (until the timeout, exit 1).
        expect(res.connection).toBe('close');
      }
      exit = await server.exited;
      agent.destroy();

      const rows = await query<{ email: string; password_hash: string | null }>(
        db,
        `select email, password_hash from users where email in ($1, $2, $3)`,
        emails,
      );
      expect(rows.map((r) => r.email).sort()).toEqual([...emails].sort());
      for (const row of rows) expect(row.password_hash).toMatch(/^\$argon2id\$/);
    } finally {
      exit ??= await server.stop();
    }
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('exits 0 on SIGINT', async () => {
    const server = await startServe(env());
    await server.ready();
    expect((await apiClient(server.url, key)('GET', '/api/v1/tenants')).status).toBe(200);
    expect(await server.stop('SIGINT')).toEqual({ code: 0, signal: null });
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it.runIf(dialect === 'postgres')(
    'answers /readyz 503 when the database is gone, while /healthz stays 200',
    async () => {
      const ts = await startTestServer('postgres');
      try {
        expect((await ts.api('GET', '/readyz', { token: null })).status).toBe(200);
        const name = new URL(ts.database.url).pathname.slice(1);
        const admin = new pg.Client({ connectionString: pgUrl });
        await admin.connect();
        try {
          await admin.query(`drop database ${name} with (force)`);
        } finally {
          await admin.end();
        }
        const ready = await ts.api('GET', '/readyz', { token: null });
        expect(ready.status).toBe(503);
        expect(ready.text).not.toMatch(/does not exist|password|postgres:\/\//i);
        expect((await ts.api('GET', '/healthz', { token: null })).status).toBe(200);
      } finally {
        await ts.close();
      }
    },
  );
});

describe.each(dialects)('latchkey migrate (%s)', (dialect: DialectName) => {
  it('applies the migrations to an empty database, then says it is up to date', async () => {
    const db = await createTestDatabase(dialect);
    try {
      const env = { DATABASE_URL: db.url, LATCHKEY_DATA_DIR: db.dataDir, LATCHKEY_SECRET: secret, LOG_LEVEL: 'warn' };
      const first = await runCli(['migrate'], env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^applied: 0001_core/m);
      const second = await runCli(['migrate'], env);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/database is up to date/);
      expect(second.stdout).not.toMatch(/applied:/);
      // migrate only migrates: nothing is bootstrapped.
      const tenants = await query<{ n: number | string }>(db, 'select count(*) as n from tenants');
      expect(Number(tenants[0]?.n)).toBe(0);
    } finally {
      await db.drop();
    }
  });

  it('is safe when four processes migrate one fresh database at the same moment', async () => {
    const db = await createTestDatabase(dialect);
    try {
      const env = { DATABASE_URL: db.url, LATCHKEY_DATA_DIR: db.dataDir, LATCHKEY_SECRET: secret, LOG_LEVEL: 'warn' };
      const runs = await Promise.all([1, 2, 3, 4].map(() => runCli(['migrate'], env)));
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      const applied = runs.flatMap((r) => /^applied: (.*)$/m.exec(r.stdout)?.[1]?.split(', ') ?? []);
      expect(new Set(applied).size).toBe(applied.length);
      const recorded = await query<{ name: string }>(db, 'select name from latchkey_migrations order by name');
      expect(recorded.map((r) => r.name)).toEqual([...applied].sort());
    } finally {
      await db.drop();
    }
  });
});
