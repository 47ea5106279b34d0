/**
 * Identity providers for the federation tests, made through the admin API when it has the
 * route, else (before the API's routes) through the store the API uses.
 */
import { expect } from 'vitest';
import type { Principal } from '../../src/auth/permissions.js';
import { createIdentityProviderSchema } from '../../src/federation/schemas.js';
import type { IdentityProvider } from '../../src/federation/store.js';
import type { ApiClient, TestServer } from './server.js';

export type AuthenticatedPrincipal = Principal;

/** A system admin, as the store's grant rule sees one. */
export function idpPrincipal(ts: TestServer, slug: string): Principal {
  return {
    kind: 'api_key',
    id: 'key_test',
    tenantId: 'system',
    tenantSlug: slug,
    roles: ['system:admin'],
    permissions: new Set(),
    apiScopes: new Map(),
    tenantAdmin: true,
    systemAdmin: true,
  };
}

export async function createProvider(
  ts: TestServer,
  principal: Principal,
  slug: string,
  body: Record<string, unknown>,
  api?: ApiClient,
): Promise<IdentityProvider> {
  if (api) {
    const res = await api('POST', `/api/v1/tenants/${slug}/identity-providers`, { body });
    if (res.status !== 404 || res.body?.error?.code !== 'not_found') {
      expect(res.status, res.text).toBe(201);
      return res.body as IdentityProvider;
    }
  }
  const ctx = ts.server.ctx;
  const tenant = await ctx.tenants.findBySlug(slug);
  if (!tenant) throw new Error(`no tenant ${slug}`);
  return ctx.identityProviders.create(tenant, createIdentityProviderSchema.parse(body), principal, {
    type: 'system',
    id: null,
    ip: null,
    requestId: null,
  });
}
