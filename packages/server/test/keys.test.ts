import Database from 'better-sqlite3';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import {
  authorize,
  type ClientCredentials,
  clientCredentialsGrant,
  discover,
  redeem,
  serviceClient,
} from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

/** JWK members that belong to a private (or symmetric) key. */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Every object key anywhere in a JSON value. */
function allKeys(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) allKeys(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allKeys(v, out);
    }
  }
  return out;
}

interface KeyItem {
  kid: string;
  alg: 'ES256' | 'RS256';
  status: 'next' | 'current' | 'previous';
  publishedUntil: string | null;
  publicJwk: Record<string, unknown>;
}

function byStatus(items: KeyItem[], alg: string, status: string): KeyItem[] {
  return items.filter((k) => k.alg === alg && k.status === status);
}

interface StoredKey {
  id: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
}

/** The signing_keys rows of a tenant, read straight from the test database. */
async function storedKeys(ts: TestServer, slug: string): Promise<StoredKey[]> {
  const sql =
    'select k.id, k.alg, k.public_jwk, k.private_jwk from signing_keys k join tenants t on t.id = k.tenant_id where t.slug = ';
  if (ts.database.dialect === 'sqlite') {
    const db = new Database(ts.database.url.replace(/^sqlite:/, ''), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(`${sql}?`).all(slug) as StoredKey[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: ts.database.url });
  await client.connect();
  try {
    return (await client.query<StoredKey>(`${sql}$1`, [slug])).rows;
  } finally {
    await client.end();
  }
}

describe.each(dialects)('signing keys (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let api: ApiClient;
  let service: ClientCredentials;
  const path = () => `/api/v1/tenants/${slug}/keys`;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    ({ slug, api } = await tenantWithAdmin(ts));
    service = await serviceClient(api, slug);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('lists public parts only: ES256 and RS256, each with a current and a next key', async () => {
    const res = await api('GET', path());
    expect(res.status).toBe(200);
    const items = res.body.items as KeyItem[];
    expect(items).toHaveLength(4);
    for (const alg of ['ES256', 'RS256']) {
      expect(byStatus(items, alg, 'current'), alg).toHaveLength(1);
      expect(byStatus(items, alg, 'next'), alg).toHaveLength(1);
    }
    for (const k of items) {
      expect(k.kid).toMatch(/^sig_/);
      expect(k.publicJwk.kid).toBe(k.kid);
      expect(k.publicJwk.alg).toBe(k.alg);
      expect(k.publicJwk.kty).toBe(k.alg === 'ES256' ? 'EC' : 'RSA');
      expect(k.publishedUntil).toBeNull();
    }
    const keys = allKeys(res.body);
    for (const m of privateMembers) expect(keys, `member "${m}"`).not.toContain(m);
    expect(res.text).not.toMatch(/"d"\s*:/);
  });

  it('signs with the current ES256 key and publishes next and current in the JWKS', async () => {
    const items = (await api('GET', path())).body.items as KeyItem[];
    const token = await clientCredentialsGrant(ts, slug, service);
    expect(token.status).toBe(200);
    const header = decodeProtectedHeader(token.body.access_token ?? '');
    expect(header.alg).toBe('ES256');
    expect(header.kid).toBe(byStatus(items, 'ES256', 'current')[0]?.kid);
    const jwks = (await (await fetch(`${ts.url}/t/${slug}/jwks`)).json()) as JSONWebKeySet;
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(items.map((k) => k.kid).sort());
  });

  it('rotates: next → current, current → previous (published until its tokens expire), a new next', async () => {
    const before = (await api('GET', path())).body.items as KeyItem[];
    const oldToken = await clientCredentialsGrant(ts, slug, service);
    expect(oldToken.status).toBe(200);

    const rotated = await api('POST', `${path()}/rotate`);
    expect(rotated.status).toBe(200);
    const after = rotated.body.items as KeyItem[];
    expect(after).toHaveLength(6);
    for (const alg of ['ES256', 'RS256']) {
      const wasCurrent = byStatus(before, alg, 'current')[0];
      const wasNext = byStatus(before, alg, 'next')[0];
      const current = byStatus(after, alg, 'current');
      const previous = byStatus(after, alg, 'previous');
      const next = byStatus(after, alg, 'next');
      expect(
        current.map((k) => k.kid),
        alg,
      ).toEqual([wasNext?.kid]);
      expect(
        previous.map((k) => k.kid),
        alg,
      ).toEqual([wasCurrent?.kid]);
      expect(next, alg).toHaveLength(1);
      expect([wasCurrent?.kid, wasNext?.kid]).not.toContain(next[0]?.kid);
      const until = Date.parse(previous[0]?.publishedUntil ?? '');
      // Kept at least as long as the longest token it may have signed (a day).
      expect(until - Date.now()).toBeGreaterThan(86_000 * 1000);
      expect(until - Date.now()).toBeLessThan(2 * 86_400 * 1000);
    }
    for (const m of privateMembers) expect(allKeys(rotated.body)).not.toContain(m);
    expect((await api('GET', path())).body.items).toEqual(after);

    const jwksRes = await fetch(`${ts.url}/t/${slug}/jwks`);
    expect(jwksRes.status).toBe(200);
    const jwks = (await jwksRes.json()) as JSONWebKeySet;
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(after.map((k) => k.kid).sort());
    for (const m of privateMembers) expect(allKeys(jwks)).not.toContain(m);

    // New tokens are signed by the new current key; the old token still verifies with the JWKS.
    const newToken = await clientCredentialsGrant(ts, slug, service);
    expect(decodeProtectedHeader(newToken.body.access_token ?? '').kid).toBe(
      byStatus(after, 'ES256', 'current')[0]?.kid,
    );
    const keySet = createLocalJWKSet(jwks);
    const issuer = `${ts.url}/t/${slug}`;
    await expect(jwtVerify(oldToken.body.access_token ?? '', keySet, { issuer })).resolves.toBeTruthy();
    await expect(jwtVerify(newToken.body.access_token ?? '', keySet, { issuer })).resolves.toBeTruthy();

    // A second rotation keeps both previous keys published (their tokens may still be alive).
    const twice = (await api('POST', `${path()}/rotate`)).body.items as KeyItem[];
    expect(byStatus(twice, 'ES256', 'previous')).toHaveLength(2);
    const jwks2 = (await (await fetch(`${ts.url}/t/${slug}/jwks`)).json()) as JSONWebKeySet;
    expect(jwks2.keys).toHaveLength(8);
    await expect(
      jwtVerify(oldToken.body.access_token ?? '', createLocalJWKSet(jwks2), { issuer }),
    ).resolves.toBeTruthy();
  });

  it('signs ID tokens with RS256 for clients that ask for it', async () => {
    const redirectUri = 'http://127.0.0.1:9/cb';
    const email = 'rsa@example.test';
    const password = 'rivest shamir adleman';
    expect((await api('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password } })).status).toBe(201);
    const web = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'rsa', redirectUris: [redirectUri], firstParty: true, idTokenSigningAlg: 'RS256' },
    });
    expect(web.status).toBe(201);
    const config = await discover(ts, slug, web.body, { id_token_signed_response_alg: 'RS256' });
    const tokens = await redeem(
      config,
      await authorize(config, new Browser(), redirectUri, { email, password }, { scope: 'openid email' }),
    );
    const header = decodeProtectedHeader(tokens.id_token ?? '');
    expect(header.alg).toBe('RS256');
    const items = (await api('GET', path())).body.items as KeyItem[];
    expect(header.kid).toBe(byStatus(items, 'RS256', 'current')[0]?.kid);
    expect(tokens.claims()?.email).toBe(email);
  });

  it('stores private keys encrypted with the instance secret', async () => {
    const items = (await api('GET', path())).body.items as KeyItem[];
    const rows = await storedKeys(ts, slug);
    expect(rows.length).toBeGreaterThanOrEqual(items.length);
    for (const row of rows) {
      const pub = JSON.parse(row.public_jwk) as Record<string, string>;
      for (const m of privateMembers) expect(pub, `${row.id} public_jwk`).not.toHaveProperty(m);
      expect(() => JSON.parse(row.private_jwk), row.id).toThrow();
      expect(row.private_jwk).not.toContain('"kty"');
      const publicPart = row.alg === 'ES256' ? pub.x : pub.n;
      expect(publicPart, row.id).toBeTruthy();
      expect(row.private_jwk).not.toContain(publicPart);
      if (pub.y) expect(row.private_jwk).not.toContain(pub.y);
      // AES-256-GCM: version, IV, ciphertext, tag.
      expect(row.private_jwk).toMatch(/^v1\.[\w-]{16}\.[\w-]{100,}\.[\w-]{22}$/);
    }
  });

  it('refuses to start with another LATCHKEY_SECRET on the same database (it could not sign)', async () => {
    await expect(
      startTestServer(
        dialect,
        { LATCHKEY_SECRET: 'a-different-secret-a-different-secret-42', LATCHKEY_BOOTSTRAP_API_KEY: ts.adminKey },
        ts.database,
      ),
    ).rejects.toThrow(/LATCHKEY_SECRET does not match/);
    // The running server, with the right secret, still signs.
    const token = await clientCredentialsGrant(ts, slug, service);
    expect(token.status).toBe(200);
    // And another node with the same secret works on the same database.
    const peer = await startTestServer(dialect, { LATCHKEY_BOOTSTRAP_API_KEY: ts.adminKey }, ts.database);
    try {
      const peerToken = await clientCredentialsGrant(peer, slug, service);
      expect(peerToken.status).toBe(200);
    } finally {
      await peer.close();
    }
  });

  it('lets only the tenant’s own admins see or rotate its keys', async () => {
    const other = await tenantWithAdmin(ts);
    expect((await other.api('GET', path())).status).toBe(404);
    expect((await other.api('POST', `${path()}/rotate`)).status).toBe(404);
    const before = (await api('GET', path())).body.items as KeyItem[];
    expect(before.length).toBeGreaterThan(0);
    expect((await api('GET', path())).body.items).toEqual(before);
  });
});
