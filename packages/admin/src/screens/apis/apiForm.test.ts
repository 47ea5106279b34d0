import { describe, expect, it } from 'vitest';
import type { ResourceApi } from '../../api/types';
import {
  apiFormFields,
  apiToForm,
  createApiBody,
  emptyApiForm,
  identifierProblem,
  patchApiBody,
  scopeNameProblem,
  scopeRow,
  validateApiForm,
} from './apiForm';

const orders: ResourceApi = {
  id: 'api_01',
  identifier: 'https://api.example.com/orders',
  name: 'Orders',
  scopes: [{ name: 'orders:read', description: 'Read orders' }],
  accessTokenTtlSeconds: 3600,
  builtin: false,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  version: 2,
};

describe('identifierProblem', () => {
  it('accepts absolute URIs in their normalised form', () => {
    expect(identifierProblem('https://api.example.com/orders')).toBeNull();
    expect(identifierProblem('urn:example:orders')).toBeNull();
  });
  it('says how to write a URI that a parser would rewrite', () => {
    expect(identifierProblem('https://api.example.com')).toMatch(/https:\/\/api\.example\.com\//);
    expect(identifierProblem('HTTPS://API.example.com/x')).toMatch(/https:\/\/api\.example\.com\/x/);
  });
  it('refuses relative URIs, fragments and empty values', () => {
    expect(identifierProblem('orders')).toMatch(/absolute/);
    expect(identifierProblem('https://api.example.com/#x')).toMatch(/fragment/);
    expect(identifierProblem('   ')).toMatch(/identifier/);
  });
});

describe('scopeNameProblem', () => {
  it('accepts scope tokens and refuses OpenID Connect scopes and spaces', () => {
    expect(scopeNameProblem('orders:read')).toBeNull();
    expect(scopeNameProblem('openid')).toMatch(/OpenID/);
    expect(scopeNameProblem('read orders')).toMatch(/spaces/);
    expect(scopeNameProblem('')).toMatch(/Name/);
  });
});

describe('validateApiForm', () => {
  it('puts each problem on its field, scope rows by index', () => {
    const v = {
      ...emptyApiForm(),
      identifier: 'nope',
      scopes: [scopeRow('a'), scopeRow('a'), scopeRow('bad scope')],
      accessTokenTtlSeconds: 10 as const,
    };
    const errors = validateApiForm(v, { creating: true });
    expect(Object.keys(errors).sort()).toEqual([
      'accessTokenTtlSeconds',
      'identifier',
      'name',
      'scopes.1.name',
      'scopes.2.name',
    ]);
    expect(errors['scopes.1.name']).toMatch(/scope 1/);
  });
  it('does not check the identifier when editing (it cannot change)', () => {
    const v = { ...apiToForm(orders), identifier: 'whatever' };
    expect(validateApiForm(v, { creating: false })).toEqual({});
  });
});

describe('bodies', () => {
  it('creates with trimmed values and leaves out an empty lifetime', () => {
    const v = { ...emptyApiForm(), identifier: ' https://a.example/ ', name: ' A ', scopes: [scopeRow(' x ', ' y ')] };
    expect(createApiBody(v)).toEqual({
      identifier: 'https://a.example/',
      name: 'A',
      scopes: [{ name: 'x', description: 'y' }],
    });
  });
  it('patches only what changed', () => {
    const initial = apiToForm(orders);
    expect(patchApiBody(initial, { ...initial })).toEqual({});
    const next = { ...initial, scopes: [...initial.scopes, scopeRow('orders:write', 'Change orders')] };
    expect(patchApiBody(initial, next)).toEqual({
      scopes: [
        { name: 'orders:read', description: 'Read orders' },
        { name: 'orders:write', description: 'Change orders' },
      ],
    });
    expect(patchApiBody(initial, { ...initial, accessTokenTtlSeconds: 600 })).toEqual({ accessTokenTtlSeconds: 600 });
  });
  it('lists the form paths errors can name', () => {
    expect(apiFormFields(1)).toEqual([
      'identifier',
      'name',
      'scopes',
      'accessTokenTtlSeconds',
      'scopes.0.name',
      'scopes.0.description',
    ]);
  });
});
