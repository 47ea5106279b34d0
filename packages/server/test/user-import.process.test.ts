/**
 * A user import across a SIGKILL, and the `latchkey users` CLI: a server killed while it
 * applies an acknowledged import loses no line, and the next server on the same database
 * finishes the job (after the dead node's lease); the CLI uploads with its progress, reports
 * refused lines by number with exit code 1, and exports to a file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, dialects, type TestDatabase } from './helpers/databases.js';
import { assertCliBuilt, cleanUp, runCli, startServe, tempDir } from './helpers/process.js';
import { apiClient, randomApiKey, startTestServer, type TestServer } from './helpers/server.js';

beforeAll(() => {
  assertCliBuilt();
});
afterAll(async () => {
  await cleanUp();
});

const LINES = 40_000;

describe.each(dialects)('a user import across a SIGKILL (%s)', (dialect) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('loses no acknowledged line: the next server finishes the job', async () => {
    const key = randomApiKey();
    const env = {
      DATABASE_URL: db.url,
      LATCHKEY_DATA_DIR: db.dataDir,
      LATCHKEY_SECRET: 'import-crash-secret-import-crash-secret-1',
      LATCHKEY_BOOTSTRAP_API_KEY: key,
      LOG_LEVEL: 'silent',
    };
    const first = await startServe(env);
    await first.ready();
    const api = apiClient(first.url, key);
    expect((await api('POST', '/api/v1/tenants', { body: { slug: 'crash', displayName: 'Crash' } })).status).toBe(201);
    const body = Array.from({ length: LINES }, (_, i) => JSON.stringify({ email: `u${i}@example.test` })).join('\n');
    const res = await api('POST', '/api/v1/tenants/crash/users/import', {
      rawBody: body,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(res.status, res.text).toBe(202);
    // Killed once part of it is applied.
    for (let job = res.body; ; ) {
      if (job.processed > 0) {
        expect(job.processed).toBeLessThan(LINES);
        break;
      }
      job = (await api('GET', `/api/v1/tenants/crash/users/imports/${res.body.id}`)).body;
    }
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');

    const second = await startServe(env);
    await second.ready();
    const again = apiClient(second.url, key);
    let job = res.body;
    const until = Date.now() + 40_000;
    while (job.status !== 'done') {
      if (Date.now() > until) throw new Error(`not finished: ${JSON.stringify(job)}`);
      await new Promise((r) => setTimeout(r, 200));
      job = (await again('GET', `/api/v1/tenants/crash/users/imports/${res.body.id}`)).body;
    }
    expect(job).toMatchObject({ lines: LINES, processed: LINES, created: LINES, existing: 0, failed: 0 });
    const exported = await again('GET', '/api/v1/tenants/crash/users/export');
    const emails = new Set(
      exported.text
        .trim()
        .split('\n')
        .map((l: string) => JSON.parse(l).email),
    );
    expect(emails.size).toBe(LINES);
    for (const i of [0, 1, LINES / 2, LINES - 1]) expect(emails.has(`u${i}@example.test`)).toBe(true);
    await second.stop();
  }, 120_000);
});

describe('latchkey users import / export', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer('sqlite');
    expect((await ts.api('POST', '/api/v1/tenants', { body: { slug: 'cli', displayName: 'CLI' } })).status).toBe(201);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('imports a file with a progress report and refused lines by number, and exports it back', async () => {
    const dir = tempDir();
    const file = join(dir, 'users.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ email: 'one@example.test', displayName: 'One' })}\n{oops\n${JSON.stringify({ email: 'two@example.test' })}\n`,
    );
    const env = { LATCHKEY_API_KEY: ts.adminKey };
    const dry = await runCli(['users', 'import', file, '--tenant', 'cli', '--url', ts.url, '--dry-run'], env, dir);
    expect(dry.stdout).toMatch(/dry run: nothing written\): 3 lines, 2 created, 0 existing .*1 refused/);
    expect((await ts.api('GET', '/api/v1/tenants/cli/users')).body.items).toHaveLength(0);

    const run = await runCli(['users', 'import', file, '--tenant', 'cli', '--url', ts.url], env, dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/done: 3 lines, 2 created, 0 existing .*1 refused/);
    expect(run.stdout).toContain('line 2: invalid_json');
    expect(run.stderr).toContain('importing');
    expect((await ts.api('GET', '/api/v1/tenants/cli/users')).body.items).toHaveLength(2);

    const out = join(dir, 'out.jsonl');
    const exported = await runCli(['users', 'export', '--tenant', 'cli', '--url', ts.url, '--out', out], env, dir);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain('exported 2 users');
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.email).sort()).toEqual(['one@example.test', 'two@example.test']);

    // The export imports as it is: nothing changes.
    const back = await runCli(['users', 'import', out, '--tenant', 'cli', '--url', ts.url], env, dir);
    expect(back.code, back.stdout).toBe(0);
    expect(back.stdout).toMatch(/2 lines, 0 created, 2 existing/);

    const usage = await runCli(['users', 'import', file, '--url', ts.url], env, dir);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--tenant <slug> is required');
    const refused = await runCli(
      ['users', 'import', file, '--tenant', 'cli', '--url', ts.url],
      { LATCHKEY_API_KEY: 'lk_wrong' },
      dir,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('401');
  });
});
