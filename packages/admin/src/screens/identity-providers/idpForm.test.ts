import { describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../../api/types';
import {
  createIdpBody,
  emptyIdpForm,
  federationRedirectUri,
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
