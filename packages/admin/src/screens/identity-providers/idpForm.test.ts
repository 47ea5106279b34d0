import { describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../../api/types';
import {
  createIdpBody,
  emptyIdpForm,
  federationRedirectUri,
  IDP_KINDS,
  idpErrorOptions,
  idpToForm,
  issuerProblem,
  parsePrivateJwk,
  patchIdpBody,
  roleMappingRow,
  validateIdpForm,
  withKind,
} from './idpForm';

const acme: IdentityProvider = {
  id: 'idp_1',
  slug: 'acme',
  kind: 'oidc',
  displayName: 'Acme SSO',
  buttonText: null,
  iconUrl: null,
  enabled: true,
  issuer: 'https://sso.acme.test',
  clientId: 'latchkey',
  tokenEndpointAuthMethod: 'client_secret_basic',
  scopes: ['openid', 'email', 'profile'],
  allowSignUp: false,
  allowLink: true,
  allowUnlink: true,
  trustEmails: false,
  domains: ['acme.test'],
  claims: { email: 'email', emailVerified: 'email_verified', name: 'name', roles: 'groups' },
  roleMappings: [{ upstream: 'admins', role: 'tenant:admin' }],
  clientSecretSet: true,
  privateKeySet: false,
  version: 4,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-02T00:00:00Z',
};

const creating = { creating: true, clientSecretSet: false, privateKeySet: false };
const editing = { creating: false, clientSecretSet: true, privateKeySet: false };

describe('identity provider form', () => {
  it('fills in the preset of a kind, and keeps what the admin typed when the kind changes', () => {
    const google = withKind(emptyIdpForm(), 'google');
    expect(google).toMatchObject({ kind: 'google', issuer: 'https://accounts.google.com', slug: 'google' });
    expect(google.displayName).toBe('Google');
    const microsoft = withKind(google, 'microsoft');
    expect(microsoft.issuer).toBe('https://login.microsoftonline.com/common/v2.0');
    expect(microsoft.slug).toBe('microsoft');
    const typed = withKind(
      { ...microsoft, issuer: 'https://login.microsoftonline.com/acme/v2.0', slug: 'entra' },
      'oidc',
    );
    expect(typed).toMatchObject({
      kind: 'oidc',
      issuer: 'https://login.microsoftonline.com/acme/v2.0',
      slug: 'entra',
      displayName: '',
    });
  });

  it('builds the redirect URI to register upstream', () => {
    expect(federationRedirectUri('https://id.example.com/', 'acme', 'google')).toBe(
      'https://id.example.com/t/acme/federation/google/callback',
    );
  });

  it('creates with every field, the secret write-only, empty texts as null', () => {
    const values = {
      ...emptyIdpForm(),
      slug: ' acme ',
      displayName: ' Acme SSO ',
      issuer: 'https://sso.acme.test ',
      clientId: ' latchkey ',
      clientSecret: 's3cret',
      privateKeyJwk: '{"kty":"EC","d":"x"}',
      domains: ['acme.test'],
      claims: { email: 'email', emailVerified: 'email_verified', name: 'name', roles: ' groups ' },
      roleMappings: [roleMappingRow(' admins ', 'tenant:admin')],
    };
    expect(createIdpBody(values)).toEqual({
      slug: 'acme',
      kind: 'oidc',
      displayName: 'Acme SSO',
      buttonText: null,
      iconUrl: null,
      enabled: true,
      issuer: 'https://sso.acme.test',
      clientId: 'latchkey',
      clientSecret: 's3cret',
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['openid', 'email', 'profile'],
      allowSignUp: false,
      allowLink: false,
      allowUnlink: true,
      trustEmails: false,
      domains: ['acme.test'],
      claims: { email: 'email', emailVerified: 'email_verified', name: 'name', roles: 'groups' },
      roleMappings: [{ upstream: 'admins', role: 'tenant:admin' }],
    });
    const withKey = createIdpBody({ ...values, tokenEndpointAuthMethod: 'private_key_jwt' });
    expect(withKey.privateKeyJwk).toEqual({ kty: 'EC', d: 'x' });
    expect(withKey).not.toHaveProperty('clientSecret');
  });

  it('patches only what changed; an empty secret keeps the stored one', () => {
    const initial = idpToForm(acme);
    expect(initial.clientSecret).toBe('');
    expect(patchIdpBody(initial, initial)).toEqual({});
    expect(
      patchIdpBody(initial, { ...initial, displayName: 'Acme', trustEmails: true, buttonText: ' ', domains: [] }),
    ).toEqual({ displayName: 'Acme', trustEmails: true, domains: [] });
    expect(patchIdpBody(initial, { ...initial, clientSecret: 'new' })).toEqual({ clientSecret: 'new' });
    expect(patchIdpBody(initial, { ...initial, slug: ' acme-sso ' })).toEqual({ slug: 'acme-sso' });
    expect(patchIdpBody(initial, { ...initial, claims: { ...initial.claims, roles: '' }, roleMappings: [] })).toEqual({
      claims: { email: 'email', emailVerified: 'email_verified', name: 'name', roles: null },
      roleMappings: [],
    });
  });

  it('needs a secret on create, and not on edit when one is set', () => {
    const base = {
      ...emptyIdpForm(),
      slug: 'acme',
      displayName: 'Acme',
      issuer: 'https://sso.acme.test',
      clientId: 'x',
    };
    expect(validateIdpForm(base, creating)).toEqual({ clientSecret: expect.any(String) });
    expect(validateIdpForm({ ...base, clientSecret: 's' }, creating)).toEqual({});
    expect(validateIdpForm(idpToForm(acme), editing)).toEqual({});
    const keyed = { ...idpToForm(acme), tokenEndpointAuthMethod: 'private_key_jwt' as const };
    expect(validateIdpForm(keyed, editing)).toEqual({ privateKeyJwk: 'Paste the private key (a JWK)' });
  });

  it('checks slug, issuer, scopes, domains, claims and mappings as the API does', () => {
    const v = {
      ...idpToForm(acme),
      slug: 'Acme SSO',
      issuer: 'http://sso.acme.test',
      scopes: ['email'],
      domains: ['@acme.test'],
      claims: { email: '', emailVerified: 'email_verified', name: 'name', roles: '' },
      roleMappings: [roleMappingRow('', ''), roleMappingRow('a', 'r'), roleMappingRow('a', 'r')],
    };
    expect(Object.keys(validateIdpForm(v, { ...creating, clientSecretSet: true })).sort()).toEqual(
      [
        'claims.email',
        'claims.roles',
        'domains',
        'issuer',
        'roleMappings.0.role',
        'roleMappings.0.upstream',
        'roleMappings.2.upstream',
        'scopes',
        'slug',
      ].sort(),
    );
    expect(Object.keys(validateIdpForm({ ...idpToForm(acme), slug: 'Not valid' }, editing))).toEqual(['slug']);
  });

  it('takes https issuers, and http only on this machine', () => {
    expect(issuerProblem('https://accounts.google.com')).toBeNull();
    expect(issuerProblem('http://127.0.0.1:4000/t/upstream')).toBeNull();
    expect(issuerProblem('http://idp.example.com')).toMatch(/https/);
    expect(issuerProblem('https://idp.example.com/?x=1')).toMatch(/query/);
    expect(issuerProblem('')).not.toBeNull();
  });

  it('reads a private JWK and refuses a public one', () => {
    expect(parsePrivateJwk('')).toEqual({ ok: true, value: null });
    expect(parsePrivateJwk('{"kty":"RSA","n":"x","e":"AQAB","d":"y"}')).toMatchObject({ ok: true });
    expect(parsePrivateJwk('{"kty":"RSA","n":"x","e":"AQAB"}')).toEqual({
      ok: false,
      error: expect.stringMatching(/public/),
    });
    expect(parsePrivateJwk('nope')).toMatchObject({ ok: false });
  });
});

describe('the kinds of fed-kinds and fed-saml-wire', () => {
  const ctx = { creating: true, clientSecretSet: false, privateKeySet: false };
  const pem =
    '-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n-----END PRIVATE KEY-----';

  it('offers every kind', () => {
    expect(IDP_KINDS).toEqual(['oidc', 'google', 'microsoft', 'apple', 'github', 'facebook', 'latchkey', 'saml']);
  });

  it('github: client id and secret, no issuer, claims or roles; its own scopes; endpoints only when asked for', () => {
    const v = { ...emptyIdpForm('github'), clientId: 'Iv1.abc', clientSecret: 's3cret' };
    expect(v.scopes).toEqual(['read:user', 'user:email']);
    expect(v.tokenEndpointAuthMethod).toBe('client_secret_post');
    expect(validateIdpForm(v, ctx)).toEqual({});
    const body = createIdpBody(v);
    expect(body).toMatchObject({ kind: 'github', slug: 'github', clientId: 'Iv1.abc', clientSecret: 's3cret' });
    for (const field of ['issuer', 'claims', 'roleMappings', 'endpoints', 'tenant', 'appleTeamId', 'samlMetadataUrl']) {
      expect(body).not.toHaveProperty(field);
    }
    const enterprise = {
      ...v,
      customEndpoints: true,
      endpoints: { authorizationEndpoint: 'nope', tokenEndpoint: '', apiBase: '' },
    };
    expect(Object.keys(validateIdpForm(enterprise, ctx)).sort()).toEqual([
      'endpoints.apiBase',
      'endpoints.authorizationEndpoint',
      'endpoints.tokenEndpoint',
    ]);
    const endpoints = {
      authorizationEndpoint: 'https://github.acme.test/login/oauth/authorize',
      tokenEndpoint: 'https://github.acme.test/login/oauth/access_token',
      apiBase: 'https://github.acme.test/api/v3',
    };
    expect(createIdpBody({ ...enterprise, endpoints }).endpoints).toEqual(endpoints);
  });

  it('github: PATCH sends endpoints only when changed, null to go back to github.com, never an issuer', () => {
    const endpoints = {
      authorizationEndpoint: 'https://github.acme.test/login/oauth/authorize',
      tokenEndpoint: 'https://github.acme.test/login/oauth/access_token',
      apiBase: 'https://github.acme.test/api/v3',
    };
    const gh: IdentityProvider = {
      ...acme,
      kind: 'github',
      issuer: 'https://github.acme.test',
      scopes: ['read:user', 'user:email'],
      tokenEndpointAuthMethod: 'client_secret_post',
      claims: { email: 'email', emailVerified: 'email_verified', name: 'name', roles: null },
      roleMappings: [],
      endpoints,
      tenant: null,
      appleKeySet: false,
    };
    const initial = idpToForm(gh);
    expect(initial.customEndpoints).toBe(true);
    expect(patchIdpBody(initial, { ...initial, issuer: 'https://x.test' })).toEqual({});
    expect(patchIdpBody(initial, { ...initial, customEndpoints: false })).toEqual({ endpoints: null });
    expect(
      patchIdpBody(initial, { ...initial, endpoints: { ...endpoints, apiBase: 'https://github.acme.test/api/v4' } }),
    ).toEqual({ endpoints: { ...endpoints, apiBase: 'https://github.acme.test/api/v4' } });
  });

  it('facebook: no openid needed, private_key_jwt never picked', () => {
    const v = withKind({ ...emptyIdpForm('oidc'), tokenEndpointAuthMethod: 'private_key_jwt' }, 'facebook');
    expect(v.tokenEndpointAuthMethod).toBe('client_secret_post');
    expect(v.scopes).toEqual(['email', 'public_profile']);
    expect(validateIdpForm({ ...v, clientId: '123', clientSecret: 'x' }, ctx)).toEqual({});
  });

  it('apple: Services ID, team id, key id and .p8 key, no client secret; all three or none', () => {
    const v = withKind(emptyIdpForm(), 'apple');
    expect(v.issuer).toBe('https://appleid.apple.com');
    expect(v.scopes).toEqual(['openid', 'email', 'name']);
    expect(Object.keys(validateIdpForm(v, ctx)).sort()).toEqual([
      'appleKeyId',
      'applePrivateKey',
      'appleTeamId',
      'clientId',
    ]);
    const full = {
      ...v,
      clientId: 'com.acme.signin',
      appleTeamId: 'A1B2C3D4E5',
      appleKeyId: 'ABC123DEFG',
      applePrivateKey: pem,
    };
    expect(validateIdpForm(full, ctx)).toEqual({});
    expect(validateIdpForm({ ...full, appleTeamId: 'short' }, ctx)).toHaveProperty('appleTeamId');
    expect(validateIdpForm({ ...full, applePrivateKey: 'not a pem' }, ctx)).toHaveProperty('applePrivateKey');
    const body = createIdpBody({ ...full, clientSecret: 'typed before switching' });
    expect(body).toMatchObject({
      kind: 'apple',
      clientId: 'com.acme.signin',
      appleTeamId: 'A1B2C3D4E5',
      appleKeyId: 'ABC123DEFG',
    });
    expect(body.applePrivateKey).toBe(pem);
    expect(body).not.toHaveProperty('clientSecret');
    expect(body).not.toHaveProperty('tokenEndpointAuthMethod');

    const apple: IdentityProvider = {
      ...acme,
      kind: 'apple',
      issuer: 'https://appleid.apple.com',
      clientSecretSet: false,
      appleKeySet: true,
    };
    const initial = idpToForm(apple);
    expect(initial.applePrivateKey).toBe('');
    const keySet = { creating: false, clientSecretSet: false, privateKeySet: false, appleKeySet: true };
    expect(validateIdpForm(initial, keySet)).toEqual({});
    expect(patchIdpBody(initial, initial)).toEqual({});
    expect(Object.keys(validateIdpForm({ ...initial, appleKeyId: 'ABC123DEFG' }, keySet)).sort()).toEqual([
      'applePrivateKey',
      'appleTeamId',
    ]);
    expect(
      patchIdpBody(initial, { ...initial, appleTeamId: 'A1B2C3D4E5', appleKeyId: 'ABC123DEFG', applePrivateKey: pem }),
    ).toEqual({
      appleTeamId: 'A1B2C3D4E5',
      appleKeyId: 'ABC123DEFG',
      applePrivateKey: pem,
    });
  });

  it('latchkey: the other tenant only, no issuer, client id or secret', () => {
    const v = withKind(emptyIdpForm(), 'latchkey');
    expect(validateIdpForm({ ...v, slug: 'staff', displayName: 'Staff' }, ctx)).toEqual({
      tenant: 'Pick the tenant to sign in through',
    });
    const body = createIdpBody({
      ...v,
      slug: 'staff',
      displayName: 'Staff',
      tenant: 'staff-tenant',
      clientId: 'x',
      clientSecret: 'y',
    });
    expect(body).toMatchObject({ kind: 'latchkey', tenant: 'staff-tenant', scopes: ['openid', 'email', 'profile'] });
    for (const field of ['issuer', 'clientId', 'clientSecret', 'privateKeyJwk', 'tokenEndpointAuthMethod']) {
      expect(body).not.toHaveProperty(field);
    }
    const lk: IdentityProvider = { ...acme, kind: 'latchkey', tenant: 'staff-tenant', clientSecretSet: false };
    const initial = idpToForm(lk);
    expect(initial.tenant).toBe('staff-tenant');
    expect(validateIdpForm(initial, { creating: false, clientSecretSet: false, privateKeySet: false })).toEqual({});
    expect(patchIdpBody(initial, { ...initial, clientId: 'changed', tenant: 'other' })).toEqual({});
  });

  it('saml: the metadata by URL or pasted XML, emails verified or not; no client nor scopes', () => {
    const v = { ...withKind(emptyIdpForm(), 'saml'), slug: 'adfs', displayName: 'ADFS' };
    expect(validateIdpForm(v, ctx)).toHaveProperty('samlMetadataUrl');
    expect(validateIdpForm({ ...v, samlMetadataUrl: 'http://idp.acme.test/md' }, ctx)).toHaveProperty(
      'samlMetadataUrl',
    );
    const byUrl = { ...v, samlMetadataUrl: 'https://idp.acme.test/md', samlEmailVerified: true };
    expect(validateIdpForm(byUrl, ctx)).toEqual({});
    const body = createIdpBody(byUrl);
    expect(body).toMatchObject({ kind: 'saml', samlMetadataUrl: 'https://idp.acme.test/md', samlEmailVerified: true });
    for (const field of [
      'issuer',
      'clientId',
      'clientSecret',
      'tokenEndpointAuthMethod',
      'scopes',
      'samlMetadataXml',
    ]) {
      expect(body).not.toHaveProperty(field);
    }
    expect(body).toHaveProperty('claims');
    const byXml = { ...v, samlSource: 'xml' as const, samlMetadataXml: '<html/>' };
    expect(validateIdpForm(byXml, ctx)).toHaveProperty('samlMetadataXml');
    const xml = '<md:EntityDescriptor entityID="https://idp.acme.test"/>';
    expect(createIdpBody({ ...byXml, samlMetadataXml: xml })).toMatchObject({ samlMetadataXml: xml });
  });

  it('saml: the page keeps the metadata unless it is given anew; errors about it land on its field', () => {
    const saml: IdentityProvider = {
      ...acme,
      kind: 'saml',
      clientSecretSet: false,
      saml: {
        idpEntityId: 'https://idp.acme.test',
        idpSsoUrl: 'https://idp.acme.test/sso',
        idpMetadataUrl: null,
        emailVerified: false,
        spEntityId: 'https://lk.test/t/acme/federation/adfs/saml/metadata',
        acsUrl: 'https://lk.test/t/acme/federation/adfs/saml/acs',
        spMetadataUrl: 'https://lk.test/t/acme/federation/adfs/saml/metadata',
      },
    };
    const initial = idpToForm(saml);
    expect(initial.samlSource).toBe('xml');
    const page = { creating: false, clientSecretSet: false, privateKeySet: false, samlFromXml: true };
    expect(validateIdpForm(initial, page)).toEqual({});
    expect(patchIdpBody(initial, { ...initial, clientId: 'x', issuer: 'https://x.test' })).toEqual({});
    expect(patchIdpBody(initial, { ...initial, samlEmailVerified: true })).toEqual({ samlEmailVerified: true });
    expect(
      patchIdpBody(initial, { ...initial, samlSource: 'url', samlMetadataUrl: 'https://idp.acme.test/md' }),
    ).toEqual({
      samlMetadataUrl: 'https://idp.acme.test/md',
    });
    expect(idpErrorOptions(0, 'xml').codes).toMatchObject({ saml_metadata_invalid: 'samlMetadataXml' });
    expect(idpErrorOptions(0).codes).toMatchObject({ saml_metadata_unreachable: 'samlMetadataUrl' });
  });

  it('an oidc provider from a server without the new kinds still round-trips', () => {
    const initial = idpToForm(acme);
    expect(initial.customEndpoints).toBe(false);
    expect(initial.tenant).toBe('');
    expect(patchIdpBody(initial, initial)).toEqual({});
    const body = createIdpBody({ ...initial, clientSecret: 'x' });
    for (const field of ['endpoints', 'tenant', 'appleTeamId', 'samlMetadataUrl', 'samlEmailVerified']) {
      expect(body).not.toHaveProperty(field);
    }
  });
});
