import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client';
import type { Client } from '../../api/types';
import { apiFieldErrors } from '../../components/fieldErrors';
import {
  CLIENT_ERROR_OPTIONS,
  CLIENT_KINDS,
  clientToForm,
  createBody,
  createDefaults,
  KIND_ORDER,
  lifetimeProblem,
  parseUriList,
  patchBody,
  redirectUriProblem,
  validateClientForm,
  validateScopes,
  validateUriList,
} from './clientKinds';

const client = (over: Partial<Client> = {}): Client => ({
  id: 'cli_01',
  clientId: 'cli_01',
  kind: 'web',
  name: 'Shop',
  confidential: true,
  redirectUris: ['https://shop.example.com/cb'],
  postLogoutRedirectUris: [],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  firstParty: true,
  defaultApi: null,
  accessTokenTtlSeconds: null,
  refreshTokenIdleSeconds: null,
  refreshTokenAbsoluteSeconds: null,
  idTokenSigningAlg: 'ES256',
  tokenEndpointAuthMethod: 'client_secret_basic',
  roles: [],
  builtin: false,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  version: 1,
  ...over,
});

describe('kinds', () => {
  it('web and service are confidential, spa and native public', () => {
    expect(KIND_ORDER.filter((k) => CLIENT_KINDS[k].confidential)).toEqual(['web', 'service']);
    expect(KIND_ORDER.filter((k) => CLIENT_KINDS[k].fields.secret)).toEqual(['web', 'service']);
    expect(KIND_ORDER.filter((k) => CLIENT_KINDS[k].fields.tokenEndpointAuthMethod)).toEqual(['web', 'service']);
  });
  it('only the user-facing kinds have redirect URIs; only services hold roles', () => {
    expect(KIND_ORDER.filter((k) => CLIENT_KINDS[k].fields.redirectUris)).toEqual(['web', 'spa', 'native']);
    expect(KIND_ORDER.filter((k) => CLIENT_KINDS[k].fields.postLogoutRedirectUris)).toEqual(['web', 'spa', 'native']);
    expect(KIND_ORDER.filter((k) => CLIENT_KINDS[k].fields.roles)).toEqual(['service']);
    expect(KIND_ORDER.filter((k) => CLIENT_KINDS[k].fields.firstParty)).toEqual(['web', 'spa', 'native']);
  });
  it('defaults: OpenID Connect scopes for user-facing kinds, nothing for services, first party off as in the API', () => {
    expect(createDefaults('spa').scopes).toEqual(['openid', 'profile', 'email', 'offline_access']);
    for (const kind of KIND_ORDER) expect(createDefaults(kind).firstParty, kind).toBe(false);
    expect(createDefaults('service').scopes).toEqual([]);
    expect(createDefaults('service').firstParty).toBe(false);
  });
  it('every placeholder redirect URI passes the server’s rule', () => {
    for (const k of ['web', 'spa', 'native'] as const) {
      expect(redirectUriProblem(CLIENT_KINDS[k].redirectPlaceholder)).toBeNull();
    }
  });
});

describe('redirect URIs', () => {
  it('accepts https anywhere and http on loopback only', () => {
    expect(redirectUriProblem('https://app.example.com/cb')).toBeNull();
    expect(redirectUriProblem('http://localhost:3000/cb')).toBeNull();
    expect(redirectUriProblem('http://127.0.0.1:8400/callback')).toBeNull();
    expect(redirectUriProblem('http://[::1]:8400/callback')).toBeNull();
    expect(redirectUriProblem('http://app.example.com/cb')).toMatch(/https/);
  });
  it('refuses fragments, credentials, custom schemes and relative URLs', () => {
    expect(redirectUriProblem('https://app.example.com/cb#x')).toMatch(/fragment/);
    expect(redirectUriProblem('https://app.example.com/cb#')).toMatch(/fragment/);
    expect(redirectUriProblem('https://u:p@app.example.com/cb')).toMatch(/password/);
    expect(redirectUriProblem('com.example.app:/callback')).toMatch(/https/);
    expect(redirectUriProblem('/callback')).toMatch(/absolute/);
  });
  it('parses one per line, dropping blanks and repeats', () => {
    expect(parseUriList('  https://a.example/cb\n\nhttps://b.example/cb \r\nhttps://a.example/cb\n')).toEqual([
      'https://a.example/cb',
      'https://b.example/cb',
    ]);
    expect(parseUriList('https://a.example/cb?x=1,2')).toEqual(['https://a.example/cb?x=1,2']);
  });
  it('names the line that is wrong', () => {
    expect(validateUriList('', { required: true })).toMatch(/at least one/);
    expect(validateUriList('', { required: false })).toBeNull();
    expect(validateUriList('https://ok.example/cb\nhttp://bad.example/cb', { required: true })).toMatch(
      /^Item 2 \(http:\/\/bad\.example\/cb\)/,
    );
  });
});

describe('scopes', () => {
  it('refuses OpenID Connect scopes for services only', () => {
    expect(validateScopes(['openid'], 'web')).toBeNull();
    expect(validateScopes(['openid'], 'service')).toMatch(/service/);
    expect(validateScopes(['orders:read'], 'service')).toBeNull();
  });
  it('refuses what is not a scope token', () => {
    expect(validateScopes(['has space'], 'web')).toMatch(/not a scope/);
    expect(validateScopes(['quo"te'], 'web')).toMatch(/not a scope/);
  });
});

describe('createBody', () => {
  it('sends a web client its URIs, first-party choice and auth method, never roles', () => {
    const v = { ...createDefaults('web'), name: ' Shop ', redirectUris: 'https://shop.example.com/cb', roles: ['x'] };
    const body = {
      kind: 'web',
      name: 'Shop',
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      redirectUris: ['https://shop.example.com/cb'],
      postLogoutRedirectUris: [],
      tokenEndpointAuthMethod: 'client_secret_basic',
      idTokenSigningAlg: 'RS256',
    };
    // Off by default, as in the API: not sent at all.
    expect(createBody('web', v)).toEqual(body);
    expect(createBody('web', { ...v, firstParty: true })).toEqual({ ...body, firstParty: true });
  });
  it('sends a public client no auth method (the server refuses one)', () => {
    const body = createBody('spa', { ...createDefaults('spa'), name: 'App', redirectUris: 'https://a.example/cb' });
    expect(body).not.toHaveProperty('tokenEndpointAuthMethod');
    expect(body).not.toHaveProperty('roles');
  });
  it('sends a service its roles and no redirect URIs, first-party flag or refresh lifetimes', () => {
    const v = {
      ...createDefaults('service'),
      name: 'Billing job',
      redirectUris: 'https://x.example/cb',
      roles: ['billing'],
      refreshTokenIdleSeconds: 3600 as const,
      accessTokenTtlSeconds: 600 as const,
    };
    const body = createBody('service', v);
    expect(body).toMatchObject({ kind: 'service', roles: ['billing'], scopes: [], accessTokenTtlSeconds: 600 });
    expect(body).not.toHaveProperty('redirectUris');
    expect(body).not.toHaveProperty('postLogoutRedirectUris');
    expect(body).not.toHaveProperty('firstParty');
    expect(body).not.toHaveProperty('refreshTokenIdleSeconds');
    expect(body).not.toHaveProperty('idTokenSigningAlg');
  });
});

describe('patchBody', () => {
  it('sends nothing when nothing changed', () => {
    const form = clientToForm(client());
    expect(patchBody('web', form, { ...form })).toEqual({});
  });
  it('sends only what changed; an emptied lifetime goes back to the default (null)', () => {
    const initial = clientToForm(client({ accessTokenTtlSeconds: 600 }));
    const next = {
      ...initial,
      redirectUris: 'https://shop.example.com/cb\nhttps://shop.example.com/cb2',
      accessTokenTtlSeconds: '' as const,
      idTokenSigningAlg: 'RS256' as const,
    };
    expect(patchBody('web', initial, next)).toEqual({
      redirectUris: ['https://shop.example.com/cb', 'https://shop.example.com/cb2'],
      accessTokenTtlSeconds: null,
      idTokenSigningAlg: 'RS256',
    });
  });
  it('ignores whitespace-only changes to the URI lists', () => {
    const initial = clientToForm(client());
    expect(patchBody('web', initial, { ...initial, redirectUris: '  https://shop.example.com/cb\n\n' })).toEqual({});
  });
  it('never sends a public client an auth method, nor a web client roles', () => {
    const initial = clientToForm(client({ kind: 'spa', tokenEndpointAuthMethod: 'none', confidential: false }));
    expect(
      patchBody('spa', initial, { ...initial, tokenEndpointAuthMethod: 'client_secret_post', roles: ['a'] }),
    ).toEqual({});
  });
  it('compares roles as a set', () => {
    const initial = clientToForm(client({ kind: 'service', roles: ['a', 'b'], redirectUris: [], scopes: [] }));
    expect(patchBody('service', initial, { ...initial, roles: ['b', 'a'] })).toEqual({});
    expect(patchBody('service', initial, { ...initial, roles: ['a'] })).toEqual({ roles: ['a'] });
  });
  it('clears the default API with null', () => {
    const initial = clientToForm(client({ defaultApi: 'https://api.example.com/orders' }));
    expect(patchBody('web', initial, { ...initial, defaultApi: '' })).toEqual({ defaultApi: null });
  });
});

describe('clientToForm', () => {
  it('shows a service’s implicit admin API default as no choice', () => {
    const form = clientToForm(
      client({ kind: 'service', defaultApi: 'https://id.example.com/api' }),
      'https://id.example.com/api',
    );
    expect(form.defaultApi).toBe('');
  });
  it('turns unset lifetimes into empty fields', () => {
    const form = clientToForm(client());
    expect(form.accessTokenTtlSeconds).toBe('');
    expect(form.refreshTokenAbsoluteSeconds).toBe('');
  });
});

describe('lifetimeProblem', () => {
  it('refuses an idle lifetime longer than the absolute one', () => {
    expect(lifetimeProblem({ refreshTokenIdleSeconds: 7200, refreshTokenAbsoluteSeconds: 3600 })).toMatch(/idle/);
    expect(lifetimeProblem({ refreshTokenIdleSeconds: 3600, refreshTokenAbsoluteSeconds: 7200 })).toBeNull();
    expect(lifetimeProblem({ refreshTokenIdleSeconds: 7200, refreshTokenAbsoluteSeconds: '' })).toBeNull();
  });
});

describe('validateClientForm', () => {
  it('asks a user-facing kind for a name and a redirect URI', () => {
    const errors = validateClientForm('native', createDefaults('native'));
    expect(Object.keys(errors).sort()).toEqual(['name', 'redirectUris']);
  });
  it('asks a service for a name only', () => {
    expect(validateClientForm('service', createDefaults('service'))).toEqual({ name: 'Give the application a name' });
  });
  it('checks post-logout URIs, scopes and lifetimes where the kind has them', () => {
    const v = {
      ...createDefaults('web'),
      name: 'Shop',
      redirectUris: 'https://shop.example.com/cb',
      postLogoutRedirectUris: 'ftp://shop.example.com/',
      scopes: ['openid', 'bad scope'],
      accessTokenTtlSeconds: 30 as const,
      refreshTokenIdleSeconds: 7200 as const,
      refreshTokenAbsoluteSeconds: 3600 as const,
    };
    const errors = validateClientForm('web', v);
    expect(errors.postLogoutRedirectUris).toMatch(/Item 1/);
    expect(errors.scopes).toMatch(/bad scope/);
    expect(errors.accessTokenTtlSeconds).toMatch(/60/);
    expect(errors.refreshTokenIdleSeconds).toMatch(/idle/);
    expect(errors.redirectUris).toBeUndefined();
  });
  it('ignores refresh lifetimes of a service (it gets no refresh tokens)', () => {
    const v = { ...createDefaults('service'), name: 'Job', refreshTokenIdleSeconds: 1 as const };
    expect(validateClientForm('service', v)).toEqual({});
  });
});

describe('an application form’s API errors', () => {
  it('put an unknown scope (which carries no path) beside the scopes field', () => {
    const error = new ApiError(400, 'unknown_scope', 'No API of this tenant defines orders:nuke', {
      scopes: ['orders:nuke'],
    });
    expect(apiFieldErrors(error, CLIENT_ERROR_OPTIONS)).toEqual({
      fields: { scopes: 'No API of this tenant defines orders:nuke' },
      other: [],
    });
  });
});
