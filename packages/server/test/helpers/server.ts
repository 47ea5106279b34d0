/**
 * Starts a real Latchkey server (the same `startServer` the CLI uses) on 127.0.0.1 and a
 * free port, against a fresh database, and offers a small fetch-based client. Tests talk
 * HTTP to it like any other client would.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, type StartOptions, startServer } from '../../src/main.js';
import { createTestDatabase, type DialectName, type TestDatabase } from './databases.js';

export interface TestServer {
  url: string;
  dialect: DialectName;
  /** The bootstrap system:admin API key. */
  adminKey: string;
  adminEmail: string;
  adminPassword: string;
  server: RunningServer;
  database: TestDatabase;
  /** Text the server printed on first start. */
  printed: string[];
  api: ApiClient;
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are whatever the server sent; tests assert on them
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Raw body text (sent as is, with the content type given or JSON). */
  rawBody?: string;
  headers?: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: as above
export type ApiClient = <T = any>(method: string, path: string, options?: RequestOptions) => Promise<ApiResponse<T>>;

export function apiClient(baseUrl: string, defaultToken: string | null): ApiClient {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? defaultToken : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if (res.headers.get('content-type')?.includes('application/json') && text.length > 0) {
      parsed = JSON.parse(text);
    }
    return { status: res.status, headers: res.headers, body: parsed as never, text };
  };
}

export function randomApiKey(): string {
  return `lk_${randomBytes(32).toString('base64url')}`;
}

/**
 * `options.logDestination`: where the server's log lines go (see `captureLog`); set
 * `LOG_LEVEL` in `env` too, as tests log nothing unless TEST_LOG_LEVEL says so.
 */
export async function startTestServer(
  dialect: DialectName,
  env: Record<string, string> = {},
  existing?: TestDatabase,
  options: Pick<StartOptions, 'logDestination'> = {},
): Promise<TestServer> {
  const database = existing ?? (await createTestDatabase(dialect));
  const adminKey = env.LATCHKEY_BOOTSTRAP_API_KEY ?? randomApiKey();
  const adminEmail = env.LATCHKEY_BOOTSTRAP_ADMIN_EMAIL ?? 'admin@example.test';
  const adminPassword = env.LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD ?? `pw-${randomBytes(12).toString('hex')}`;
  const port = env.PORT ?? String(await freePort());
  const config = loadConfig({
    PORT: port,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.url,
    LATCHKEY_DATA_DIR: database.dataDir,
    LATCHKEY_SECRET: 'test-secret-test-secret-test-secret-0123',
    LATCHKEY_BOOTSTRAP_API_KEY: adminKey,
    LATCHKEY_BOOTSTRAP_ADMIN_EMAIL: adminEmail,
    LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    ...env,
  });
  const printed: string[] = [];
  const server = await startServer(config, { print: (t) => printed.push(t), ...options });
  return {
    url: server.url,
    dialect,
    adminKey,
    adminEmail,
    adminPassword,
    server,
    database,
    printed,
    api: apiClient(server.url, adminKey),
    async close() {
      await server.close();
      if (!existing) await database.drop();
    },
  };
}

/** A log destination that keeps every line the server writes, for tests that read its logs. */
export function captureLog(): { write(line: string): void; lines: string[]; text(): string } {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    text: () => lines.join(''),
  };
}

/** A port that was free a moment ago (the server needs it up front to know its issuer URLs). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let counter = 0;
/** A slug no other test in this run uses. */
export function uniqueSlug(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${randomBytes(3).toString('hex')}-${counter}`;
}

/** Creates a tenant and returns its slug. */
export async function createTenant(api: ApiClient, slug = uniqueSlug()): Promise<string> {
  const res = await api('POST', '/api/v1/tenants', { body: { slug, displayName: `Tenant ${slug}` } });
  if (res.status !== 201) throw new Error(`tenant create failed: ${res.status} ${res.text}`);
  return slug;
}

/** Creates an API key in a tenant with the given roles, made by `api`'s credential. */
export async function createApiKey(api: ApiClient, slug: string, roles: string[], name = 'test key'): Promise<string> {
  const res = await api('POST', `/api/v1/tenants/${slug}/api-keys`, { body: { name, roles } });
  if (res.status !== 201) throw new Error(`api key create failed: ${res.status} ${res.text}`);
  return res.body.secret as string;
}

/** A tenant with an API key holding `tenant:admin` there, and a client using it. */
export async function tenantWithAdmin(ts: TestServer, slug = uniqueSlug()) {
  await createTenant(ts.api, slug);
  const key = await createApiKey(ts.api, slug, ['tenant:admin'], 'tenant admin');
  return { slug, key, api: apiClient(ts.url, key) };
}

/**
 * A PATCH (of `patch`) and a DELETE of `resource`, sent at once with the same If-Match "1":
 * exactly one wins, and the other is told why: the version moved on (412), or it is gone (404).
 */
export async function expectOneOfPatchAndDelete(api: ApiClient, resource: string, patch: unknown): Promise<void> {
  const headers = { 'if-match': '"1"' };
  const [patched, deleted] = await Promise.all([
    api('PATCH', resource, { body: patch, headers }),
    api('DELETE', resource, { headers }),
  ]);
  const statuses = [patched.status, deleted.status];
  const texts = `${patched.text} ${deleted.text}`;
  expect([...statuses].sort(), texts).not.toEqual([200, 204]);
  expect(
    statuses.filter((s) => s === 200 || s === 204),
    texts,
  ).toHaveLength(1);
  expect(
    [
      [200, 412],
      [412, 204],
      [404, 204],
    ],
    texts,
  ).toContainEqual(statuses);
}
