import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditActor, AuditService } from '../audit/service.js';
import { assertMayGrant, principalFrom } from '../auth/grants.js';
import { type Principal, SYSTEM_TENANT_SLUG } from '../auth/permissions.js';
import { TtlCache } from '../cache.js';
import type { Database } from '../db/database.js';
import type { ApiKeyRow, DB } from '../db/schema.js';
import { badRequest, conflict, notFound } from '../http/errors.js';
import { applyKeyset, cursorSchema, decodeCursor, limitSchema, parseSort, toPage } from '../http/pagination.js';
import { idPattern, newId } from '../ids.js';
import { type RoleService, roleGrantOf, roleNameSchema } from '../roles/service.js';
import type { Tenant } from '../tenants/service.js';

export const apiKeyIdSchema = z.string().regex(idPattern('apiKey'), 'must be an API key id (key_…)');

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    roles: z.array(z.string()),
    prefix: z.string().describe('The first characters of the secret, to recognise it'),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = apiKeySchema
  .extend({ secret: z.string().describe('The key itself: shown this once, stored only as a hash') })
  .meta({ id: 'CreatedApiKey' });

export const createApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  roles: z.array(roleNameSchema).min(1).max(50),
  expiresAt: z.iso
    .datetime({ offset: true })
    .transform((v) => Date.parse(v))
    .optional()
    .describe('ISO 8601 time after which the key stops working'),
});

export const listApiKeysQuerySchema = z.strictObject({
  sort: z.string().optional().describe('`createdAt` or `name`, `-` for descending'),
  limit: limitSchema,
  cursor: cursorSchema,
});

const sortFields = {
  createdAt: { column: 'created_at', type: 'number' },
  name: { column: 'name', type: 'string' },
} as const;

/** `lk_` + 32 random bytes in base64url: 256 bits, so one SHA-256 is the right hash. */
export function generateApiKeySecret(): string {
  return `lk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKeySecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function view(r: ApiKeyRow, roles: string[]) {
  return {
    id: r.id,
    name: r.name,
    roles,
    prefix: r.secret_prefix,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
  };
}

interface CachedKey {
  principal: Principal;
  hash: string;
  expiresAt: number | null;
  lastUsedWrite: number;
}

/** How often a key's last-used time is written: at most once a minute per key and node. */
const LAST_USED_RESOLUTION_MS = 60_000;

export class ApiKeyService {
  private readonly db: Kysely<DB>;
  private readonly cache: TtlCache<string, CachedKey | null>;
  /** Counts invalidations, so that a load that overlapped one is not cached. */
  private generation = 0;

  constructor(
    database: Database,
    private readonly audit: AuditService,
    private readonly roles: RoleService,
    cacheTtlMs: number,
    private readonly log: Logger,
  ) {
    this.db = database.db;
    this.cache = new TtlCache(cacheTtlMs, 10_000);
  }

  /** The principal for a presented secret, or null when unknown, expired or revoked. */
  async authenticate(secret: string): Promise<Principal | null> {
    if (secret.length > 200) return null;
    const hash = hashApiKeySecret(secret);
    let entry = this.cache.get(hash);
    if (entry === undefined) {
      const generation = this.generation;
      entry = await this.load(hash);
      // A change during the load may have made it stale: use it this once, keep it not.
      if (generation === this.generation) this.cache.set(hash, entry);
    }
    if (!entry) return null;
    // The lookup was by hash; compare again in constant time for good measure.
    if (!timingSafeEqual(Buffer.from(entry.hash), Buffer.from(hash))) return null;
    const now = Date.now();
    if (entry.expiresAt !== null && entry.expiresAt <= now) return null;
    if (now - entry.lastUsedWrite >= LAST_USED_RESOLUTION_MS) {
      entry.lastUsedWrite = now;
      this.db
        .updateTable('api_keys')
        .set({ last_used_at: now })
        .where('id', '=', entry.principal.id)
        .execute()
        .catch((err: unknown) => this.log.warn({ err }, 'could not record an API key’s last use'));
    }
    return entry.principal;
  }

  private async load(hash: string): Promise<CachedKey | null> {
    const key = await this.db
      .selectFrom('api_keys')
      .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
      .select(['api_keys.id', 'api_keys.tenant_id', 'api_keys.expires_at', 'tenants.slug', 'api_keys.secret_hash'])
      .where('api_keys.secret_hash', '=', hash)
      .executeTakeFirst();
    if (!key) return null;
    const roles = await this.db
      .selectFrom('api_key_roles')
      .innerJoin('roles', 'roles.id', 'api_key_roles.role_id')
      .select(['roles.name', 'roles.permissions', 'roles.api_permissions'])
      .where('api_key_roles.api_key_id', '=', key.id)
      .execute();
    return {
      hash: key.secret_hash,
      expiresAt: key.expires_at,
      lastUsedWrite: 0,
      principal: principalFrom('api_key', key.id, { id: key.tenant_id, slug: key.slug }, roles.map(roleGrantOf)),
    };
  }

  /**
   * Drops cached credentials so that a change (roles, revocation) applies at once here: those
   * of one tenant, or all when no tenant is given. Unknown secrets are dropped either way.
   */
  invalidate(tenantId?: string): void {
    this.generation++;
    if (tenantId === undefined) this.cache.clear();
    else this.cache.deleteWhere((entry) => entry === null || entry.principal.tenantId === tenantId);
  }

  async list(tenant: Tenant, query: z.output<typeof listApiKeysQuerySchema>) {
    const sort = parseSort(query.sort, sortFields, '-createdAt');
    const cursor = decodeCursor(query.cursor, sort);
    const q = this.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenant.id);
    const rows = await applyKeyset(q, sort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    const roles = await this.roleNames(rows.slice(0, query.limit).map((r) => r.id));
    return toPage(
      rows,
      query.limit,
      sort,
      (r) => (sort.column === 'name' ? r.name : r.created_at),
      (r) => r.id,
      (r) => view(r, roles.get(r.id) ?? []),
    );
  }

  async get(tenant: Tenant, id: string) {
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('api_key_not_found', `No API key ${id} in tenant "${tenant.slug}"`);
    const roles = await this.roleNames([row.id]);
    return view(row, roles.get(row.id) ?? []);
  }

  async create(tenant: Tenant, input: z.output<typeof createApiKeySchema>, principal: Principal, actor: AuditActor) {
    if (input.expiresAt !== undefined && input.expiresAt <= Date.now()) {
      throw badRequest('invalid_expiry', '`expiresAt` must be in the future');
    }
    const secret = generateApiKeySecret();
    const created = await this.db.transaction().execute(async (trx) => {
      const roles = await this.roles.byNames(trx, tenant, input.roles);
      assertMayGrant(principal, tenant.id, 'Creating this API key', { roles });
      const row = await insertApiKey(trx, tenant.id, {
        name: input.name,
        secret,
        roleIds: roles.map((r) => r.id),
        createdBy: principal.id,
        expiresAt: input.expiresAt ?? null,
      });
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'api_key.create',
        target: { type: 'api_key', id: row.id },
        details: { name: row.name, roles: roles.map((r) => r.name) },
      });
      return view(row, roles.map((r) => r.name).sort());
    });
    return { ...created, secret };
  }

  async delete(tenant: Tenant, id: string, principal: Principal, actor: AuditActor) {
    if (principal.kind === 'api_key' && principal.id === id) {
      throw conflict('cannot_delete_self', 'You cannot delete the API key you act with');
    }
    try {
      await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('api_keys')
          .select(['id', 'name'])
          .where('tenant_id', '=', tenant.id)
          .where('id', '=', id)
          .executeTakeFirst();
        if (!row) throw notFound('api_key_not_found', `No API key ${id} in tenant "${tenant.slug}"`);
        if (tenant.slug === SYSTEM_TENANT_SLUG) {
          await this.roles.assertSystemAdminRemains(trx, tenant.id, { apiKeyIds: [row.id] });
        }
        await trx.deleteFrom('api_keys').where('id', '=', row.id).execute();
        await this.audit.record(trx, actor, {
          tenantId: tenant.id,
          action: 'api_key.delete',
          target: { type: 'api_key', id: row.id },
          details: { name: row.name },
        });
      });
    } finally {
      this.invalidate(tenant.id);
    }
  }

  private async roleNames(keyIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (keyIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('api_key_roles')
      .innerJoin('roles', 'roles.id', 'api_key_roles.role_id')
      .select(['api_key_roles.api_key_id', 'roles.name'])
      .where('api_key_roles.api_key_id', 'in', keyIds)
      .orderBy('roles.name')
      .execute();
    for (const r of rows) out.set(r.api_key_id, [...(out.get(r.api_key_id) ?? []), r.name]);
    return out;
  }
}

/** Stores a key (hash only) and its roles. Used by the API and by bootstrap. */
export async function insertApiKey(
  trx: Kysely<DB>,
  tenantId: string,
  key: { name: string; secret: string; roleIds: string[]; createdBy: string | null; expiresAt: number | null },
): Promise<ApiKeyRow> {
  const row = await trx
    .insertInto('api_keys')
    .values({
      id: newId('apiKey'),
      tenant_id: tenantId,
      name: key.name,
      secret_hash: hashApiKeySecret(key.secret),
      secret_prefix: key.secret.slice(0, 7),
      created_by: key.createdBy,
      expires_at: key.expiresAt,
      last_used_at: null,
      created_at: Date.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (key.roleIds.length > 0) {
    await trx
      .insertInto('api_key_roles')
      .values(key.roleIds.map((roleId) => ({ tenant_id: tenantId, api_key_id: row.id, role_id: roleId })))
      .execute();
  }
  return row;
}
