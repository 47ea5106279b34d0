/**
 * Signing keys per tenant, one set per algorithm (ES256 by default, RS256 for clients that
 * ask for it). Each set has a `next` key published in the JWKS before it signs anything,
 * the `current` key that signs, and `previous` keys kept published until every token they
 * signed has expired. Rotation moves next → current → previous and makes a new next.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AuditActor, AuditService } from '../audit/service.js';
import { type Database, lockForUpdate } from '../db/database.js';
import type { DB, SigningKeyRow } from '../db/schema.js';
import { newId } from '../ids.js';
import type { Tenant } from '../tenants/service.js';
import type { SecretBox } from './crypto.js';

export const signingAlgorithms = ['ES256', 'RS256'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

/** The longest a signed token can live (access tokens are capped at a day) plus clock skew. */
export const MAX_SIGNED_TOKEN_LIFETIME_MS = (86_400 + 300) * 1000;

export const signingKeySchema = z
  .object({
    kid: z.string(),
    alg: z.enum(signingAlgorithms),
    status: z.enum(['next', 'current', 'previous']),
    createdAt: z.string(),
    activatedAt: z.string().nullable(),
    retiredAt: z.string().nullable(),
    publishedUntil: z.string().nullable().describe('For previous keys: when they leave the JWKS'),
    publicJwk: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'SigningKey' });

export interface TenantKeys {
  /** Private JWKs for oidc-provider: current keys first (they sign), then the rest. */
  signing: JWK[];
  /** Public JWKs published at jwks_uri. */
  published: JWK[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const statusOrder = { current: 0, next: 1, previous: 2 } as const;

export class KeyService {
  private readonly db: Kysely<DB>;

  constructor(
    private readonly database: Database,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
  ) {
    this.db = database.db;
  }

  /** The tenant's live key rows in signing order, creating the first ones if it has none. */
  private async ensured(tenantId: string): Promise<SigningKeyRow[]> {
    let rows = await this.live(this.db, tenantId);
    if (!signingAlgorithms.every((alg) => rows.some((r) => r.alg === alg && r.status === 'current'))) {
      await this.db.transaction().execute(async (trx) => {
        await lockForUpdate(trx, this.database.dialect, 'tenants', tenantId);
        const existing = await this.live(trx, tenantId);
        for (const alg of signingAlgorithms) {
          if (!existing.some((r) => r.alg === alg && r.status === 'current')) {
            await this.insertKey(trx, tenantId, alg, 'current');
          }
          if (!existing.some((r) => r.alg === alg && r.status === 'next')) {
            await this.insertKey(trx, tenantId, alg, 'next');
          }
        }
      });
      rows = await this.live(this.db, tenantId);
    }
    return [...rows].sort(
      (a, b) =>
        statusOrder[a.status] - statusOrder[b.status] || (a.alg === 'ES256' ? -1 : 1) - (b.alg === 'ES256' ? -1 : 1),
    );
  }

  /** Private and public keys, for the tenant's provider (decrypts the private keys). */
  async keysFor(tenantId: string): Promise<TenantKeys> {
    const rows = await this.ensured(tenantId);
    return {
      signing: rows.map((r) => JSON.parse(this.box.open(r.private_jwk)) as JWK),
      published: rows.map((r) => JSON.parse(r.public_jwk) as JWK),
    };
  }

  /** The published (public) keys only: what token verification needs, nothing decrypted. */
  async publishedKeys(tenantId: string): Promise<JWK[]> {
    return (await this.ensured(tenantId)).map((r) => JSON.parse(r.public_jwk) as JWK);
  }

  async list(tenant: Tenant) {
    const rows = await this.ensured(tenant.id);
    return rows
      .sort((a, b) => statusOrder[a.status] - statusOrder[b.status] || b.created_at - a.created_at)
      .map((r) => ({
        kid: r.id,
        alg: r.alg,
        status: r.status,
        createdAt: new Date(r.created_at).toISOString(),
        activatedAt: iso(r.activated_at),
        retiredAt: iso(r.retired_at),
        publishedUntil: iso(r.expires_at),
        publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
      }));
  }

  /** next → current → previous, and a new next, for every algorithm. */
  async rotate(tenant: Tenant, actor: AuditActor): Promise<void> {
    await this.ensured(tenant.id);
    await this.db.transaction().execute(async (trx) => {
      await lockForUpdate(trx, this.database.dialect, 'tenants', tenant.id);
      const now = Date.now();
      await trx.deleteFrom('signing_keys').where('tenant_id', '=', tenant.id).where('expires_at', '<=', now).execute();
      const rows = await this.live(trx, tenant.id);
      for (const alg of signingAlgorithms) {
        const current = rows.find((r) => r.alg === alg && r.status === 'current');
        const next = rows.find((r) => r.alg === alg && r.status === 'next');
        if (current) {
          await trx
            .updateTable('signing_keys')
            .set({ status: 'previous', retired_at: now, expires_at: now + MAX_SIGNED_TOKEN_LIFETIME_MS })
            .where('id', '=', current.id)
            .execute();
        }
        if (next) {
          await trx
            .updateTable('signing_keys')
            .set({ status: 'current', activated_at: now })
            .where('id', '=', next.id)
            .execute();
        } else {
          await this.insertKey(trx, tenant.id, alg, 'current');
        }
        await this.insertKey(trx, tenant.id, alg, 'next');
      }
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'keys.rotate',
        target: { type: 'tenant', id: tenant.id },
      });
    });
  }

  /**
   * Fails with a clear message when this instance's secret cannot decrypt the signing keys
   * already stored (another LATCHKEY_SECRET, or a lost key file): better to refuse to start
   * than to answer every OIDC request with a 500.
   */
  async assertSecretMatches(): Promise<void> {
    const row = await this.db.selectFrom('signing_keys').select(['id', 'private_jwk']).limit(1).executeTakeFirst();
    if (!row) return;
    try {
      this.box.open(row.private_jwk);
    } catch {
      throw new Error(
        `LATCHKEY_SECRET does not match the secret the signing keys in this database were encrypted with (key ${row.id}): start with the original secret (or the original key file in the data directory)`,
      );
    }
  }

  /** When the current ES256 key began signing (for scheduled rotation). */
  async currentSince(tenantId: string): Promise<number | null> {
    const row = await this.db
      .selectFrom('signing_keys')
      .select(['activated_at', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'current')
      .where('alg', '=', 'ES256')
      .executeTakeFirst();
    return row ? (row.activated_at ?? row.created_at) : null;
  }

  private async live(executor: Kysely<DB>, tenantId: string): Promise<SigningKeyRow[]> {
    const now = Date.now();
    return executor
      .selectFrom('signing_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
  }

  private async insertKey(trx: Kysely<DB>, tenantId: string, alg: SigningAlgorithm, status: 'current' | 'next') {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const kid = newId('signingKey');
    const pub = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const priv = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
    const now = Date.now();
    await trx
      .insertInto('signing_keys')
      .values({
        id: kid,
        tenant_id: tenantId,
        alg,
        status,
        public_jwk: JSON.stringify(pub),
        private_jwk: this.box.seal(JSON.stringify(priv)),
        created_at: now,
        activated_at: status === 'current' ? now : null,
        retired_at: null,
        expires_at: null,
      })
      .execute();
  }
}
