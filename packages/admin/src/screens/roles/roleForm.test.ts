import { describe, expect, it } from 'vitest';
import type { Role } from '../../api/types';
import { rolePatchBody, roleToForm } from './roleForm';

const role: Role = {
  id: 'r1',
  name: 'support',
  description: 'Help desk',
  permissions: ['users:write', 'users:read'],
  apiPermissions: [
    { api: 'https://orders.test', scope: 'write' },
    { api: 'https://orders.test', scope: 'read' },
  ],
  builtin: false,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  version: 3,
};

describe('rolePatchBody', () => {
  it('sends nothing when the form is sent back as loaded (order does not count)', () => {
    const initial = roleToForm(role);
    expect(rolePatchBody(initial, { ...initial, apiPermissions: [...initial.apiPermissions].reverse() })).toEqual({});
  });
  it('sends only what changed', () => {
    const initial = roleToForm(role);
    expect(rolePatchBody(initial, { ...initial, description: ' Front line ' })).toEqual({ description: 'Front line' });
    expect(rolePatchBody(initial, { ...initial, permissions: ['users:read'] })).toEqual({
      permissions: ['users:read'],
    });
    expect(rolePatchBody(initial, { ...initial, apiPermissions: [] })).toEqual({ apiPermissions: [] });
  });
});
