import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AuditActor, AuditService } from '../audit/service.js';
import {
  builtinRoles,
  can,
  type Principal,
  SYSTEM_ADMIN_ROLE,
  SYSTEM_TENANT_SLUG,
  TENANT_ADMIN_ROLE,
} from '../auth/permissions.js';
import { TtlCache } from '../cache.js';
import { insertBuiltInClients } from '../clients/service.js';
import { isUniqueViolation } from '../db/database.js';
import type { DB, TenantRow } from '../db/schema.js';
import { lowerLikePrefix } from '../db/sql.js';
import { badRequest, conflict, notFound, preconditionFailed } from '../http/errors.js';
import {
  applyKeyset,
  cursorSchema,
  decodeCursor,
  limitSchema,
  parseSort,
  prefixUpperBound,
  toPage,
} from '../http/pagination.js';
import { newId } from '../ids.js';
import {
  applySettingsPatch,
  readSettings,
  storedSettings,
  type TenantSettings,
  type TenantSettingsPatch,
  tenantSettingsPatchSchema,
  tenantSettingsSchema,
} from './settings.js';

const slugCharacters = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

export const slugSchema = z
  .string()
  .min(3)
  .max(63)
  .regex(slugCharacters, 'must be 3-63 of a-z, 0-9 and -, not starting or ending with -');

/** `slugSchema` as a test, without zod's work (for every request to a tenant's provider). */
export const isSlug = (value: string) => value.length >= 3 && value.length <= 63 && slugCharacters.test(value);

export const tenantSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    displayName: z.string(),
    settings: tenantSettingsSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int(),
  })
  .meta({ id: 'Tenant' });

export type TenantView = z.infer<typeof tenantSchema>;

const displayNameSchema = z.string().trim().min(1).max(200);

export const createTenantSchema = z.strictObject({
  slug: slugSchema,
  displayName: displayNameSchema,
  settings: tenantSettingsPatchSchema.optional(),
});

export const updateTenantSchema = z.strictObject({
  displayName: displayNameSchema.optional(),
  settings: tenantSettingsPatchSchema.optional(),
});

export const listTenantsQuerySchema = z.strictObject({
  q: z.string().max(200).optional().describe('Slug or display-name prefix'),
  sort: z.string().optional().describe('`slug`, `createdAt`, `-slug`, …'),
  limit: limitSchema,
  cursor: cursorSchema,
});

/** A tenant as services use it, settings parsed. */
export interface Tenant {
  id: string;
  slug: string;
  displayName: string;
  settings: TenantSettings;
  version: number;
  createdAt: number;
  updatedAt: number;
}

const sortFields = {
  slug: { column: 'slug', type: 'string' },
  createdAt: { column: 'created_at', type: 'number' },
  updatedAt: { column: 'updated_at', type: 'number' },
} as const;

export function toTenant(r: TenantRow): Tenant {
  return {
    id: r.id,
    slug: r.slug,
    displayName: r.display_name,
    settings: readSettings(r.settings),
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function tenantView(t: Tenant): TenantView {
  return {
    id: t.id,
    slug: t.slug,
    displayName: t.displayName,
    settings: t.settings,
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
    version: t.version,
  };
}

function settingsOrThrow(current: TenantSettings | undefined, patch: TenantSettingsPatch | undefined, slug: string) {
  const result = applySettingsPatch(current, patch ?? {});
  if (!result.success) {
    throw badRequest(
      'invalid_settings',
      result.error.issues.map((i) => `settings.${i.path.join('.')}: ${i.message}`).join('; '),
      result.error.issues.map((i) => ({ path: `/settings/${i.path.join('/')}`, message: i.message })),
    );
  }
  // Its administrators sign in to the console with a password: never locked out of it.
  if (slug === SYSTEM_TENANT_SLUG && !result.data.passwordSignIn) {
    const message = 'the system tenant keeps password sign-in';
    throw badRequest('invalid_settings', `settings.passwordSignIn: ${message}`, [
      { path: '/settings/passwordSignIn', message },
    ]);
  }
  return result.data;
}

export class TenantService {
  private readonly bySlug: TtlCache<string, Tenant | null>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly audit: AuditService,
    cacheTtlMs: number,
    private readonly publicUrl: string,
  ) {
    this.bySlug = new TtlCache(cacheTtlMs, 10_000);
  }

  /** The tenant with this slug, from a short-lived cache (null is cached too). */
  async findBySlug(slug: string): Promise<Tenant | undefined> {
    const cached = this.bySlug.get(slug);
    if (cached !== undefined) return cached ?? undefined;
    const row = await this.db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
    const tenant = row ? toTenant(row) : null;
    this.bySlug.set(slug, tenant);
    return tenant ?? undefined;
  }

  /**
   * The tenant as cached, without a query: undefined when it is not cached, null when it is
   * known not to exist (for the sign-in form's refusal before routing, login/admission.ts).
   */
  cachedBySlug(slug: string): Tenant | null | undefined {
    return this.bySlug.get(slug);
  }

  /** Forget a cached tenant: called after this node changes it. */
  invalidate(slug: string): void {
    this.bySlug.delete(slug);
  }

  async list(principal: Principal, query: z.output<typeof listTenantsQuerySchema>) {
    const sort = parseSort(query.sort, sortFields, 'slug');
    const cursor = decodeCursor(query.cursor, sort);
    let q = this.db.selectFrom('tenants').selectAll();
    if (!principal.systemAdmin) {
      // Others see their own tenant, and only when they may read it.
      if (!can(principal, principal.tenantId, 'tenant:read')) return { items: [], nextCursor: null };
      q = q.where('id', '=', principal.tenantId);
    }
    if (query.q) {
      const prefix = query.q.toLowerCase();
      q = q.where((eb) =>
        eb.or([
          eb.and([eb('slug', '>=', prefix), eb('slug', '<', prefixUpperBound(prefix))]),
          lowerLikePrefix('display_name', prefix),
        ]),
      );
    }
    const rows = await applyKeyset(q, sort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    const key = sortFields[sort.field.replace(/^-/, '') as keyof typeof sortFields].column as keyof TenantRow;
    return toPage(
      rows,
      query.limit,
      sort,
      (r) => r[key] as string | number,
      (r) => r.id,
      (r) => tenantView(toTenant(r)),
    );
  }

  async create(input: z.output<typeof createTenantSchema>, actor: AuditActor, actorTenantId: string): Promise<Tenant> {
    const settings = settingsOrThrow(undefined, input.settings, input.slug);
    try {
      return await this.db.transaction().execute(async (trx) => {
        const created = await insertTenant(trx, input.slug, input.displayName, settings, { publicUrl: this.publicUrl });
        if (!created) throw conflict('tenant_exists', `A tenant with slug "${input.slug}" exists`);
        const { tenant } = created;
        await this.audit.record(trx, actor, {
          tenantId: actorTenantId,
          action: 'tenant.create',
          target: { type: 'tenant', id: tenant.id },
          details: { slug: tenant.slug },
        });
        return tenant;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('tenant_exists', `A tenant with slug "${input.slug}" exists`);
      throw err;
    } finally {
      this.invalidate(input.slug);
    }
  }

  async update(
    tenant: Tenant,
    input: z.output<typeof updateTenantSchema>,
    ifMatch: number[] | undefined,
    actor: AuditActor,
  ): Promise<Tenant> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('tenants').selectAll().where('id', '=', tenant.id).executeTakeFirst();
        if (!row) throw notFound('tenant_not_found', `No tenant "${tenant.slug}"`);
        if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
        const current = toTenant(row);
        const settings = settingsOrThrow(current.settings, input.settings, current.slug);
        const now = Date.now();
        const updated = await trx
          .updateTable('tenants')
          .set({
            display_name: input.displayName ?? current.displayName,
            settings: storedSettings(settings),
            version: row.version + 1,
            updated_at: now,
          })
          .where('id', '=', row.id)
          .where('version', '=', row.version)
          .returningAll()
          .executeTakeFirst();
        if (!updated) throw preconditionFailed();
        await this.audit.record(trx, actor, {
          tenantId: row.id,
          action: 'tenant.update',
          target: { type: 'tenant', id: row.id },
          details: { fields: Object.keys(input), settings: input.settings ? Object.keys(input.settings) : [] },
        });
        return toTenant(updated);
      });
    } finally {
      this.invalidate(tenant.slug);
    }
  }

  async delete(tenant: Tenant, ifMatch: number[] | undefined, actor: AuditActor, systemTenantId: string) {
    if (tenant.slug === SYSTEM_TENANT_SLUG) {
      throw conflict('system_tenant_protected', 'The system tenant cannot be deleted');
    }
    try {
      await this.db.transaction().execute(async (trx) => {
        const q = trx.deleteFrom('tenants').where('id', '=', tenant.id);
        const res = await (ifMatch ? q.where('version', 'in', ifMatch) : q).executeTakeFirst();
        if (res.numDeletedRows === 0n) {
          const exists = await trx.selectFrom('tenants').select('id').where('id', '=', tenant.id).executeTakeFirst();
          if (exists) throw preconditionFailed();
          throw notFound('tenant_not_found', `No tenant "${tenant.slug}"`);
        }
        // The tenant's own log went with it; the deletion is recorded in the system tenant.
        await this.audit.record(trx, actor, {
          tenantId: systemTenantId,
          action: 'tenant.delete',
          target: { type: 'tenant', id: tenant.id },
          details: { slug: tenant.slug },
        });
      });
    } finally {
      this.invalidate(tenant.slug);
    }
  }
}

/**
 * Inserts a tenant with its built-in roles (`tenant:admin`, and `system:admin` in `system`).
 * Every tenant also gets the built-in `admin-console` client. With `ifAbsent`, an existing
 * slug is not an error: the result is undefined instead.
 */
export async function insertTenant(
  trx: Kysely<DB>,
  slug: string,
  displayName: string,
  settings: TenantSettings,
  options: { publicUrl: string; ifAbsent?: boolean },
): Promise<{ tenant: Tenant; roleIds: Record<string, string> } | undefined> {
  const now = Date.now();
  const insert = trx.insertInto('tenants').values({
    id: newId('tenant'),
    slug,
    display_name: displayName,
    settings: storedSettings(settings),
    created_at: now,
    updated_at: now,
  });
  const row = await (options.ifAbsent ? insert.onConflict((oc) => oc.column('slug').doNothing()) : insert)
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  const names = slug === SYSTEM_TENANT_SLUG ? [TENANT_ADMIN_ROLE, SYSTEM_ADMIN_ROLE] : [TENANT_ADMIN_ROLE];
  const roleIds = Object.fromEntries(names.map((name) => [name, newId('role')]));
  await trx
    .insertInto('roles')
    .values(
      names.map((name) => ({
        id: roleIds[name] ?? '',
        tenant_id: row.id,
        name,
        description: builtinRoles[name as keyof typeof builtinRoles].description,
        permissions: '[]',
        builtin: 1,
        created_at: now,
      })),
    )
    .execute();
  await insertBuiltInClients(trx, row.id, slug, options.publicUrl);
  return { tenant: toTenant(row), roleIds };
}
