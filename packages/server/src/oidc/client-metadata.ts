import type { Client } from '../clients/service.js';
import { oidcScopesOf } from './scopes.js';

/**
 * Our client record as oidc-provider client metadata (RFC 7591 names), with our own
 * `urn:latchkey:` properties (the full scope list, API scopes included, among them).
 */
export function clientMetadata(client: Client): Record<string, unknown> {
  const service = client.kind === 'service';
  const meta: Record<string, unknown> = {
    client_id: client.clientId,
    client_name: client.name,
    application_type: client.kind === 'native' ? 'native' : 'web',
    grant_types: service ? ['client_credentials'] : ['authorization_code', 'refresh_token'],
    response_types: service ? [] : ['code'],
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    id_token_signed_response_alg: client.idTokenSigningAlg,
    'urn:latchkey:kind': client.kind,
    'urn:latchkey:first_party': client.firstParty,
    'urn:latchkey:scopes': client.scopes,
  };
  // oidc-provider checks `scope` against the OpenID Connect scopes it knows, and holds a client
  // to it only for those; API scopes are held to the list when a token is issued (provider.ts).
  const oidc = oidcScopesOf(client.scopes);
  if (oidc.length > 0) meta.scope = oidc.join(' ');
  if (client.secretHash) meta.client_secret = client.secretHash;
  if (client.defaultApi) meta['urn:latchkey:default_resource'] = client.defaultApi;
  if (client.accessTokenTtlSeconds !== null) meta['urn:latchkey:access_ttl'] = client.accessTokenTtlSeconds;
  if (client.refreshTokenIdleSeconds !== null) meta['urn:latchkey:refresh_idle'] = client.refreshTokenIdleSeconds;
  if (client.refreshTokenAbsoluteSeconds !== null) {
    meta['urn:latchkey:refresh_absolute'] = client.refreshTokenAbsoluteSeconds;
  }
  return meta;
}
