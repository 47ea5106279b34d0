/**
 * The granting rule on its own (auth/grants.ts): who may hand out what, as a table, and the
 * scope arithmetic of an API token (oidc/scopes.ts). The HTTP routes that call it are tested
 * in authorization.security.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  actingForAnyone,
  assertMayGrant,
  identityProviderGrant,
  NO_REACH,
  principalFrom,
  type Reach,
  type RoleGrant,
  reachOfRoles,
  shortfall,
  TENANT_WIDE,
  unionOf,
} from '../src/auth/grants.js';
import { type Principal, tenantPermissions } from '../src/auth/permissions.js';
import { AppError } from '../src/http/errors.js';
import { apiScopesOf, oidcScopesOf } from '../src/oidc/scopes.js';

const orders = 'https://orders.example.test';
const acme = { id: 'ten_acme', slug: 'acme' };
const system = { id: 'ten_system', slug: 'system' };

const role = (name: string, permissions: string[] = [], apiPermissions: RoleGrant['apiPermissions'] = []) => ({
  name,
  permissions,
  apiPermissions,
});
const holding = (tenant: { id: string; slug: string }, ...roles: RoleGrant[]): Principal =>
  principalFrom('api_key', 'key_x', tenant, roles);

const clerk = role('clerk', ['users:read'], [{ api: orders, scope: 'orders:read' }]);
const writer = role('writer', ['users:read', 'users:write'], [{ api: orders, scope: 'orders:write' }]);
const everyPermission = role('all', [...tenantPermissions]);

describe('shortfall: what a reach holds beyond the caller', () => {
  const cases: [string, Principal, string, Reach, ReturnType<typeof shortfall>][] = [
    ['nothing is always within reach', holding(acme), acme.id, NO_REACH, null],
    ['a role is within a holder of it', holding(acme, clerk), acme.id, reachOfRoles([clerk]), null],
    [
      'an admin permission the caller lacks',
      holding(acme, clerk),
      acme.id,
      reachOfRoles([role('w', ['users:write'])]),
      { permissions: ['users:write'] },
    ],
    [
      'an API scope the caller lacks',
      holding(acme, clerk),
      acme.id,
      reachOfRoles([writer]),
      { permissions: ['users:write'], apiPermissions: [{ api: orders, scope: 'orders:write' }] },
    ],
    [
      'the same scope name of another API is another scope',
      holding(acme, clerk),
      acme.id,
      reachOfRoles([role('x', [], [{ api: 'urn:other', scope: 'orders:read' }])]),
      { apiPermissions: [{ api: 'urn:other', scope: 'orders:read' }] },
    ],
    [
      'every permission is still not tenant:admin',
      holding(acme, everyPermission),
      acme.id,
      reachOfRoles([role('tenant:admin')]),
      { tenantWide: true },
    ],
    [
      'a first-party application needs tenant:admin',
      holding(acme, everyPermission),
      acme.id,
      TENANT_WIDE,
      { tenantWide: true },
    ],
    [
      'tenant:admin holds everything in its tenant',
      holding(acme, role('tenant:admin')),
      acme.id,
      unionOf(TENANT_WIDE, reachOfRoles([writer])),
      null,
    ],
    [
      'tenant:admin is not system:admin',
      holding(system, role('tenant:admin')),
      system.id,
      reachOfRoles([role('system:admin')]),
      { systemWide: true },
    ],
    [
      'another tenant is out of reach even for its own roles',
      holding(acme, clerk),
      'ten_other',
      reachOfRoles([clerk]),
      { permissions: ['users:read'], apiPermissions: [{ api: orders, scope: 'orders:read' }] },
    ],
    [
      'another tenant: tenant:admin there is not tenant:admin here',
      holding(acme, role('tenant:admin')),
      'ten_other',
      TENANT_WIDE,
      { tenantWide: true },
    ],
    [
      'tenant:admin of the system tenant does not reach what acting for its system admins does',
      holding(system, role('tenant:admin')),
      system.id,
      actingForAnyone(system.slug),
      { systemWide: true },
    ],
    [
      'tenant:admin of another tenant reaches what acting for its users does',
      holding(acme, role('tenant:admin')),
      acme.id,
      actingForAnyone(acme.slug),
      null,
    ],
    [
      'system:admin holds everything everywhere',
      holding(system, role('system:admin')),
      acme.id,
      reachOfRoles([role('system:admin')]),
      null,
    ],
    [
      'system:admin outside the system tenant is only tenant-wide',
      holding(acme, role('system:admin')),
      acme.id,
      reachOfRoles([role('system:admin')]),
      { systemWide: true },
    ],
  ];
  it.each(cases)('%s', (_what, principal, tenantId, reach, expected) => {
    expect(shortfall(principal, tenantId, reach)).toEqual(expected);
  });
});

describe('assertMayGrant', () => {
  it('answers 403 forbidden naming the roles that carry more and what is missing', () => {
    let thrown: unknown;
    try {
      assertMayGrant(holding(acme, clerk), acme.id, 'Creating this API key', { roles: [clerk, writer] });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({
      status: 403,
      code: 'forbidden',
      details: {
        roles: ['writer'],
        missing: { permissions: ['users:write'], apiPermissions: [{ api: orders, scope: 'orders:write' }] },
      },
    });
  });

  it('passes silently when everything is held', () => {
    expect(() =>
      assertMayGrant(holding(acme, writer, clerk), acme.id, 'x', { roles: [clerk], reach: reachOfRoles([writer]) }),
    ).not.toThrow();
  });
});

describe('identityProviderGrant: what an identity provider hands out', () => {
  const plain = { trustEmails: false, allowLink: false };
  const idpAdmin = holding(acme, role('idp-admin', ['identity_providers:write']), clerk);
  const cases: [string, Principal, Parameters<typeof identityProviderGrant>, boolean][] = [
    ['a provider that only signs up new users, mapping nothing', idpAdmin, [plain, []], true],
    ['a mapped role the caller holds', idpAdmin, [plain, [clerk]], true],
    ['a mapped role the caller lacks', idpAdmin, [plain, [writer]], false],
    [
      'trustEmails: it can sign in as any user with a verified email',
      idpAdmin,
      [{ ...plain, trustEmails: true }, []],
      false,
    ],
    ['allowLink: it can sign in as the users who link it', idpAdmin, [{ ...plain, allowLink: true }, []], false],
    [
      'a role with every permission is still not tenant-wide',
      holding(acme, everyPermission),
      [{ ...plain, trustEmails: true }, []],
      false,
    ],
    [
      'tenant:admin may do all of it',
      holding(acme, role('tenant:admin')),
      [{ trustEmails: true, allowLink: true }, [writer]],
      true,
    ],
    ["another tenant's admin may not", holding(system, role('tenant:admin')), [plain, [clerk]], false],
  ];
  it.each(cases)('%s', (_what, principal, [settings, roles], allowed) => {
    const check = () =>
      assertMayGrant(principal, acme.id, 'Creating this identity provider', identityProviderGrant(settings, roles));
    if (allowed) expect(check).not.toThrow();
    else expect(check).toThrow(AppError);
  });
});

describe('scopes an application may ask', () => {
  it.each([
    [[], [], []],
    [['openid', 'orders:read'], ['openid'], ['orders:read']],
    [['orders:read', 'orders:write', 'other:x'], [], ['orders:read', 'orders:write']],
    [['openid', 'profile', 'email', 'offline_access'], ['openid', 'profile', 'email', 'offline_access'], []],
  ])('%j: OpenID Connect %j, of the orders API %j', (scopes, oidc, api) => {
    expect(oidcScopesOf(scopes)).toEqual(oidc);
    expect(apiScopesOf(scopes, ['orders:read', 'orders:write'])).toEqual(api);
  });
});
