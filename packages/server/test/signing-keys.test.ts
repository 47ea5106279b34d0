/**
 * Tokens signed with node:crypto through oidc-provider's external signing keys
 * (oidc/signing-keys.ts): the JWKS publishes public keys only, and the tokens a client gets
 * carry JWS signatures that verify against it, in JWS's own encodings (ES256 the raw 64-byte
 * r‖s, RS256 a 2048-bit PKCS#1 v1.5 signature), for an ID token verified by openid-client too.
 * @see issue 10
 */
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { ExternalSigningKey } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingKeys } from '../src/oidc/signing-keys.js';
import { Browser } from './helpers/browser.js';
import { authorize, clientCredentialsGrant, discover, redeem, serviceClient } from './helpers/oidc.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'priv'];

describe('signing with node:crypto (sqlite)', () => {
  let ts: TestServer;
  let slug: string;
  let api: Awaited<ReturnType<typeof tenantWithAdmin>>['api'];
  let jwks: JSONWebKeySet;

  beforeAll(async () => {
    ts = await startTestServer('sqlite');
    ({ slug, api } = await tenantWithAdmin(ts));
    const res = await fetch(`${ts.url}/t/${slug}/jwks`);
    expect(res.status).toBe(200);
    jwks = (await res.json()) as JSONWebKeySet;
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('publishes the public half of every key, and nothing private', () => {
    expect(jwks.keys.length).toBeGreaterThanOrEqual(4);
    for (const key of jwks.keys) {
      expect(key.use).toBe('sig');
      expect(key.kid).toMatch(/\S/);
      expect(['ES256', 'RS256']).toContain(key.alg);
      for (const member of privateMembers) expect(key, `${key.kid} ${member}`).not.toHaveProperty(member);
      if (key.alg === 'ES256') expect([key.kty, key.crv]).toEqual(['EC', 'P-256']);
      else expect(Buffer.from(key.n as string, 'base64url').length).toBe(256);
    }
  });

  it('signs a client-credentials access token with ES256, raw r‖s, that verifies against the JWKS', async () => {
    const client = await serviceClient(api, slug);
    const token = await clientCredentialsGrant(ts, slug, client);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const jwt = token.body.access_token as string;
    expect(decodeProtectedHeader(jwt).alg).toBe('ES256');
    expect(Buffer.from(jwt.split('.')[2] as string, 'base64url').length).toBe(64);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: `${ts.url}/t/${slug}` });
    expect(payload.client_id).toBe(client.id);
    // A signature changed by one bit is refused.
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10] = (sig[10] as number) ^ 1;
    await expect(jwtVerify(`${h}.${p}.${sig.toString('base64url')}`, createLocalJWKSet(jwks))).rejects.toThrow();
  });

  it('signs ID tokens with RS256 that openid-client and jose verify', async () => {
    const email = `u-${randomBytes(3).toString('hex')}@example.test`;
    const password = 'correct horse battery staple';
    const user = await api('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password } });
    expect(user.status, user.text).toBe(201);
    const web = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(web.status, web.text).toBe(201);
    const config = await discover(ts, slug, web.body);
    const tokens = await redeem(config, await authorize(config, new Browser(), redirectUri, { email, password }));
    const idToken = tokens.id_token as string;
    expect(decodeProtectedHeader(idToken).alg).toBe('RS256');
    expect(Buffer.from(idToken.split('.')[2] as string, 'base64url').length).toBe(256);
    // openid-client verified it (signature, issuer, audience, nonce) to read its claims.
    expect(tokens.claims()?.sub).toBe(user.body.id);
    await jwtVerify(idToken, createLocalJWKSet(jwks), { audience: web.body.clientId });
  });

  it('refuses a key without a kid or with another algorithm', () => {
    expect(() => signingKeys(ExternalSigningKey, [{ kty: 'EC', alg: 'ES256' }])).toThrow(/kid/);
    expect(() => signingKeys(ExternalSigningKey, [{ kty: 'EC', kid: 'k', alg: 'ES384' }])).toThrow(/ES256 or RS256/);
  });
});
