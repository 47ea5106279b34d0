import { describe, expect, it } from 'vitest';
import { accessTokenRoles, holdsPermission, needsRoleDefinitions } from './permissions';
import { type ConsoleScope, systemScope } from './scope';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: unknown) => `${b64url({ alg: 'ES256', typ: 'at+jwt' })}.${b64url(claims)}.c2ln`;
const acme: ConsoleScope = { kind: 'tenant', authTenant: 'acme', prefix: '/t/acme' };

describe('accessTokenRoles', () => {
  it('reads the roles claim of a JWT, in any script', () => {
    expect(accessTokenRoles(jwt({ sub: 'usr_1', roles: ['tenant:admin', 'prüfer'] }))).toEqual([
      'tenant:admin',
      'prüfer',
    ]);
    expect(accessTokenRoles(jwt({ sub: 'usr_1', roles: [] }))).toEqual([]);
  });

  it('answers null for anything else: opaque tokens, no claim, a claim of another shape, bad base64 or JSON', () => {
    expect(accessTokenRoles('lk_opaque')).toBeNull();
    expect(accessTokenRoles(jwt({ sub: 'usr_1' }))).toBeNull();
    expect(accessTokenRoles(jwt({ roles: 'tenant:admin' }))).toBeNull();
    expect(accessTokenRoles(jwt({ roles: [1] }))).toBeNull();
    expect(accessTokenRoles('a.%%%.c')).toBeNull();
    expect(accessTokenRoles(`a.${Buffer.from('{nope').toString('base64url')}.c`)).toBeNull();
  });
});

describe('holdsPermission', () => {
  const ticketsReader = { name: 'ticket-viewer', permissions: ['tickets:read', 'roles:read'] };
  const ticketsWriter = { name: 'inviter', permissions: ['tickets:read', 'tickets:write'] };

  it('a system admin holds everything in every tenant', () => {
    expect(holdsPermission({ scope: systemScope, slug: 'acme', roles: ['system:admin'] }, 'tickets:write')).toBe(true);
    expect(holdsPermission({ scope: systemScope, slug: 'system', roles: ['system:admin'] }, 'tickets:write')).toBe(
      true,
    );
  });

  it('anyone else holds nothing outside the tenant it signed in to', () => {
    expect(holdsPermission({ scope: systemScope, slug: 'acme', roles: ['tenant:admin'] }, 'tickets:read')).toBe(false);
    expect(
      holdsPermission({ scope: acme, slug: 'other', roles: ['inviter'], definitions: [ticketsWriter] }, 'tickets:read'),
    ).toBe(false);
  });

  it('tenant:admin holds everything in its tenant, without reading role definitions', () => {
    const held = { scope: acme, slug: 'acme', roles: ['tenant:admin'] };
    expect(holdsPermission(held, 'tickets:write')).toBe(true);
    expect(needsRoleDefinitions(held, 'tickets:write')).toBe(false);
  });

  it('custom roles hold what their definitions carry, together', () => {
    const held = { scope: acme, slug: 'acme', roles: ['ticket-viewer'] };
    expect(needsRoleDefinitions(held, 'tickets:write')).toBe(true);
    expect(holdsPermission(held, 'tickets:write')).toBeNull();
    const definitions = [ticketsReader, ticketsWriter];
    expect(holdsPermission({ ...held, definitions }, 'tickets:read')).toBe(true);
    expect(holdsPermission({ ...held, definitions }, 'tickets:write')).toBe(false);
    expect(holdsPermission({ ...held, roles: ['ticket-viewer', 'inviter'], definitions }, 'tickets:write')).toBe(true);
  });

  it('no roles hold nothing; an unreadable token tells nothing', () => {
    expect(holdsPermission({ scope: acme, slug: 'acme', roles: [] }, 'tickets:read')).toBe(false);
    expect(holdsPermission({ scope: acme, slug: 'acme', roles: null }, 'tickets:read')).toBeNull();
    expect(needsRoleDefinitions({ scope: acme, slug: 'acme', roles: null }, 'tickets:read')).toBe(false);
  });
});
