/**
 * The scopes an access token for one of the tenant's APIs carries: what the API defines ∩
 * what the application may ask (its `scopes`) ∩ what the subject's roles grant for that API
 * (a user's for a user's token, a service client's own for client credentials). oidc-provider
 * then keeps of these only what was requested and granted. The admin API defines no scopes:
 * its tokens carry the subject's roles, which the admin API reads afresh.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ResourceServer } from '../apis/service.js';
import { reachOfRoles } from '../auth/grants.js';
import type { Tenant } from '../tenants/service.js';
import type { ProviderDeps } from './provider.js';
import { apiScopesOf } from './scopes.js';

/** Who a token being made would speak for, if known yet (not before sign-in). */
function subjectOf(koa: KoaContextWithOIDC): { accountId: string } | { client: true } | undefined {
  const oidc = koa.oidc;
  if (oidc.route === 'token' && oidc.params?.grant_type === 'client_credentials') return { client: true };
  const grant = oidc.entities.Grant as { accountId?: string } | undefined;
  const accountId = grant?.accountId ?? (oidc.route === 'token' ? undefined : oidc.session?.accountId);
  return accountId ? { accountId } : undefined;
}

export async function apiScopesGranted(
  deps: Pick<ProviderDeps, 'clients' | 'roles' | 'db'>,
  tenant: Tenant,
  koa: KoaContextWithOIDC,
  clientId: string,
  server: ResourceServer,
): Promise<string[]> {
  if (server.scopes.length === 0) return [];
  const client = await deps.clients.findByClientId(tenant.id, clientId);
  if (!client) return [];
  const asked = apiScopesOf(client.scopes, server.scopes);
  const subject = subjectOf(koa);
  // Before sign-in (the authorization request's first pass) only the application's limit is known.
  if (!subject || asked.length === 0) return asked;
  const roles = await deps.roles.grantsOf(
    deps.db,
    tenant.id,
    'client' in subject ? { clientRowId: client.id } : { userId: subject.accountId },
  );
  const reach = reachOfRoles(roles);
  if (reach.tenantWide) return asked;
  const held = reach.apiScopes.get(server.identifier);
  return asked.filter((s) => held?.has(s));
}
