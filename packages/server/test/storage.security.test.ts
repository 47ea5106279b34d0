/**
 * Nothing stored redeems anything, and the SQLite files are their owner's alone (issue 9,
 * items 3 and 4). A full sign-in with refresh collects every secret a client and a browser
 * see (code, tokens, cookies, client secrets, API keys, passwords); then every column of
 * every table is read, as a copy of the database would be, and none of them may be there:
 * raw, inside JSON, or base64url-encoded. A public client's refresh token cannot be redeemed
 * from what the database holds. Rows stored before the fix are cleaned by migration 0006.
 *
 * @see issue 9
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up as stripPayloadValues } from '../src/db/migrations/0006_oidc_payload_values.js';
import type { DB } from '../src/db/schema.js';
import { DbAdapter } from '../src/oidc/adapter.js';
import { Browser } from './helpers/browser.js';
import { dialects, type TestDatabase } from './helpers/databases.js';
import {
  authorizationRequest,
  authorize,
  clientCredentialsGrant,
  discover,
  insecure,
  redeem,
  serviceClient,
  tokenRequest,
} from './helpers/oidc.js';
import { randomApiKey, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const offline = { scope: 'openid email profile offline_access', prompt: 'consent' };
const noClients = { clientMetadata: async () => undefined };
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** A browser that remembers every cookie value it was ever sent (the jar forgets cleared ones). */
function recordingBrowser(): { browser: Browser; cookies: string[] } {
  const browser = new Browser();
  const cookies: string[] = [];
  const store = browser.jar.store.bind(browser.jar);
  browser.jar.store = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const value = pair.slice(pair.indexOf('=') + 1).trim();
      if (value) cookies.push(value);
    }
    store(res);
  };
  return { browser, cookies };
}

/** An authorization request pushed first (RFC 9126), run in a signed-in `browser` up to the redirect back. */
async function authorizeWithPar(config: oidc.Configuration, browser: Browser, params: Record<string, string>) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = await oidc.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectUri,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
  const page = await browser.go(url, { stopAt: (u) => u.href.startsWith(redirectUri) });
  expect(page.url.searchParams.get('code'), page.html.slice(0, 300)).toBeTruthy();
  return { callback: page.url, verifier, state, nonce };
}

/**
 * Every value of every column of every table, as text, with what it holds decoded: the
 * strings inside JSON and the base64url runs (a JWT's parts, an encoded payload) as text.
 */
async function everythingStored(db: Kysely<DB>): Promise<string[]> {
  const out: string[] = [];
  const add = (text: string) => {
    out.push(text);
    for (const run of text.match(/[A-Za-z0-9_-]{16,}/g) ?? []) out.push(Buffer.from(run, 'base64url').toString('utf8'));
  };
  const walk = (value: unknown) => {
    if (typeof value === 'string') add(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        add(k);
        walk(v);
      }
    }
  };
  const tables = await db.introspection.getTables();
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['oidc_payloads', 'api_keys', 'clients']));
  for (const table of tables) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table.name)}`.execute(db);
    for (const row of rows) {
      for (const cell of Object.values(row)) {
        if (cell === null || cell === undefined) continue;
        const text = Buffer.isBuffer(cell) ? cell.toString('utf8') : String(cell);
        add(text);
        try {
          walk(JSON.parse(text));
        } catch {
          // Not JSON: searched as text.
        }
      }
    }
  }
  return out;
}

function expectNoneStored(stored: string[], secrets: Record<string, string[]>): void {
  for (const [what, values] of Object.entries(secrets)) {
    for (const value of values) {
      expect(value.length, what).toBeGreaterThanOrEqual(16);
      const where = stored.find((text) => text.includes(value));
      expect(where, `${what} is stored: …${where?.slice(0, 300)}`).toBeUndefined();
    }
  }
}

describe.each(dialects)('nothing stored redeems anything (%s)', (dialect) => {
  let ts: TestServer;
  let db: Kysely<DB>;
  let slug: string;
  let tenantKey: string;
  let tenantId: string;
  const alice = { email: 'alice@example.test', password: 'correct horse battery staple' };

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    db = ts.server.ctx.database.db;
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    tenantKey = t.key;
    tenantId = (await ts.api('GET', `/api/v1/tenants/${slug}`)).body.id as string;
    const user = await t.api('POST', `/api/v1/tenants/${slug}/users`, { body: { ...alice, emailVerified: true } });
    expect(user.status, user.text).toBe(201);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('keeps no code, token, cookie, secret or password that a client or browser saw', async () => {
    const web = await ts.api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'Web', redirectUris: [redirectUri], firstParty: true },
    });
    expect(web.status, web.text).toBe(201);
    const config = await discover(ts, slug, { clientId: web.body.clientId, clientSecret: web.body.clientSecret });
    const { browser, cookies } = recordingBrowser();
    const signedIn = await authorize(config, browser, redirectUri, alice, offline);
    expect(signedIn.signInShown).toBe(true);
    const code = signedIn.callback.searchParams.get('code') ?? '';
    const tokens = await redeem(config, signedIn);
    // No resource: an opaque access token, which is stored (for userinfo and introspection).
    expect(tokens.access_token.split('.')).toHaveLength(1);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    // Signed in already: a second authorization, pushed first (PAR, stored like the rest),
    // reuses the session (and its cookie).
    const again = await authorizeWithPar(config, browser, offline);
    const secondCode = again.callback.searchParams.get('code') ?? '';
    const second = await redeem(config, again);
    const service = await serviceClient(ts.api, slug);
    const firstSecret = service.secret;
    const rotated = await ts.api('POST', `/api/v1/tenants/${slug}/clients/${service.rowId}/secret`);
    expect(rotated.status, rotated.text).toBe(200);
    service.secret = rotated.body.clientSecret as string;
    const serviceToken = await clientCredentialsGrant(ts, slug, service);
    expect(serviceToken.status, JSON.stringify(serviceToken.body)).toBe(200);
    // An interaction under way for a signed-in browser (its payload names the session):
    // the store is read then too.
    const { url } = await authorizationRequest(config, redirectUri, { ...offline, prompt: 'login' });
    const page = await browser.go(url);
    expect(page.html).toContain('<button type="submit">Sign in</button>');
    const midway = await everythingStored(db);
    expect(cookies.length).toBeGreaterThanOrEqual(4);

    const stored = [...midway, ...(await everythingStored(db))];
    // The check can see: the refresh token's SHA-256 is its row's key.
    expect(stored).toContain(sha256(refreshed.refresh_token ?? ''));
    expectNoneStored(stored, {
      'authorization code': [code, secondCode],
      'access token': [tokens.access_token, refreshed.access_token, second.access_token],
      'refresh token': [tokens.refresh_token ?? '', refreshed.refresh_token ?? '', second.refresh_token ?? ''],
      'ID token': [tokens.id_token ?? '', refreshed.id_token ?? '', second.id_token ?? ''],
      'cookie (session, interaction, resume, signatures)': cookies,
      'client secret (made, rotated)': [web.body.clientSecret as string, firstSecret, service.secret],
      'client-credentials token': [serviceToken.body.access_token as string],
      'API key': [ts.adminKey, tenantKey],
      password: [ts.adminPassword, alice.password],
    });
  });

  it('lets nobody redeem a refresh token with what the database holds', async () => {
    const spa = await ts.api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'spa', name: 'SPA', redirectUris: [redirectUri], firstParty: true },
    });
    expect(spa.status, spa.text).toBe(201);
    const clientId = spa.body.clientId as string;
    const config = await oidc.discovery(new URL(`${ts.url}/t/${slug}`), clientId, undefined, oidc.None(), insecure);
    const tokens = await redeem(config, await authorize(config, new Browser(), redirectUri, alice, offline));
    const refreshToken = tokens.refresh_token ?? '';
    expect(refreshToken).toBeTruthy();

    // A public client needs nothing but the token: try everything token-like in the store.
    const rows = await db
      .selectFrom('oidc_payloads')
      .select(['id', 'payload'])
      .where('tenant_id', '=', tenantId)
      .execute();
    const candidates = new Set<string>();
    for (const row of rows) {
      for (const text of [row.id, row.payload]) {
        for (const run of text.match(/[A-Za-z0-9_-]{32,}/g) ?? []) candidates.add(run);
      }
    }
    expect(candidates).toContain(sha256(refreshToken));
    for (const candidate of candidates) {
      const res = await tokenRequest(ts, slug, {
        grant_type: 'refresh_token',
        refresh_token: candidate,
        client_id: clientId,
      });
      expect(res.status, `redeemed with ${candidate}`).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    }
    // The token itself still works: it was the store that could not give it away.
    const res = await tokenRequest(ts, slug, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  const adapter = async (model: string) =>
    new DbAdapter(db, tenantId, model, noClients, (await import('oidc-provider')).errors);

  it('cleans the rows stored before (migration 0006), which still work', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const value = `old-${Date.now()}-refresh-token-value-0123456789`;
    const uid = `old-${Date.now()}-interaction-uid-0123456789ab`;
    const cookie = `old-${Date.now()}-session-cookie-0123456789abcd`;
    const returnTo = `${ts.url}/t/${slug}/auth/${uid}`;
    const rows = [
      {
        model: 'RefreshToken',
        id: sha256(value),
        payload: { kind: 'RefreshToken', jti: value, exp, grantId: 'grant-old' },
        grant_id: 'grant-old',
      },
      {
        model: 'Interaction',
        id: sha256(uid),
        payload: { kind: 'Interaction', jti: uid, exp, returnTo, session: { accountId: 'usr_x', uid: 'suid', cookie } },
        grant_id: null,
      },
      {
        model: 'Grant',
        id: 'grant-old',
        payload: { kind: 'Grant', jti: 'grant-old', exp, clientId: 'c' },
        grant_id: 'grant-old',
      },
      {
        model: 'AccessToken',
        id: sha256(`${value}-expired`),
        payload: { kind: 'AccessToken', jti: `${value}-expired` },
        grant_id: null,
        expires_at: Date.now() - 1,
      },
    ];
    await db
      .insertInto('oidc_payloads')
      .values(
        rows.map((r) => ({
          model: r.model,
          id: r.id,
          tenant_id: tenantId,
          payload: JSON.stringify(r.payload),
          grant_id: r.grant_id,
          user_code: null,
          uid: null,
          account_id: null,
          expires_at: r.expires_at ?? Date.now() + 3_600_000,
          consumed_at: null,
        })),
      )
      .execute();

    await stripPayloadValues(db, { dialect });

    const stored = await everythingStored(db);
    expectNoneStored(stored, { 'refresh token': [value], 'interaction uid': [uid], 'session cookie': [cookie] });
    expect(
      await db
        .selectFrom('oidc_payloads')
        .select('id')
        .where('id', '=', sha256(`${value}-expired`))
        .execute(),
    ).toEqual([]);
    // Read back through the store, each is as oidc-provider saved it.
    expect(await (await adapter('RefreshToken')).find(value)).toEqual(rows[0]?.payload);
    expect(await (await adapter('Interaction')).find(uid)).toEqual({
      ...rows[1]?.payload,
      session: { accountId: 'usr_x', uid: 'suid' },
    });
    expect(await (await adapter('Grant')).find('grant-old')).toEqual(rows[2]?.payload);
  });

  it('refuses to store the artifacts of features that are off', async () => {
    const device = await adapter('DeviceCode');
    await expect(
      device.upsert('device-code-value', { kind: 'DeviceCode', jti: 'device-code-value', userCode: 'ABCD-EFGH' }, 60),
    ).rejects.toThrow(/not stored/);
  });
});

describe('database files (sqlite)', () => {
  const root = mkdtempSync(join(tmpdir(), 'latchkey-modes-'));
  const dataDir = join(root, 'data');
  const path = join(dataDir, 'latchkey.db');
  const files = [path, `${path}-wal`, `${path}-shm`];
  const database: TestDatabase = {
    dialect: 'sqlite',
    url: `sqlite:${path}`,
    dataDir,
    async drop() {},
  };
  const modeOf = (file: string) => statSync(file).mode & 0o777;
  // The same credentials on both starts: the second finds the first's bootstrap done.
  const env = { LATCHKEY_SECRET: '', LATCHKEY_BOOTSTRAP_API_KEY: randomApiKey() };
  let umask: number;

  beforeAll(() => {
    // What most systems have: without the fix, new files would be readable by everyone.
    umask = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('are created readable by their owner only, in a data directory that is too', async () => {
    // No LATCHKEY_SECRET: the key file is made in the data directory, which does not exist yet.
    const ts = await startTestServer('sqlite', env, database);
    try {
      expect((await ts.api('POST', '/api/v1/tenants', { body: { slug: 'modes', displayName: 'Modes' } })).status).toBe(
        201,
      );
      expect(modeOf(dataDir).toString(8)).toBe('700');
      for (const file of [...files, join(dataDir, 'secret.key')])
        expect(`${file} ${modeOf(file).toString(8)}`).toBe(`${file} 600`);
    } finally {
      await ts.close();
    }
  });

  it('that are readable by others are tightened at start', async () => {
    // As left by an earlier version or a crash: the files exist, readable by everyone.
    for (const file of [path, join(dataDir, 'secret.key')]) chmodSync(file, 0o644);
    for (const file of [`${path}-wal`, `${path}-shm`]) writeFileSync(file, '', { mode: 0o644, flag: 'a' });
    for (const file of files) chmodSync(file, 0o644);
    const ts = await startTestServer('sqlite', env, database);
    try {
      for (const file of [...files, join(dataDir, 'secret.key')])
        expect(`${file} ${modeOf(file).toString(8)}`).toBe(`${file} 600`);
      // And it works: what the first start wrote is there, and it writes.
      expect((await ts.api('GET', '/api/v1/tenants/modes')).status).toBe(200);
      expect(
        (await ts.api('POST', '/api/v1/tenants', { body: { slug: 'modes-2', displayName: 'Modes 2' } })).status,
      ).toBe(201);
      for (const file of files) expect(modeOf(file).toString(8)).toBe('600');
    } finally {
      await ts.close();
    }
  });
});
