/**
 * Ticket types (issue 11): per tenant, what an invitation ticket grants (roles), whether it
 * may register a new account, how long its tickets live, where the browser goes after, and
 * the welcome its page shows. A type's roles go to whoever uses one of its tickets, so setting
 * them, and turning a type on, is handing them out: the caller must hold them (auth/grants.ts).
 * Deleting a type deletes its tickets (the database cascades).
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AuditActor, AuditService } from '../audit/service.js';
import { assertMayGrant } from '../auth/grants.js';
import type { Principal } from '../auth/permissions.js';
import { isAllowedRedirectUri } from '../clients/service.js';
import { isUniqueViolation } from '../db/database.js';
import type { DB, TicketTypeRow } from '../db/schema.js';
import { deleteAtVersion } from '../db/versions.js';
import { badRequest, conflict, notFound, preconditionFailed } from '../http/errors.js';
import { applyKeyset, cursorSchema, decodeCursor, limitSchema, parseSort, toPage } from '../http/pagination.js';
import { idPattern, newId } from '../ids.js';
import { type Role, type RoleService, roleNameSchema } from '../roles/service.js';
import type { Tenant } from '../tenants/service.js';

export const ticketTypeIdSchema = z.string().regex(idPattern('ticketType'), 'must be a ticket type id (ttp_…)');

const urlSchema = z
  .string()
  .max(2048)
  .refine(isAllowedRedirectUri, { message: 'must be https, or http on localhost/127.0.0.1, without a fragment' })
  .nullable();

const welcomeFields = {
  title: z.string().trim().max(200).describe("The welcome page's heading and the invitation's first line"),
  body: z.string().max(10_000).describe('Text under the heading (plain text; line breaks kept)'),
  okText: z.string().trim().max(100).describe("The button's label"),
  agreementRequired: z.boolean().describe('The page asks to tick "I agree" before going on'),
};

const welcomeSchema = z
  .strictObject({
    title: welcomeFields.title.default(''),
    body: welcomeFields.body.default(''),
    okText: welcomeFields.okText.default(''),
    agreementRequired: welcomeFields.agreementRequired.default(false),
  })
  .describe("The ticket page's welcome; empty texts take the page's own words in the reader's language");

export type Welcome = z.output<typeof welcomeSchema>;

const fields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(1000),
  enabled: z.boolean().describe('A disabled type issues no tickets, and its tickets open as `disabled`'),
  allowUserCreation: z
    .boolean()
    .describe('Its tickets may register a new account, even where self-registration is closed'),
  validityHours: z.number().int().min(1).max(8760).describe('How long each ticket works once issued (1 h to a year)'),
  roles: z.array(roleNameSchema).max(50).describe('Roles of the tenant granted to whoever uses a ticket'),
  postUseUrl: urlSchema.describe(
    "Where the browser goes after a ticket is used (null: the account page); its origin must be one of the tenant's allowedOrigins",
  ),
  postInvalidUrl: urlSchema.describe(
    "Where a used, expired or disabled ticket's page links to (null: none); same rule as postUseUrl",
  ),
};

export const createTicketTypeSchema = z.strictObject({
  name: fields.name,
  description: fields.description.default(''),
  enabled: fields.enabled.default(true),
  allowUserCreation: fields.allowUserCreation.default(false),
  validityHours: fields.validityHours.default(168),
  roles: fields.roles.default([]),
  postUseUrl: fields.postUseUrl.default(null),
  postInvalidUrl: fields.postInvalidUrl.default(null),
  welcome: welcomeSchema.prefault({}),
});

export const updateTicketTypeSchema = z.strictObject({
  name: fields.name.optional(),
  description: fields.description.optional(),
  enabled: fields.enabled.optional(),
  allowUserCreation: fields.allowUserCreation.optional(),
  validityHours: fields.validityHours.optional().describe('For tickets issued from now on'),
  roles: fields.roles.optional().describe('Replaces the list; tickets already issued grant the new roles'),
  postUseUrl: fields.postUseUrl.optional(),
  postInvalidUrl: fields.postInvalidUrl.optional(),
  welcome: z.strictObject(welcomeFields).partial().optional().describe('Merged into the current welcome'),
});

export const listTicketTypesQuerySchema = z.strictObject({
  sort: z.string().optional().describe('`name` or `createdAt`, `-` for descending'),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const ticketTypeSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    enabled: z.boolean(),
    allowUserCreation: z.boolean(),
    validityHours: z.number().int(),
    roles: z.array(z.string()),
    postUseUrl: z.string().nullable(),
    postInvalidUrl: z.string().nullable(),
    welcome: z.object({ title: z.string(), body: z.string(), okText: z.string(), agreementRequired: z.boolean() }),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int(),
  })
  .meta({ id: 'TicketType' });

export type TicketTypeView = z.infer<typeof ticketTypeSchema>;

const sortFields = {
  name: { column: 'name', type: 'string' },
  createdAt: { column: 'created_at', type: 'number' },
} as const;

export function ticketTypeView(r: TicketTypeRow, roles: string[]): TicketTypeView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    enabled: r.enabled === 1,
    allowUserCreation: r.allow_user_creation === 1,
    validityHours: r.validity_hours,
    roles,
    postUseUrl: r.post_use_url,
    postInvalidUrl: r.post_invalid_url,
    welcome: JSON.parse(r.welcome) as Welcome,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    version: r.version,
  };
}

/**
 * Whether a type's URL may be used for the tenant: its origin is one of the tenant's
 * `allowedOrigins`, or Latchkey's own (PUBLIC_URL: the account page and the tenant's other
 * pages). Checked when a type is saved; the ticket page checks again before it redirects (the
 * tenant's origins may have changed since).
 */
export function isAllowedTicketUrl(tenant: Tenant, publicUrl: string, url: string): boolean {
  if (!isAllowedRedirectUri(url)) return false;
  const origin = new URL(url).origin;
  return origin === new URL(publicUrl).origin || tenant.settings.allowedOrigins.includes(origin);
}

const notFoundError = (tenant: Tenant, id: string) =>
  notFound('ticket_type_not_found', `No ticket type ${id} in tenant "${tenant.slug}"`);

export class TicketTypeService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly audit: AuditService,
    private readonly roles: RoleService,
    private readonly publicUrl: string,
  ) {}

  async list(tenant: Tenant, query: z.output<typeof listTicketTypesQuerySchema>) {
    const sort = parseSort(query.sort, sortFields, 'name');
    const cursor = decodeCursor(query.cursor, sort);
    const q = this.db.selectFrom('ticket_types').selectAll().where('tenant_id', '=', tenant.id);
    const rows = await applyKeyset(q, sort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    const names = await this.roleNames(
      this.db,
      rows.slice(0, query.limit).map((r) => r.id),
    );
    return toPage(
      rows,
      query.limit,
      sort,
      (r) => (sort.column === 'name' ? r.name : r.created_at),
      (r) => r.id,
      (r) => ticketTypeView(r, names.get(r.id) ?? []),
    );
  }

  async get(tenant: Tenant, id: string, executor: Kysely<DB> = this.db): Promise<TicketTypeView> {
    const row = await this.row(executor, tenant, id);
    return ticketTypeView(row, (await this.roleNames(executor, [row.id])).get(row.id) ?? []);
  }

  /** The tenant's type `id` (looked up by its key, the tenant checked here), or 404 `ticket_type_not_found`. */
  async row(executor: Kysely<DB>, tenant: Tenant, id: string): Promise<TicketTypeRow> {
    const row = await executor.selectFrom('ticket_types').selectAll().where('id', '=', id).executeTakeFirst();
    if (row?.tenant_id !== tenant.id) throw notFoundError(tenant, id);
    return row;
  }

  /** The roles (with their rights) a type grants, for authorization and for granting them. */
  async rolesOf(executor: Kysely<DB>, tenant: Tenant, typeId: string): Promise<Role[]> {
    const names = (await this.roleNames(executor, [typeId])).get(typeId) ?? [];
    return this.roles.byNames(executor, tenant, names);
  }

  async create(
    tenant: Tenant,
    input: z.output<typeof createTicketTypeSchema>,
    principal: Principal,
    actor: AuditActor,
  ): Promise<TicketTypeView> {
    this.checkUrls(tenant, input);
    return this.saving(input.name, async (trx) => {
      const roles = await this.roles.byNames(trx, tenant, input.roles);
      // Whoever uses one of its tickets gets these: the creator must hold all of them.
      assertMayGrant(principal, tenant.id, 'Creating this ticket type', { roles });
      const now = Date.now();
      const row = await trx
        .insertInto('ticket_types')
        .values({
          id: newId('ticketType'),
          tenant_id: tenant.id,
          name: input.name,
          description: input.description,
          enabled: input.enabled ? 1 : 0,
          allow_user_creation: input.allowUserCreation ? 1 : 0,
          validity_hours: input.validityHours,
          post_use_url: input.postUseUrl,
          post_invalid_url: input.postInvalidUrl,
          welcome: JSON.stringify(input.welcome),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.setRoles(trx, tenant, row.id, roles);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'ticket_type.create',
        target: { type: 'ticket_type', id: row.id },
        details: { name: row.name, roles: roles.map((r) => r.name).sort() },
      });
      return ticketTypeView(row, roles.map((r) => r.name).sort());
    });
  }

  /** `work` in a transaction; a name another type of the tenant has is a 409 `ticket_type_exists`. */
  private async saving<T>(name: string | undefined, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute(work);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('ticket_type_exists', `A ticket type named "${name}" exists`);
      throw err;
    }
  }

  /**
   * Changes a type. New roles, and turning a disabled type on, hand out what its tickets
   * grant: the caller must hold the roles before and after (as for a role's own change).
   */
  async update(
    tenant: Tenant,
    id: string,
    input: z.output<typeof updateTicketTypeSchema>,
    ifMatch: number[] | undefined,
    principal: Principal,
    actor: AuditActor,
  ): Promise<TicketTypeView> {
    this.checkUrls(tenant, input);
    return this.saving(input.name, async (trx) => {
      const row = await this.row(trx, tenant, id);
      if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
      const held = await this.rolesOf(trx, tenant, row.id);
      const next = input.roles === undefined ? held : await this.roles.byNames(trx, tenant, input.roles);
      const sameRoles = sameNames(held, next);
      const turningOn = input.enabled === true && row.enabled === 0;
      if (!sameRoles || turningOn) {
        assertMayGrant(principal, tenant.id, 'Changing what this ticket type grants', { roles: [...held, ...next] });
      }
      const welcome = { ...(JSON.parse(row.welcome) as Welcome), ...definedOnly(input.welcome ?? {}) };
      const updated = await trx
        .updateTable('ticket_types')
        .set({
          ...(input.name === undefined ? {} : { name: input.name }),
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.enabled === undefined ? {} : { enabled: input.enabled ? 1 : 0 }),
          ...(input.allowUserCreation === undefined ? {} : { allow_user_creation: input.allowUserCreation ? 1 : 0 }),
          ...(input.validityHours === undefined ? {} : { validity_hours: input.validityHours }),
          ...(input.postUseUrl === undefined ? {} : { post_use_url: input.postUseUrl }),
          ...(input.postInvalidUrl === undefined ? {} : { post_invalid_url: input.postInvalidUrl }),
          welcome: JSON.stringify(welcome),
          version: row.version + 1,
          updated_at: Date.now(),
        })
        .where('id', '=', row.id)
        .where('version', '=', row.version)
        .returningAll()
        .executeTakeFirst();
      if (!updated) throw preconditionFailed();
      if (!sameRoles) await this.setRoles(trx, tenant, row.id, next, true);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'ticket_type.update',
        target: { type: 'ticket_type', id: row.id },
        details: { fields: Object.keys(input), ...(sameRoles ? {} : { roles: next.map((r) => r.name).sort() }) },
      });
      return ticketTypeView(updated, next.map((r) => r.name).sort());
    });
  }

  /** Deletes a type and (the database cascades) every ticket of it. */
  async delete(tenant: Tenant, id: string, ifMatch: number[] | undefined, actor: AuditActor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, tenant, id);
      if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
      // The version read is part of the delete: a change in between wins (412).
      await deleteAtVersion(trx, 'ticket_types', row.id, row.version);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'ticket_type.delete',
        target: { type: 'ticket_type', id: row.id },
        details: { name: row.name },
      });
    });
  }

  /** postUseUrl and postInvalidUrl must lead to the tenant's allowed origins (or Latchkey's own pages). */
  private checkUrls(tenant: Tenant, input: { postUseUrl?: string | null; postInvalidUrl?: string | null }): void {
    for (const field of ['postUseUrl', 'postInvalidUrl'] as const) {
      const url = input[field];
      if (url && !isAllowedTicketUrl(tenant, this.publicUrl, url)) {
        throw badRequest(
          'url_not_allowed',
          `${field} must lead to one of the tenant's allowedOrigins (settings) or to ${new URL(this.publicUrl).origin}`,
          { field, origin: new URL(url).origin },
        );
      }
    }
  }

  private async setRoles(trx: Kysely<DB>, tenant: Tenant, typeId: string, roles: Role[], replace = false) {
    if (replace) await trx.deleteFrom('ticket_type_roles').where('type_id', '=', typeId).execute();
    if (roles.length === 0) return;
    await trx
      .insertInto('ticket_type_roles')
      .values(roles.map((r) => ({ tenant_id: tenant.id, type_id: typeId, role_id: r.id })))
      .execute();
  }

  /** Role names per type, sorted: one query for any number of types. */
  private async roleNames(executor: Kysely<DB>, typeIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (typeIds.length === 0) return out;
    const rows = await executor
      .selectFrom('ticket_type_roles')
      .innerJoin('roles', 'roles.id', 'ticket_type_roles.role_id')
      .select(['ticket_type_roles.type_id', 'roles.name'])
      .where('ticket_type_roles.type_id', 'in', [...typeIds])
      .orderBy('roles.name')
      .execute();
    for (const r of rows) out.set(r.type_id, [...(out.get(r.type_id) ?? []), r.name]);
    return out;
  }
}

function sameNames(a: readonly Role[], b: readonly Role[]): boolean {
  const names = (list: readonly Role[]) => JSON.stringify([...new Set(list.map((r) => r.name))].sort());
  return names(a) === names(b);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
