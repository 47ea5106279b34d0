/**
 * Turns a bearer credential into a principal: an API key (`lk_…`), or an access token (a
 * JWT) that a tenant's provider issued for the admin API. A token is accepted only from
 * the tenant that issued it (`iss`), for the admin API audience, signed by one of that
 * tenant's published keys with ES256 or RS256, unexpired; the caller's roles are read
 * fresh (within the cache TTL), so removing a role takes effect before the token expires.
 */
import { hash } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { Kysely } from 'kysely';
import type { ApiKeyService } from '../api-keys/service.js';
import { TtlCache } from '../cache.js';
import type { ClientService } from '../clients/service.js';
import type { Config } from '../config.js';
import type { DB } from '../db/schema.js';
import type { KeyService } from '../keys/service.js';
import type { RoleService } from '../roles/service.js';
import { slugSchema, type TenantService } from '../tenants/service.js';
import { principalFrom } from './grants.js';
import type { Principal } from './permissions.js';

interface TokenDeps {
  tenants: TenantService;
  keys: KeyService;
  roles: RoleService;
  clients: ClientService;
  db: Kysely<DB>;
  config: Config;
  adminApi: string;
}

type KeySet = ReturnType<typeof createLocalJWKSet>;

export class CredentialService {
  private readonly keySets: TtlCache<string, KeySet>;
  private readonly verified: TtlCache<string, { principal: Principal; exp: number }>;
  /** Counts invalidations, so that a verdict reached across one is not cached. */
  private generation = 0;

  constructor(
    private readonly apiKeys: ApiKeyService,
    private readonly deps: TokenDeps,
  ) {
    this.keySets = new TtlCache(Math.max(deps.config.cacheTtlMs, 1000), 1000);
    this.verified = new TtlCache(deps.config.cacheTtlMs, 10_000);
  }

  async authenticate(bearer: string): Promise<Principal | null> {
    if (bearer.startsWith('lk_')) return this.apiKeys.authenticate(bearer);
    if (bearer.split('.').length === 3 && bearer.length < 8192) return this.accessToken(bearer);
    return null;
  }

  /**
   * Forget cached credential verdicts and signing keys, API keys included, after a change: of
   * one tenant's (its roles, users, clients, keys or API keys), or of anything when no tenant
   * is given. A credential's standing depends only on its own tenant, so a change in one
   * tenant (a bulk import, say) leaves the others' verdicts, a system admin's among them, alone.
   */
  invalidate(tenantId?: string): void {
    this.generation++;
    if (tenantId === undefined) {
      this.verified.clear();
      this.keySets.clear();
    } else {
      this.verified.deleteWhere((v) => v.principal.tenantId === tenantId);
      this.keySets.delete(tenantId);
    }
    this.apiKeys.invalidate(tenantId);
  }

  private async accessToken(token: string): Promise<Principal | null> {
    const cacheKey = hash('sha256', token, 'base64url');
    const hit = this.verified.get(cacheKey);
    if (hit && hit.exp * 1000 > Date.now()) return hit.principal;

    const generation = this.generation;
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      return null;
    }
    const prefix = `${this.deps.config.publicUrl}/t/`;
    if (typeof claims.iss !== 'string' || !claims.iss.startsWith(prefix)) return null;
    const slug = claims.iss.slice(prefix.length);
    if (!slugSchema.safeParse(slug).success) return null;
    const tenant = await this.deps.tenants.findBySlug(slug);
    if (!tenant) return null;

    let payload: JWTPayload;
    try {
      payload = await this.verify(token, tenant.id, claims.iss);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey) {
        // Maybe a key rotated on another node: reload this tenant's keys once.
        this.keySets.delete(tenant.id);
        try {
          payload = await this.verify(token, tenant.id, claims.iss);
        } catch {
          return null;
        }
      } else {
        return null;
      }
    }
    const principal = await this.principalFor(tenant.id, tenant.slug, payload);
    if (principal && typeof payload.exp === 'number' && generation === this.generation) {
      this.verified.set(cacheKey, { principal, exp: payload.exp });
    }
    return principal;
  }

  private async verify(token: string, tenantId: string, issuer: string): Promise<JWTPayload> {
    let keySet = this.keySets.get(tenantId);
    if (!keySet) {
      keySet = createLocalJWKSet({ keys: await this.deps.keys.publishedKeys(tenantId) });
      this.keySets.set(tenantId, keySet);
    }
    const { payload } = await jwtVerify(token, keySet, {
      issuer,
      audience: this.deps.adminApi,
      algorithms: ['ES256', 'RS256'],
      typ: 'at+jwt',
      requiredClaims: ['exp', 'iat', 'sub', 'client_id'],
    });
    return payload;
  }

  private async principalFor(tenantId: string, slug: string, payload: JWTPayload): Promise<Principal | null> {
    const sub = String(payload.sub);
    const clientId = String(payload.client_id);
    const { db } = this.deps;
    // The client the token was issued to must still exist (deleting it ends its tokens).
    const client = await this.deps.clients.findByClientId(tenantId, clientId);
    if (!client) return null;
    if (sub === clientId) {
      if (client.kind !== 'service') return null;
      const roles = await this.deps.roles.grantsOf(db, tenantId, { clientRowId: client.id });
      return principalFrom('client', client.id, { id: tenantId, slug }, roles);
    }
    const user = await db
      .selectFrom('users')
      .select(['id', 'status'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', sub)
      .executeTakeFirst();
    if (user?.status !== 'active') return null;
    const roles = await this.deps.roles.grantsOf(db, tenantId, { userId: user.id });
    return principalFrom('user', user.id, { id: tenantId, slug }, roles);
  }
}
