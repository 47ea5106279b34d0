/**
 * GitHub and Facebook sign-in (federation/oauth2-profiles.ts) against a local stand-in of
 * their OAuth 2 servers and profile APIs: openid-client runs the real grant with PKCE and
 * state; the profile says which email is verified as each provider does. Apple's client
 * secret (federation/apple.ts) is checked with jose as Apple would.
 * @see issue 13
 */
import { exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPLE_ISSUER, appleClientSecret, appleUserName, checkAppleKey } from '../src/federation/apple.js';
import {
  type OAuth2Kind,
  oauth2Configuration,
  oauth2Profile,
  UpstreamProfileError,
} from '../src/federation/oauth2-profiles.js';
import { type OAuth2Upstream, startOAuth2Upstream, upstreamEndpoints } from './helpers/oauth2-upstream.js';

const REDIRECT = 'http://127.0.0.1:1/t/acme/federation/gh/callback';

describe('OAuth 2 providers without OpenID Connect', () => {
  let upstream: OAuth2Upstream;
  beforeAll(async () => {
    upstream = await startOAuth2Upstream({ id: 42, login: 'octo', emails: [] });
  });
  afterAll(() => upstream.close());

  /** One complete grant as sign-in runs it: authorize → callback URL → token → profile. */
  async function signIn(kind: OAuth2Kind, opts: { tamperState?: boolean; replay?: boolean } = {}) {
    const endpoints = upstreamEndpoints(upstream, kind);
    const config = oauth2Configuration(kind, upstream.clientId, oidc.ClientSecretBasic(upstream.clientSecret), {
      endpoints,
      allowHttp: true,
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authorize = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'read:user user:email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const res = await fetch(authorize, { redirect: 'manual' });
    const callback = new URL(res.headers.get('location') ?? '');
    if (opts.tamperState) callback.searchParams.set('state', oidc.randomState());
    const checks = { pkceCodeVerifier: verifier, expectedState: state };
    const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
    if (opts.replay) await oidc.authorizationCodeGrant(config, callback, checks);
    return oauth2Profile(kind, config, tokens.access_token, endpoints);
  }

  it('GitHub: the primary verified email, the numeric id as subject, the name or login', async () => {
    upstream.person = {
      id: 42,
      login: 'octo',
      name: null,
      publicEmail: 'public@example.com',
      emails: [
        { email: 'old@example.com', primary: false, verified: true },
        { email: 'octo@example.com', primary: true, verified: true },
      ],
    };
    expect(await signIn('github')).toEqual({
      subject: '42',
      email: 'octo@example.com',
      emailVerified: true,
      name: 'octo',
    });
    // PKCE went to the token endpoint (the stand-in refuses a wrong verifier).
    expect(upstream.tokenRequests.at(-1)?.get('code_verifier')).toMatch(/^[\w-]{43,128}$/);
  });

  it('GitHub: an unverified primary email is never called verified', async () => {
    upstream.person = {
      id: 7,
      login: 'sneaky',
      publicEmail: 'victim@example.com',
      emails: [{ email: 'victim@example.com', primary: true, verified: false }],
    };
    const profile = await signIn('github');
    expect(profile.emailVerified).toBe(false);
    expect(profile.subject).toBe('7');
  });

  it('Facebook: the email Graph returns is confirmed; none when it gives none', async () => {
    upstream.person = {
      id: '1234567890',
      name: 'Fay Book',
      emails: [{ email: 'fay@example.com', primary: true, verified: true }],
    };
    expect(await signIn('facebook')).toEqual({
      subject: '1234567890',
      email: 'fay@example.com',
      emailVerified: true,
      name: 'Fay Book',
    });
    upstream.person = { id: '99', name: 'No Mail', emails: [] };
    expect(await signIn('facebook')).toMatchObject({ email: null, emailVerified: false });
  });

  it('refuses a callback whose state is not the one sent, and a code used twice', async () => {
    upstream.person = { id: 1, login: 'a', emails: [] };
    // openid-client wraps oauth4webapi's "unexpected "state" response parameter value".
    const refused = await signIn('github', { tamperState: true }).catch((err: Error) => err);
    expect(String((refused as Error & { cause?: Error }).cause?.message)).toMatch(/"state"/);
    await expect(signIn('github', { replay: true })).rejects.toThrow();
  });

  it('an access token the API refuses, or an answer without an id, is an UpstreamProfileError', async () => {
    const endpoints = upstreamEndpoints(upstream, 'github');
    const config = oauth2Configuration('github', upstream.clientId, oidc.ClientSecretBasic(upstream.clientSecret), {
      endpoints,
      allowHttp: true,
    });
    await expect(oauth2Profile('github', config, 'not-a-token', endpoints)).rejects.toBeInstanceOf(
      UpstreamProfileError,
    );
    upstream.person = { id: 'has spaces', login: 'x', emails: [] };
    await expect(signIn('github')).rejects.toBeInstanceOf(UpstreamProfileError);
  });
});

describe('Sign in with Apple', () => {
  it('makes the ES256 client secret Apple verifies: iss team, sub client, aud Apple, kid, minutes', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const key = { teamId: 'TEAM123456', keyId: 'KEY1234567', privateKeyPem: await exportPKCS8(privateKey) };
    expect(await checkAppleKey(key)).toBeUndefined();
    const now = Date.now();
    const secret = await appleClientSecret(key, 'com.acme.signin', now);
    const { payload, protectedHeader } = await jwtVerify(secret, publicKey, {
      issuer: 'TEAM123456',
      audience: APPLE_ISSUER,
      subject: 'com.acme.signin',
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'KEY1234567' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(300);
  });

  it('refuses keys of the wrong shape or curve before any request', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const good = { teamId: 'TEAM123456', keyId: 'KEY1234567' };
    expect(await checkAppleKey({ ...good, privateKeyPem: await exportPKCS8(rsa.privateKey) })).toMatch(/P-256/);
    expect(await checkAppleKey({ ...good, privateKeyPem: 'not a key' })).toMatch(/PKCS #8/);
    expect(await checkAppleKey({ ...good, teamId: 'team', privateKeyPem: '' })).toMatch(/teamId/);
  });

  it('reads the name of the first callback only from the shape Apple sends', () => {
    expect(appleUserName(JSON.stringify({ name: { firstName: 'Ada', lastName: 'Lovelace' }, email: 'a@b.c' }))).toBe(
      'Ada Lovelace',
    );
    expect(appleUserName(undefined)).toBeNull();
    expect(appleUserName('{not json')).toBeNull();
    expect(appleUserName(JSON.stringify({ name: { firstName: 3 } }))).toBeNull();
    expect(appleUserName('x'.repeat(5000))).toBeNull();
  });
});
