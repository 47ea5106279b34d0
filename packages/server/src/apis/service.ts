/**
 * APIs (OAuth resource servers, RFC 8707): an identifier (the `aud` of its access tokens),
 * the scopes it defines and its token lifetime. Every tenant also has the built-in admin
 * API, `{PUBLIC_URL}/api`, which is not stored: it follows PUBLIC_URL.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AuditActor, AuditService } from '../audit/service.js';
import { type Dialect, isUniqueViolation, lockForUpdate } from '../db/database.js';
import type { ApiRow, DB } from '../db/schema.js';
import { deleteAtVersion } from '../db/versions.js';
import { badRequest, conflict, notFound, preconditionFailed } from '../http/errors.js';
import { idPattern, newId } from '../ids.js';
import { isOidcScope } from '../oidc/scopes.js';
import type { Tenant } from '../tenants/service.js';

export const ADMIN_API_ID = 'api_admin';
const MAX_APIS_PER_TENANT = 100;

export const apiIdSchema = z
  .string()
  .refine((v) => v === ADMIN_API_ID || idPattern('api').test(v), { message: 'must be an API id (api_…)' });

const scopeNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be printable ASCII without spaces, quotes or backslashes')
  .refine((s) => !isOidcScope(s), {
    message: 'is an OpenID Connect scope',
  });

const apiScopeSchema = z.strictObject({
  name: scopeNameSchema,
  description: z.string().max(500).default(''),
});

/**
 * Any absolute URI (RFC 3986: a scheme, then anything but spaces, controls and a fragment),
 * kept and compared exactly as given: `https://orders.acme.test` and `…test/` are two APIs.
 */
export function isApiIdentifier(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s#\p{Cc}]+$/u.test(value) && URL.canParse(value);
}

const identifierSchema = z.string().max(2048).refine(isApiIdentifier, {
  message: 'must be an absolute URI without a fragment, like https://api.example.com/orders or urn:example:orders',
});

export const apiSchema = z
  .object({
    id: z.string(),
    identifier: z.string().describe('The audience of its access tokens'),
    name: z.string(),
    scopes: z.array(z.object({ name: z.string(), description: z.string() })),
    accessTokenTtlSeconds: z.number().int(),
    builtin: z.boolean(),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
    version: z.number().int(),
  })
  .meta({ id: 'Api' });

export type ApiView = z.infer<typeof apiSchema>;

const ttlSchema = z.number().int().min(60).max(86_400);

export const createApiSchema = z.strictObject({
  identifier: identifierSchema,
  name: z.string().trim().min(1).max(200),
  scopes: z.array(apiScopeSchema).max(100).default([]),
  accessTokenTtlSeconds: ttlSchema.optional().describe('Defaults to the tenant’s access token lifetime'),
});

export const updateApiSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  scopes: z.array(apiScopeSchema).max(100).optional(),
  accessTokenTtlSeconds: ttlSchema.optional(),
});

/** What oidc-provider needs to issue a token for an API. */
export interface ResourceServer {
  id: string;
  identifier: string;
  scopes: string[];
  accessTokenTtlSeconds: number;
}

function toView(r: ApiRow): ApiView {
  return {
    id: r.id,
    identifier: r.identifier,
    name: r.name,
    scopes: JSON.parse(r.scopes) as ApiView['scopes'],
    accessTokenTtlSeconds: r.access_token_ttl,
    builtin: false,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    version: r.version,
  };
}

function uniqueScopes(scopes: { name: string }[]): void {
  const names = scopes.map((s) => s.name);
  if (new Set(names).size !== names.length) throw badRequest('duplicate_scope', 'Scope names must be unique');
}

export class ApiService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    private readonly audit: AuditService,
    readonly adminApiIdentifier: string,
  ) {}

  adminApi(tenant: Tenant): ApiView {
    return {
      id: ADMIN_API_ID,
      identifier: this.adminApiIdentifier,
      name: 'Latchkey admin API',
      scopes: [],
      accessTokenTtlSeconds: Math.min(tenant.settings.lifetimes.accessTokenSeconds, 3600),
      builtin: true,
      createdAt: null,
      updatedAt: null,
      version: 1,
    };
  }

  async list(tenant: Tenant): Promise<ApiView[]> {
    const rows = await this.db
      .selectFrom('apis')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .orderBy('identifier')
      .execute();
    return [this.adminApi(tenant), ...rows.map(toView)];
  }

  async get(tenant: Tenant, id: string): Promise<ApiView> {
    if (id === ADMIN_API_ID) return this.adminApi(tenant);
    const row = await this.db
      .selectFrom('apis')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('api_not_found', `No API ${id} in tenant "${tenant.slug}"`);
    return toView(row);
  }

  /** The resource server for an identifier (the `resource` parameter), if registered. */
  async resourceServer(tenant: Tenant, identifier: string): Promise<ResourceServer | undefined> {
    if (identifier === this.adminApiIdentifier) {
      const admin = this.adminApi(tenant);
      return { id: admin.id, identifier, scopes: [], accessTokenTtlSeconds: admin.accessTokenTtlSeconds };
    }
    const row = await this.db
      .selectFrom('apis')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      identifier: row.identifier,
      scopes: (JSON.parse(row.scopes) as { name: string }[]).map((s) => s.name),
      accessTokenTtlSeconds: row.access_token_ttl,
    };
  }

  async create(tenant: Tenant, input: z.output<typeof createApiSchema>, actor: AuditActor): Promise<ApiView> {
    uniqueScopes(input.scopes);
    if (input.identifier === this.adminApiIdentifier) {
      throw conflict('api_exists', 'That identifier is the built-in admin API');
    }
    try {
      return await this.db.transaction().execute(async (trx) => {
        // One creation at a time per tenant, so that the count below holds until the insert.
        await lockForUpdate(trx, this.dialect, 'tenants', tenant.id);
        const count = await trx
          .selectFrom('apis')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('tenant_id', '=', tenant.id)
          .executeTakeFirstOrThrow();
        if (Number(count.n) >= MAX_APIS_PER_TENANT) {
          throw conflict('too_many_apis', `A tenant can register at most ${MAX_APIS_PER_TENANT} APIs`);
        }
        const now = Date.now();
        const row = await trx
          .insertInto('apis')
          .values({
            id: newId('api'),
            tenant_id: tenant.id,
            identifier: input.identifier,
            name: input.name,
            scopes: JSON.stringify(input.scopes),
            access_token_ttl: input.accessTokenTtlSeconds ?? tenant.settings.lifetimes.accessTokenSeconds,
            builtin: 0,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await this.audit.record(trx, actor, {
          tenantId: tenant.id,
          action: 'api.create',
          target: { type: 'api', id: row.id },
          details: { identifier: row.identifier },
        });
        return toView(row);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('api_exists', `An API with identifier ${input.identifier} exists`);
      throw err;
    }
  }

  async update(
    tenant: Tenant,
    id: string,
    input: z.output<typeof updateApiSchema>,
    ifMatch: number[] | undefined,
    actor: AuditActor,
  ): Promise<ApiView> {
    if (id === ADMIN_API_ID) throw conflict('builtin_api', 'The admin API cannot be changed');
    if (input.scopes) uniqueScopes(input.scopes);
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('apis')
        .selectAll()
        .where('tenant_id', '=', tenant.id)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw notFound('api_not_found', `No API ${id} in tenant "${tenant.slug}"`);
      if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
      const updated = await trx
        .updateTable('apis')
        .set({
          ...(input.name === undefined ? {} : { name: input.name }),
          ...(input.scopes === undefined ? {} : { scopes: JSON.stringify(input.scopes) }),
          ...(input.accessTokenTtlSeconds === undefined ? {} : { access_token_ttl: input.accessTokenTtlSeconds }),
          version: row.version + 1,
          updated_at: Date.now(),
        })
        .where('id', '=', row.id)
        .where('version', '=', row.version)
        .returningAll()
        .executeTakeFirst();
      if (!updated) throw preconditionFailed();
      const kept = new Set(scopeNames(updated.scopes));
      const removed = scopeNames(row.scopes).filter((name) => !kept.has(name));
      const forgotten = await forgetScopes(trx, tenant.id, row.identifier, removed);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'api.update',
        target: { type: 'api', id: row.id },
        details: { fields: Object.keys(input), ...forgotten },
      });
      return toView(updated);
    });
  }

  async delete(tenant: Tenant, id: string, ifMatch: number[] | undefined, actor: AuditActor): Promise<void> {
    if (id === ADMIN_API_ID) throw conflict('builtin_api', 'The admin API cannot be deleted');
    await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('apis')
        .select(['id', 'version', 'identifier', 'scopes'])
        .where('tenant_id', '=', tenant.id)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw notFound('api_not_found', `No API ${id} in tenant "${tenant.slug}"`);
      if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
      // The version read is part of the delete: a change in between wins (412).
      await deleteAtVersion(trx, 'apis', row.id, row.version);
      const forgotten = await forgetScopes(trx, tenant.id, row.identifier, scopeNames(row.scopes));
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'api.delete',
        target: { type: 'api', id: row.id },
        details: { identifier: row.identifier, ...forgotten },
      });
    });
  }
}

/**
 * Each row's list without what `keep` refuses; the rows whose list shrank are saved (`save`,
 * which names the row) one after the other. Returns their names.
 */
async function pruneLists<R, T>(
  rows: readonly R[],
  listOf: (row: R) => T[],
  keep: (item: T) => boolean,
  save: (row: R, kept: T[]) => Promise<string>,
): Promise<string[]> {
  const changed: string[] = [];
  for (const row of rows) {
    const list = listOf(row);
    const kept = list.filter(keep);
    if (kept.length < list.length) changed.push(await save(row, kept));
  }
  return changed;
}

function scopeNames(stored: string): string[] {
  return (JSON.parse(stored) as { name: string }[]).map((s) => s.name);
}

/**
 * An API's scopes that are gone (the API deleted, or scopes taken off it) leave no trace in
 * the roles that granted them or the applications that could ask for them, in the same
 * transaction: else an API registered again later under the same identifier, or a scope
 * added back, would silently hand them out again to whoever held them before. An
 * application's scope stays while another API of the tenant still defines that name.
 * Returns the roles and applications changed, for the audit event.
 */
async function forgetScopes(
  trx: Kysely<DB>,
  tenantId: string,
  identifier: string,
  removed: readonly string[],
): Promise<{ rolesChanged?: string[]; clientsChanged?: string[] }> {
  if (removed.length === 0) return {};
  const gone = new Set(removed);
  const now = Date.now();
  const roles = await trx
    .selectFrom('roles')
    .select(['id', 'name', 'api_permissions'])
    .where('tenant_id', '=', tenantId)
    .execute();
  const rolesChanged = await pruneLists(
    roles,
    (role) => JSON.parse(role.api_permissions) as { api: string; scope: string }[],
    (p) => p.api !== identifier || !gone.has(p.scope),
    async (role, kept) => {
      await trx
        .updateTable('roles')
        .set((eb) => ({ api_permissions: JSON.stringify(kept), version: eb('version', '+', 1), updated_at: now }))
        .where('id', '=', role.id)
        .execute();
      return role.name;
    },
  );
  // Names another API of the tenant still defines stay askable.
  const others = await trx.selectFrom('apis').select('scopes').where('tenant_id', '=', tenantId).execute();
  for (const other of others) for (const name of scopeNames(other.scopes)) gone.delete(name);
  const clients =
    gone.size === 0
      ? []
      : await trx
          .selectFrom('clients')
          .select(['id', 'client_id', 'scopes'])
          .where('tenant_id', '=', tenantId)
          .execute();
  const clientsChanged = await pruneLists(
    clients,
    (client) => JSON.parse(client.scopes) as string[],
    (scope) => !gone.has(scope),
    async (client, kept) => {
      await trx
        .updateTable('clients')
        .set((eb) => ({ scopes: JSON.stringify(kept), version: eb('version', '+', 1), updated_at: now }))
        .where('id', '=', client.id)
        .execute();
      return client.client_id;
    },
  );
  return {
    ...(rolesChanged.length > 0 ? { rolesChanged } : {}),
    ...(clientsChanged.length > 0 ? { clientsChanged } : {}),
  };
}
