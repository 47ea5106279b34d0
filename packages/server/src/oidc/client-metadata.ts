import type { Client } from '../clients/service.js';

/** Our client record as oidc-provider client metadata (RFC 7591 names). */
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
  };
  if (client.scopes.length > 0) meta.scope = client.scopes.join(' ');
  if (client.secretHash) meta.client_secret = client.secretHash;
  if (client.defaultApi) meta['urn:latchkey:default_resource'] = client.defaultApi;
  if (client.accessTokenTtlSeconds !== null) meta['urn:latchkey:access_ttl'] = client.accessTokenTtlSeconds;
  if (client.refreshTokenIdleSeconds !== null) meta['urn:latchkey:refresh_idle'] = client.refreshTokenIdleSeconds;
  if (client.refreshTokenAbsoluteSeconds !== null) {
    meta['urn:latchkey:refresh_absolute'] = client.refreshTokenAbsoluteSeconds;
  }
  return meta;
}
