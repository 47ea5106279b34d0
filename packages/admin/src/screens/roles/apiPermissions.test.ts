import { describe, expect, it } from 'vitest';
import type { ResourceApi } from '../../api/types';
import {
  apisWithScopes,
  normalizeApiPermissions,
  scopesByApi,
  setApiScopes,
  summarizeApiPermissions,
} from './apiPermissions';

const api = (identifier: string, name: string, scopes: string[], builtin = false): ResourceApi => ({
  id: name,
  identifier,
  name,
  scopes: scopes.map((s) => ({ name: s, description: '' })),
  accessTokenTtlSeconds: 3600,
  builtin,
  createdAt: null,
  updatedAt: null,
  version: 1,
});
const orders = 'https://orders.example.test';
const billing = 'https://billing.example.test';

describe('API permissions', () => {
  it('are each pair once, sorted, so an unchanged list compares equal', () => {
    expect(
      normalizeApiPermissions([
        { api: orders, scope: 'write' },
        { api: billing, scope: 'read' },
        { api: orders, scope: 'read' },
        { api: orders, scope: 'write' },
      ]),
    ).toEqual([
      { api: billing, scope: 'read' },
      { api: orders, scope: 'read' },
      { api: orders, scope: 'write' },
    ]);
  });
  it('group per API and replace one API’s scopes without touching the others', () => {
    const list = [
      { api: orders, scope: 'read' },
      { api: billing, scope: 'read' },
    ];
    expect([...scopesByApi(list)]).toEqual([
      [orders, ['read']],
      [billing, ['read']],
    ]);
    expect(setApiScopes(list, orders, ['read', 'write'])).toEqual([
      { api: billing, scope: 'read' },
      { api: orders, scope: 'read' },
      { api: orders, scope: 'write' },
    ]);
    expect(setApiScopes(list, orders, [])).toEqual([{ api: billing, scope: 'read' }]);
  });
  it('are offered from the tenant’s own APIs that define scopes (not the admin API)', () => {
    const apis = [
      api('https://id.test/api', 'Admin', [], true),
      api(orders, 'Orders', ['read']),
      api(billing, 'B', []),
    ];
    expect(apisWithScopes(apis).map((a) => a.name)).toEqual(['Orders']);
  });
  it('read as one line per API, by name where the API still exists', () => {
    const apis = [api(orders, 'Orders', ['read', 'write'])];
    expect(summarizeApiPermissions([], apis)).toBe('No API permissions');
    expect(
      summarizeApiPermissions(
        [
          { api: orders, scope: 'write' },
          { api: orders, scope: 'read' },
          { api: billing, scope: 'pay' },
        ],
        apis,
      ),
    ).toBe(`${billing}: pay · Orders: read, write`);
  });
});
