/**
 * How many statements a token request costs (docs/oidc.md, "Throughput"): a refresh three (the
 * token read with its grant and user, the consume, the new tokens in one insert), a code
 * exchange likewise, client credentials none. Counted at SQLite's driver, so that losing the
 * per-request work of oidc/adapter.ts (the reads done together, the writes batched before the
 * answer) shows up here as more statements, not only in the benchmark.
 * @see issue 10
 */
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { authorize, clientCredentialsGrant, discover, redeem, serviceClient } from './helpers/oidc.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';

/** Statements SQLite runs (run/get/all/iterate of a prepared statement) while `counting`. */
const run: string[] = [];
let counting = false;
const statement = Object.getPrototypeOf(new SQLite(':memory:').prepare('select 1')) as Record<string, unknown>;
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = statement[method] as (...args: unknown[]) => unknown;
  statement[method] = function (this: { source: string }, ...args: unknown[]) {
    if (counting) run.push(this.source);
    return original.apply(this, args);
  };
}

async function counted<T>(fn: () => Promise<T>): Promise<{ statements: string[]; result: T }> {
  run.length = 0;
  counting = true;
  try {
    const result = await fn();
    return { statements: [...run], result };
  } finally {
    counting = false;
  }
}

describe('statements per token request (sqlite)', () => {
  let ts: TestServer;
  let config: oidc.Configuration;
  let tokens: oidc.TokenEndpointResponse;
  let slug: string;
  let api: Awaited<ReturnType<typeof tenantWithAdmin>>['api'];
  let authorized: Awaited<ReturnType<typeof authorize>>;

  beforeAll(async () => {
    ts = await startTestServer('sqlite');
    ({ slug, api } = await tenantWithAdmin(ts));
    const email = `u-${randomBytes(3).toString('hex')}@example.test`;
    const password = 'correct horse battery staple';
    expect((await api('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password } })).status).toBe(201);
    const web = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    config = await discover(ts, slug, web.body);
    authorized = await authorize(
      config,
      new Browser(),
      redirectUri,
      { email, password },
      { scope: 'openid offline_access' },
    );
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('exchanges a code in three statements', async () => {
    const { statements, result } = await counted(() => redeem(config, authorized));
    tokens = result;
    expect(tokens.refresh_token).toBeTruthy();
    expect(statements, statements.join('\n')).toHaveLength(3);
  });

  it('refreshes in three statements, the token read with its grant and its user', async () => {
    const { statements, result } = await counted(() => oidc.refreshTokenGrant(config, tokens.refresh_token as string));
    expect(result.refresh_token).toBeTruthy();
    expect(statements, statements.join('\n')).toHaveLength(3);
    expect(statements[0]).toMatch(/left join "oidc_payloads" as "g".*left join "users"/s);
    expect(statements[1]).toMatch(/^update "oidc_payloads" set "consumed_at"/);
    expect(statements[2]).toMatch(/^insert into "oidc_payloads"/);
  });

  it('grants client credentials without a statement', async () => {
    const client = await serviceClient(api, slug);
    await clientCredentialsGrant(ts, slug, client);
    const { statements, result } = await counted(() => clientCredentialsGrant(ts, slug, client));
    expect(result.status).toBe(200);
    expect(statements, statements.join('\n')).toEqual([]);
  });
});
