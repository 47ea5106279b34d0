/**
 * Roles of a tenant: admin-API permissions and scopes of the tenant's own APIs, granted to
 * users, API keys and service clients. Creating, changing and granting a role needs every
 * right it carries (auth/grants.ts).
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AuditActor, AuditService } from '../audit/service.js';
import { type ApiPermission, assertMayGrant, type RoleGrant, reachOfRoles, unionOf } from '../auth/grants.js';
import { type Principal, permissionsOf, SYSTEM_ADMIN_ROLE, tenantPermissions } from '../auth/permissions.js';
import { type Database, isUniqueViolation, lockForUpdate } from '../db/database.js';
import type { DB, RoleRow } from '../db/schema.js';
import { lowerLikePrefix } from '../db/sql.js';
import { badRequest, conflict, notFound, preconditionFailed } from '../http/errors.js';
import { applyKeyset, cursorSchema, decodeCursor, limitSchema, parseSort, toPage } from '../http/pagination.js';
import { newId } from '../ids.js';
import type { Tenant } from '../tenants/service.js';

export const roleNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9:._-]*$/, 'must be letters, digits and : . _ -, starting with a letter or digit');

export const roleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    permissions: z.array(z.string()).describe('Admin API permissions the role grants in its tenant'),
    apiPermissions: z
      .array(z.object({ api: z.string(), scope: z.string() }))
      .describe('Scopes of the tenant’s own APIs the role grants (API by identifier)'),
    builtin: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int(),
  })
  .meta({ id: 'Role' });

const apiPermissionSchema = z.strictObject({
  api: z.string().min(1).max(2048).describe('The API’s identifier'),
  scope: z.string().min(1).max(100).describe('One of the API’s scopes'),
});

export const createRoleSchema = z.strictObject({
  name: roleNameSchema.refine((n) => !/^(system|tenant):/.test(n), {
    message: 'names starting with system: or tenant: are reserved',
  }),
  description: z.string().max(500).default(''),
  permissions: z.array(z.enum(tenantPermissions)).max(tenantPermissions.length).default([]),
  apiPermissions: z.array(apiPermissionSchema).max(500).default([]),
});

export const updateRoleSchema = z.strictObject({
  description: z.string().max(500).optional(),
  permissions: z.array(z.enum(tenantPermissions)).max(tenantPermissions.length).optional(),
  apiPermissions: z.array(apiPermissionSchema).max(500).optional(),
});

export const listRolesQuerySchema = z.strictObject({
  q: z.string().max(100).optional().describe('Name prefix'),
  sort: z.string().optional().describe('`name` or `createdAt`, `-` for descending'),
  limit: limitSchema,
  cursor: cursorSchema,
});

const sortFields = {
  name: { column: 'name', type: 'string' },
  createdAt: { column: 'created_at', type: 'number' },
} as const;

export interface Role {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  apiPermissions: ApiPermission[];
  builtin: boolean;
  createdAt: number;
  updatedAt: number;
  version: number;
}

function toRole(r: RoleRow): Role {
  const builtin = r.builtin === 1;
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    permissions: builtin
      ? [...permissionsOf([{ name: r.name, permissions: [] }])]
      : (JSON.parse(r.permissions) as string[]),
    apiPermissions: builtin ? [] : (JSON.parse(r.api_permissions) as ApiPermission[]),
    builtin,
    createdAt: r.created_at,
    updatedAt: r.updated_at ?? r.created_at,
    version: r.version,
  };
}

export function roleView(r: Role) {
  return { ...r, createdAt: new Date(r.createdAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString() };
}

/** The same permission once, in a stable order. */
function distinctApiPermissions(list: readonly ApiPermission[]): ApiPermission[] {
  const seen = new Map(list.map((p) => [`${p.api} ${p.scope}`, { api: p.api, scope: p.scope }]));
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

export class RoleService {
  private readonly db: Kysely<DB>;

  constructor(
    private readonly database: Database,
    private readonly audit: AuditService,
  ) {
    this.db = database.db;
  }

  async list(tenant: Tenant, query: z.output<typeof listRolesQuerySchema>) {
    const sort = parseSort(query.sort, sortFields, 'name');
    const cursor = decodeCursor(query.cursor, sort);
    let q = this.db.selectFrom('roles').selectAll().where('tenant_id', '=', tenant.id);
    if (query.q) q = q.where(lowerLikePrefix('name', query.q));
    const rows = await applyKeyset(q, sort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    return toPage(
      rows,
      query.limit,
      sort,
      (r) => (sort.column === 'name' ? r.name : r.created_at),
      (r) => r.id,
      (r) => roleView(toRole(r)),
    );
  }

  async get(tenant: Tenant, name: string, executor: Kysely<DB> = this.db): Promise<Role> {
    const row = await executor
      .selectFrom('roles')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) throw notFound('role_not_found', `No role "${name}" in tenant "${tenant.slug}"`);
    return toRole(row);
  }

  /** Roles by name in one tenant; a missing one is a 400 naming it. */
  async byNames(executor: Kysely<DB>, tenant: Tenant, names: readonly string[]): Promise<Role[]> {
    if (names.length === 0) return [];
    const rows = await executor
      .selectFrom('roles')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('name', 'in', [...new Set(names)])
      .execute();
    const missing = names.filter((n) => !rows.some((r) => r.name === n));
    if (missing.length > 0) {
      throw badRequest('unknown_role', `No role ${missing.map((n) => `"${n}"`).join(', ')} in this tenant`, {
        roles: missing,
      });
    }
    return rows.map(toRole);
  }

  async create(
    tenant: Tenant,
    input: z.output<typeof createRoleSchema>,
    principal: Principal,
    actor: AuditActor,
  ): Promise<Role> {
    const apiPermissions = distinctApiPermissions(input.apiPermissions);
    // Its holders gain what it carries: the creator must hold all of it.
    assertMayGrant(principal, tenant.id, 'Creating this role', {
      reach: reachOfRoles([{ name: input.name, permissions: input.permissions, apiPermissions }]),
    });
    try {
      return await this.db.transaction().execute(async (trx) => {
        await checkApiPermissions(trx, tenant, apiPermissions);
        const now = Date.now();
        const row = await trx
          .insertInto('roles')
          .values({
            id: newId('role'),
            tenant_id: tenant.id,
            name: input.name,
            description: input.description,
            permissions: JSON.stringify([...new Set(input.permissions)]),
            api_permissions: JSON.stringify(apiPermissions),
            builtin: 0,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await this.audit.record(trx, actor, {
          tenantId: tenant.id,
          action: 'role.create',
          target: { type: 'role', id: row.id },
          details: { name: row.name, permissions: input.permissions, apiPermissions },
        });
        return toRole(row);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('role_exists', `A role named "${input.name}" exists`);
      throw err;
    }
  }

  /**
   * Changes a role's description and rights (its name stays). What its holders gain or lose
   * is handed out or taken by the caller: it must hold the role's rights before and after.
   */
  async update(
    tenant: Tenant,
    name: string,
    input: z.output<typeof updateRoleSchema>,
    ifMatch: number[] | undefined,
    principal: Principal,
    actor: AuditActor,
  ): Promise<Role> {
    return this.db.transaction().execute(async (trx) => {
      const current = await this.get(tenant, name, trx);
      if (current.builtin) throw conflict('builtin_role', `The built-in role "${name}" cannot be changed`);
      if (ifMatch && !ifMatch.includes(current.version)) throw preconditionFailed();
      const next: RoleGrant = {
        name,
        permissions: input.permissions ? [...new Set(input.permissions)] : current.permissions,
        apiPermissions: input.apiPermissions ? distinctApiPermissions(input.apiPermissions) : current.apiPermissions,
      };
      assertMayGrant(principal, tenant.id, 'Changing this role', {
        reach: unionOf(reachOfRoles([current]), reachOfRoles([next])),
      });
      if (input.apiPermissions) await checkApiPermissions(trx, tenant, next.apiPermissions ?? []);
      const row = await trx
        .updateTable('roles')
        .set({
          ...(input.description === undefined ? {} : { description: input.description }),
          permissions: JSON.stringify(next.permissions),
          api_permissions: JSON.stringify(next.apiPermissions),
          version: current.version + 1,
          updated_at: Date.now(),
        })
        .where('id', '=', current.id)
        .where('version', '=', current.version)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw preconditionFailed();
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'role.update',
        target: { type: 'role', id: current.id },
        details: { name, fields: Object.keys(input) },
      });
      return toRole(row);
    });
  }

  async delete(tenant: Tenant, name: string, actor: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const role = await trx
        .selectFrom('roles')
        .selectAll()
        .where('tenant_id', '=', tenant.id)
        .where('name', '=', name)
        .executeTakeFirst();
      if (!role) throw notFound('role_not_found', `No role "${name}" in tenant "${tenant.slug}"`);
      if (role.builtin === 1) throw conflict('builtin_role', `The built-in role "${name}" cannot be deleted`);
      await trx.deleteFrom('roles').where('id', '=', role.id).execute();
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'role.delete',
        target: { type: 'role', id: role.id },
        details: { name },
      });
    });
  }

  /** Gives a user a role (idempotent). The caller must hold everything the role allows. */
  async grant(tenant: Tenant, userId: string, name: string, principal: Principal, actor: AuditActor) {
    await this.db.transaction().execute(async (trx) => {
      const user = await findUserId(trx, tenant, userId);
      const role = await this.get(tenant, name, trx);
      assertMayGrant(principal, tenant.id, `Granting "${name}"`, { roles: [role] });
      const granted = await trx
        .insertInto('user_roles')
        .values({ tenant_id: tenant.id, user_id: user, role_id: role.id, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['user_id', 'role_id']).doNothing())
        .returning('user_id')
        .executeTakeFirst();
      if (granted) {
        await this.audit.record(trx, actor, {
          tenantId: tenant.id,
          action: 'user.role.grant',
          target: { type: 'user', id: user },
          details: { role: name },
        });
      }
    });
  }

  async revoke(tenant: Tenant, userId: string, name: string, principal: Principal, actor: AuditActor) {
    await this.db.transaction().execute(async (trx) => {
      const user = await findUserId(trx, tenant, userId);
      const role = await this.get(tenant, name, trx);
      assertMayGrant(principal, tenant.id, `Removing "${name}"`, { roles: [role] });
      if (role.name === SYSTEM_ADMIN_ROLE) {
        await this.assertSystemAdminRemains(trx, tenant.id, { userIds: [user] });
      }
      const res = await trx
        .deleteFrom('user_roles')
        .where('user_id', '=', user)
        .where('role_id', '=', role.id)
        .executeTakeFirst();
      if (res.numDeletedRows === 0n) {
        throw notFound('role_not_granted', `The user does not hold "${name}"`);
      }
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'user.role.revoke',
        target: { type: 'user', id: user },
        details: { role: name },
      });
    });
  }

  /** The roles (with permissions) a user or a service client holds, for authorization. */
  async grantsOf(
    executor: Kysely<DB>,
    tenantId: string,
    subject: { userId: string } | { clientRowId: string },
  ): Promise<RoleGrant[]> {
    const rows =
      'userId' in subject
        ? await executor
            .selectFrom('user_roles')
            .innerJoin('roles', 'roles.id', 'user_roles.role_id')
            .select(['roles.name', 'roles.permissions', 'roles.api_permissions'])
            .where('user_roles.tenant_id', '=', tenantId)
            .where('user_roles.user_id', '=', subject.userId)
            .execute()
        : await executor
            .selectFrom('client_roles')
            .innerJoin('roles', 'roles.id', 'client_roles.role_id')
            .select(['roles.name', 'roles.permissions', 'roles.api_permissions'])
            .where('client_roles.tenant_id', '=', tenantId)
            .where('client_roles.client_id', '=', subject.clientRowId)
            .execute();
    return rows.map(roleGrantOf);
  }

  /** Role names per user, for a page of users. */
  async namesForUsers(tenantId: string, userIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (userIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('user_roles')
      .innerJoin('roles', 'roles.id', 'user_roles.role_id')
      .select(['user_roles.user_id', 'roles.name'])
      .where('user_roles.tenant_id', '=', tenantId)
      .where('user_roles.user_id', 'in', [...userIds])
      .orderBy('roles.name')
      .execute();
    for (const r of rows) {
      const list = out.get(r.user_id);
      if (list) list.push(r.name);
      else out.set(r.user_id, [r.name]);
    }
    return out;
  }

  /**
   * Refuses a change that would leave no active holder of `system:admin` (users and
   * unexpired API keys). Call inside the transaction making the change; it locks the role
   * row so that two such changes cannot both pass the check.
   */
  async assertSystemAdminRemains(
    trx: Kysely<DB>,
    tenantId: string,
    removing: { userIds?: string[]; apiKeyIds?: string[] },
  ): Promise<void> {
    const role = await trx
      .selectFrom('roles')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('name', '=', SYSTEM_ADMIN_ROLE)
      .executeTakeFirst();
    if (!role) return;
    await lockForUpdate(trx, this.database.dialect, 'roles', role.id);
    let users = trx
      .selectFrom('user_roles')
      .innerJoin('users', 'users.id', 'user_roles.user_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_roles.role_id', '=', role.id)
      .where('users.status', '=', 'active');
    if (removing.userIds?.length) users = users.where('users.id', 'not in', removing.userIds);
    let keys = trx
      .selectFrom('api_key_roles')
      .innerJoin('api_keys', 'api_keys.id', 'api_key_roles.api_key_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('api_key_roles.role_id', '=', role.id)
      .where((eb) => eb.or([eb('api_keys.expires_at', 'is', null), eb('api_keys.expires_at', '>', Date.now())]));
    if (removing.apiKeyIds?.length) keys = keys.where('api_keys.id', 'not in', removing.apiKeyIds);
    const u = await users.executeTakeFirstOrThrow();
    const k = await keys.executeTakeFirstOrThrow();
    if (Number(u.n) + Number(k.n) === 0) {
      throw conflict('last_system_admin', 'This would leave no active holder of system:admin');
    }
  }
}

/** A stored role's rights, for authorization. */
export function roleGrantOf(r: { name: string; permissions: string; api_permissions: string }): RoleGrant {
  return {
    name: r.name,
    permissions: JSON.parse(r.permissions) as string[],
    apiPermissions: JSON.parse(r.api_permissions) as ApiPermission[],
  };
}

/** Each permission must name a registered API of the tenant and one of its scopes. */
async function checkApiPermissions(trx: Kysely<DB>, tenant: Tenant, list: readonly ApiPermission[]): Promise<void> {
  if (list.length === 0) return;
  const rows = await trx
    .selectFrom('apis')
    .select(['identifier', 'scopes'])
    .where('tenant_id', '=', tenant.id)
    .where('identifier', 'in', [...new Set(list.map((p) => p.api))])
    .execute();
  const scopes = new Map(
    rows.map((r) => [r.identifier, (JSON.parse(r.scopes) as { name: string }[]).map((s) => s.name)]),
  );
  const unknownApis = [...new Set(list.filter((p) => !scopes.has(p.api)).map((p) => p.api))];
  if (unknownApis.length > 0) {
    throw badRequest('unknown_api', `No API with identifier ${unknownApis.join(', ')} in this tenant`, {
      apis: unknownApis,
    });
  }
  const unknown = list.filter((p) => !scopes.get(p.api)?.includes(p.scope));
  if (unknown.length > 0) {
    throw badRequest('unknown_scope', 'Each permission must be one of its API’s scopes', { apiPermissions: unknown });
  }
}

async function findUserId(trx: Kysely<DB>, tenant: Tenant, userId: string): Promise<string> {
  const row = await trx
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', tenant.id)
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!row) throw notFound('user_not_found', `No user ${userId} in tenant "${tenant.slug}"`);
  return row.id;
}
