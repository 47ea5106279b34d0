/**
 * oidc-provider's storage, in our database: one row per artifact (session, interaction,
 * authorization code, tokens, grant...) scoped to the tenant. Clients come from the
 * `clients` table. Single-use artifacts are consumed atomically; consuming one twice
 * revokes its whole grant and fails the request.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { errors as OidcErrors } from 'oidc-provider';
import type { DB } from '../db/schema.js';

/** What oidc-provider stores for a model (loosely typed: it is the library's format). */
export type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  accountId?: string;
  consumed?: number;
  clientId?: string;
  kind?: string;
};

export interface ClientSource {
  /** The client's oidc-provider metadata, or undefined. */
  clientMetadata(tenantId: string, clientId: string): Promise<Record<string, unknown> | undefined>;
}

/**
 * Stored key of an artifact. Token, code and session ids are bearer secrets, so only their
 * SHA-256 is stored (a copy of the table grants nothing); grant ids are not secrets and
 * stay as they are, since other rows refer to them.
 */
function storedId(model: string, id: string): string {
  return model === 'Grant' ? id : createHash('sha256').update(id).digest('base64url');
}

export class DbAdapter {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly tenantId: string,
    private readonly model: string,
    private readonly clients: ClientSource,
    /** oidc-provider's error classes (the module is loaded lazily, on first use of OIDC). */
    private readonly errors: typeof OidcErrors,
  ) {}

  async upsert(id: string, payload: Payload, expiresIn: number): Promise<void> {
    if (this.model === 'Client') throw new Error('clients are managed through the admin API');
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : null;
    const row = {
      model: this.model,
      id: storedId(this.model, id),
      tenant_id: this.tenantId,
      payload: JSON.stringify(payload),
      grant_id: this.model === 'Grant' ? id : (payload.grantId ?? null),
      user_code: payload.userCode ?? null,
      // Grants are indexed by client (in uid) so that deleting a client can find them.
      uid: this.model === 'Grant' ? (payload.clientId ?? null) : (payload.uid ?? null),
      account_id: payload.accountId ?? null,
      expires_at: expiresAt,
      consumed_at: null,
    };
    await this.db
      .insertInto('oidc_payloads')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['model', 'id']).doUpdateSet({
          payload: row.payload,
          grant_id: row.grant_id,
          user_code: row.user_code,
          uid: row.uid,
          account_id: row.account_id,
          expires_at: row.expires_at,
        }),
      )
      .execute();
  }

  async find(id: string): Promise<Payload | undefined> {
    if (this.model === 'Client') {
      return (await this.clients.clientMetadata(this.tenantId, id)) as Payload | undefined;
    }
    const row = await this.db
      .selectFrom('oidc_payloads')
      .select(['payload', 'consumed_at', 'expires_at'])
      .where('model', '=', this.model)
      .where('id', '=', storedId(this.model, id))
      .where('tenant_id', '=', this.tenantId)
      .executeTakeFirst();
    return row ? this.toPayload(row) : undefined;
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    const row = await this.db
      .selectFrom('oidc_payloads')
      .select(['payload', 'consumed_at', 'expires_at'])
      .where('model', '=', this.model)
      .where('uid', '=', uid)
      .where('tenant_id', '=', this.tenantId)
      .executeTakeFirst();
    return row ? this.toPayload(row) : undefined;
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    const row = await this.db
      .selectFrom('oidc_payloads')
      .select(['payload', 'consumed_at', 'expires_at'])
      .where('model', '=', this.model)
      .where('user_code', '=', userCode)
      .where('tenant_id', '=', this.tenantId)
      .executeTakeFirst();
    return row ? this.toPayload(row) : undefined;
  }

  /**
   * Marks a single-use artifact used, exactly once: of several concurrent attempts one
   * updates the row; the others find it consumed, revoke the grant and fail.
   */
  async consume(id: string): Promise<void> {
    const now = Date.now();
    const res = await this.db
      .updateTable('oidc_payloads')
      .set({ consumed_at: now })
      .where('model', '=', this.model)
      .where('id', '=', storedId(this.model, id))
      .where('tenant_id', '=', this.tenantId)
      .where('consumed_at', 'is', null)
      .executeTakeFirst();
    if (res.numUpdatedRows === 0n) {
      const row = await this.db
        .selectFrom('oidc_payloads')
        .select('grant_id')
        .where('model', '=', this.model)
        .where('id', '=', storedId(this.model, id))
        .where('tenant_id', '=', this.tenantId)
        .executeTakeFirst();
      if (row?.grant_id) await this.revokeWholeGrant(row.grant_id);
      throw new this.errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
    }
  }

  async destroy(id: string): Promise<void> {
    await this.db
      .deleteFrom('oidc_payloads')
      .where('model', '=', this.model)
      .where('id', '=', storedId(this.model, id))
      .where('tenant_id', '=', this.tenantId)
      .execute();
  }

  /** oidc-provider calls this once per model: remove this model's rows of the grant. */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db
      .deleteFrom('oidc_payloads')
      .where('tenant_id', '=', this.tenantId)
      .where('model', '=', this.model)
      .where('grant_id', '=', grantId)
      .execute();
  }

  /** A replayed code or refresh token: everything issued under the grant goes, grant too. */
  private async revokeWholeGrant(grantId: string): Promise<void> {
    await this.db
      .deleteFrom('oidc_payloads')
      .where('tenant_id', '=', this.tenantId)
      .where('grant_id', '=', grantId)
      .execute();
  }

  private toPayload(row: { payload: string; consumed_at: number | null; expires_at: number | null }) {
    if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as Payload;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    return payload;
  }
}

/** Deletes expired artifacts; run on a schedule. Returns how many went. */
export async function purgeExpired(db: Kysely<DB>): Promise<number> {
  const res = await db.deleteFrom('oidc_payloads').where('expires_at', '<=', Date.now()).executeTakeFirst();
  return Number(res.numDeletedRows);
}
