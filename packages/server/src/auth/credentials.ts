import type { ApiKeyService } from '../api-keys/service.js';
import type { Principal } from './permissions.js';

/**
 * Turns a bearer credential into a principal. API keys start with `lk_`; access tokens
 * (JWTs from a tenant's OpenID provider) arrive with the provider.
 */
export class CredentialService {
  constructor(private readonly apiKeys: ApiKeyService) {}

  async authenticate(bearer: string): Promise<Principal | null> {
    if (bearer.startsWith('lk_')) return this.apiKeys.authenticate(bearer);
    return null;
  }
}
