import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { AuditActor, AuditService } from '../audit/service.js';
import { type Principal, SYSTEM_TENANT_SLUG } from '../auth/permissions.js';
import { type Database, isUniqueViolation } from '../db/database.js';
import { prepared } from '../db/prepared.js';
import type { DB, UserRow, UserUpdate } from '../db/schema.js';
import { deleteAtVersion } from '../db/versions.js';
import { AppError, badRequest, conflict, notFound, preconditionFailed } from '../http/errors.js';
import { jsonDepth } from '../http/json.js';
import {
  applyKeyset,
  cursorSchema,
  decodeCursor,
  limitSchema,
  parseSort,
  prefixUpperBound,
  toPage,
} from '../http/pagination.js';
import { idPattern, newId } from '../ids.js';
import { type PasswordHasher, requesterOf } from '../passwords/hash.js';
import { checkPassword } from '../passwords/policy.js';
import type { RoleService } from '../roles/service.js';
import { endUserSessions } from '../sessions/service.js';
import type { Tenant } from '../tenants/service.js';
import { replacePassword } from './password.js';

/** Emails are compared and stored trimmed, NFKC-normalised and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase();
}

/** The longest email, counted in its normalised form: the form it is stored and looked up in. */
export const EMAIL_MAX_LENGTH = 254;

/**
 * The one email schema: the limit applies as typed and to the normalised form too (NFKC can
 * make an address longer: `ﬃ` is three letters), so that every stored address can sign in.
 */
export const emailSchema = z
  .string()
  .max(EMAIL_MAX_LENGTH)
  .transform(normalizeEmail)
  .pipe(
    z
      .email({ pattern: z.regexes.unicodeEmail, message: 'must be an email address' })
      .max(EMAIL_MAX_LENGTH, `must have at most ${EMAIL_MAX_LENGTH} characters once normalised (NFKC)`)
      // The pattern lets through `a@example.com.`, `a@example..com` and `a@-x.com`: one mailbox
      // could then have two accounts (with and without the root's dot), or none could be mailed.
      .refine(hasHostDomain, 'must have a domain of dot-separated names (no empty name, no trailing dot)'),
  );

/** Whether the address's domain is names joined by single dots, none empty or edged with `-`. */
function hasHostDomain(email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (domain.startsWith('[')) return true; // an address literal, as the pattern allows
  return domain.split('.').every((label) => label.length > 0 && label.length <= 63 && !/^-|-$/.test(label));
}

/** `value` normalised when it is an email address by the one email schema's rule, else undefined. */
export function asEmailAddress(value: string): string | undefined {
  const parsed = emailSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

const ATTRIBUTES_MAX_BYTES = 16_384;
const ATTRIBUTES_MAX_DEPTH = 8;

/**
 * Any JSON value. A body is parsed JSON, so nothing else can arrive here; `z.json()` would say
 * the same with a recursive schema that the OpenAPI document refers to but never defines.
 */
const jsonValueSchema = z.unknown().describe('Any JSON value');

export const attributesSchema = z
  .record(z.string().min(1).max(100), jsonValueSchema)
  .refine((v) => Object.keys(v).length <= 100, { message: 'at most 100 attributes' })
  .refine((v) => Buffer.byteLength(JSON.stringify(v)) <= ATTRIBUTES_MAX_BYTES, {
    message: `at most ${ATTRIBUTES_MAX_BYTES} bytes as JSON`,
  })
  .refine((v) => jsonDepth(v) <= ATTRIBUTES_MAX_DEPTH, {
    message: `nested at most ${ATTRIBUTES_MAX_DEPTH} levels deep`,
  })
  .describe(
    `Free-form JSON object for the application’s own data: at most 100 keys, ${ATTRIBUTES_MAX_BYTES} bytes and ${ATTRIBUTES_MAX_DEPTH} levels`,
  );

const DISPLAY_NAME_MAX_LENGTH = 200;
export function nameSort(displayName: string | null | undefined): string {
  return (displayName ?? '').normalize('NFKC').toLowerCase();
}

/** Also bounded once normalised: the sort key (`name_sort`, indexed) is the NFKC form. */
export const displayNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(DISPLAY_NAME_MAX_LENGTH)
  .refine((v) => nameSort(v).length <= DISPLAY_NAME_MAX_LENGTH, {
    message: `must have at most ${DISPLAY_NAME_MAX_LENGTH} characters once normalised (NFKC)`,
  })
  .nullable();
const passwordSchema = z.string().min(1).max(4096).describe('Checked against the tenant’s password policy');

export const userIdSchema = z.string().regex(idPattern('user'), 'must be a user id (usr_…)');

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    emailVerified: z.boolean(),
    displayName: z.string().nullable(),
    status: z
      .enum(['active', 'disabled', 'pending'])
      .describe(
        '`pending`: registered on the sign-in page, not yet verified by the link sent to the email; cannot sign in',
      ),
    attributes: z.record(z.string(), z.unknown()),
    roles: z.array(z.string()),
    hasPassword: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
    lastLoginAt: z.string().nullable(),
    version: z.number().int(),
  })
  .meta({ id: 'User' });

export type UserView = z.infer<typeof userSchema>;

export const createUserSchema = z.strictObject({
  email: emailSchema,
  emailVerified: z.boolean().default(false),
  displayName: displayNameSchema.optional(),
  status: z.enum(['active', 'disabled']).default('active'),
  attributes: attributesSchema.default({}),
  password: passwordSchema.optional(),
  sendVerification: z
    .boolean()
    .default(false)
    .describe('Send the user a message with a link that verifies the email (docs/accounts.md)'),
});

export const updateUserSchema = z.strictObject({
  email: emailSchema.optional(),
  emailVerified: z.boolean().optional(),
  displayName: displayNameSchema.optional(),
  status: z.enum(['active', 'disabled']).optional(),
  attributes: attributesSchema.optional().describe('Replaces the whole attributes object'),
});

export const setPasswordSchema = z.strictObject({ password: passwordSchema });

export const listUsersQuerySchema = z.strictObject({
  q: z.string().min(1).max(254).optional().describe('Email or display-name prefix, case-insensitive'),
  status: z.enum(['active', 'disabled', 'pending']).optional(),
  role: z.string().max(100).optional().describe('Only users holding this role'),
  sort: z.string().optional().describe('email, displayName, createdAt, updatedAt or lastLoginAt; `-` for descending'),
  limit: limitSchema,
  cursor: cursorSchema,
});

const sortFields = {
  email: { column: 'users.email', type: 'string' },
  displayName: { column: 'users.name_sort', type: 'string' },
  createdAt: { column: 'users.created_at', type: 'number' },
  updatedAt: { column: 'users.updated_at', type: 'number' },
  lastLoginAt: { column: 'users.last_login_at', nullable: true, type: 'number' },
} as const;

const sortValue: Record<keyof typeof sortFields, (r: UserRow) => string | number | null> = {
  email: (r) => r.email,
  displayName: (r) => r.name_sort,
  createdAt: (r) => r.created_at,
  updatedAt: (r) => r.updated_at,
  lastLoginAt: (r) => r.last_login_at,
};

const iso = (ms: number) => new Date(ms).toISOString();

/** What the API calls a user's status: `pending` is a disabled row waiting for its verification link (migration 0009). */
export function statusOf(r: Pick<UserRow, 'status' | 'pending_verification'>): UserView['status'] {
  return r.status === 'disabled' && r.pending_verification === 1 ? 'pending' : r.status;
}

export function userView(r: UserRow, roles: string[]): UserView {
  return {
    id: r.id,
    email: r.email,
    emailVerified: r.email_verified === 1,
    displayName: r.display_name,
    status: statusOf(r),
    attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    roles,
    hasPassword: r.password_hash !== null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    lastLoginAt: r.last_login_at === null ? null : iso(r.last_login_at),
    version: r.version,
  };
}

/**
 * A user's role names, comma-joined in one column of the user query (role names cannot
 * contain commas), so that reading users costs one round trip.
 */
export function roleNamesOf(dialect: Database['dialect']) {
  return (
    dialect === 'postgres'
      ? sql<
          string | null
        >`(select string_agg(r.name, ',' order by r.name) from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = users.id)`
      : sql<
          string | null
        >`(select group_concat(name, ',') from (select r.name from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = users.id order by r.name))`
  ).as('role_names');
}

/** The columns of `users` an `Account` is made of, besides its id. */
export const accountColumns = [
  'email',
  'email_verified',
  'display_name',
  'status',
  'updated_at',
  'sessions_ended_at',
  'sessions_kept_uid',
] as const;

/** A user's account by id, as every token request reads it (prepared: db/prepared.ts). */
const accountById = prepared((db, p: { id: string }, dialect) =>
  db
    .selectFrom('users')
    .select(['tenant_id', 'id', ...accountColumns])
    .select(roleNamesOf(dialect))
    .where('users.id', '=', p.id),
);

type AccountColumns = Pick<UserRow, 'id' | (typeof accountColumns)[number]>;

/** What tokens say of a user (`UserService.account`). */
export type Account = AccountColumns & { roles: string[] };

/** The account in a row that holds (at least) its columns and its joined role names. */
export function toAccount(row: AccountColumns & { role_names: string | null }): Account {
  return {
    id: row.id,
    email: row.email,
    email_verified: row.email_verified,
    display_name: row.display_name,
    status: row.status,
    updated_at: row.updated_at,
    sessions_ended_at: row.sessions_ended_at,
    sessions_kept_uid: row.sessions_kept_uid,
    roles: splitRoleNames(row.role_names),
  };
}

/** The tenant's user `id` when active, or undefined (the pages that act for a user they were told of). */
export async function activeUser(db: Kysely<DB>, tenantId: string, id: string): Promise<UserRow | undefined> {
  const user = await db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return user?.status === 'active' ? user : undefined;
}

export function splitRoleNames(joined: string | null): string[] {
  return joined ? joined.split(',').sort() : [];
}

export class UserService {
  private readonly db: Kysely<DB>;
  private readonly dialect: Database['dialect'];

  constructor(
    database: Database,
    private readonly audit: AuditService,
    private readonly roles: RoleService,
    private readonly hasher: PasswordHasher,
  ) {
    this.db = database.db;
    this.dialect = database.dialect;
  }

  async get(tenant: Tenant, id: string): Promise<UserView> {
    const row = await this.db
      .selectFrom('users')
      .selectAll('users')
      .select(roleNamesOf(this.dialect))
      .where('users.tenant_id', '=', tenant.id)
      .where('users.id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('user_not_found', `No user ${id} in tenant "${tenant.slug}"`);
    return userView(row, splitRoleNames(row.role_names));
  }

  /**
   * What tokens say of a user: profile claims and role names, in one query (the token
   * endpoint reads it for every grant). Undefined when there is no such user.
   */
  async account(tenantId: string, id: string): Promise<Account | undefined> {
    // By primary key alone, the tenant checked after: see DbAdapter.toPayload for why.
    const [row] = (await accountById(this.db, { id })).rows;
    return row?.tenant_id === tenantId ? toAccount(row) : undefined;
  }

  async list(tenant: Tenant, query: z.output<typeof listUsersQuerySchema>) {
    const sort = parseSort(query.sort, sortFields, 'email');
    const cursor = decodeCursor(query.cursor, sort);
    const roleId =
      query.role === undefined ? undefined : (await this.roles.byNames(this.db, tenant, [query.role]))[0]?.id;
    /** One tenant's users with the filters, optionally within a prefix range of a column. */
    const filtered = (range?: { column: 'users.email' | 'users.name_sort'; prefix: string }) => {
      let q = this.db.selectFrom('users').where('users.tenant_id', '=', tenant.id);
      if (range) {
        q = q.where(range.column, '>=', range.prefix).where(range.column, '<', prefixUpperBound(range.prefix));
      }
      if (query.status === 'pending') {
        q = q.where('users.status', '=', 'disabled').where('users.pending_verification', '=', 1);
      } else if (query.status === 'disabled') {
        q = q.where('users.status', '=', 'disabled').where('users.pending_verification', '=', 0);
      } else if (query.status !== undefined) {
        q = q.where('users.status', '=', query.status);
      }
      if (roleId !== undefined) {
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('user_roles')
              .select('user_roles.user_id')
              .whereRef('user_roles.user_id', '=', 'users.id')
              .where('user_roles.role_id', '=', roleId),
          ),
        );
      }
      return q;
    };
    const take = query.limit + 1;
    let q = filtered().selectAll('users').select(roleNamesOf(this.dialect));
    if (query.q !== undefined) {
      // Email prefix OR name prefix: each range walks its own index and keeps its first
      // `take` rows in the list's order; the page is the first `take` of both, joined back to
      // the rows. An OR over the two ranges would make the planner scan one index and filter
      // thousands of rows.
      const prefix = query.q.trim().normalize('NFKC').toLowerCase();
      const branch = (column: 'users.email' | 'users.name_sort') =>
        applyKeyset(filtered({ column, prefix }).select('users.id'), sort, 'users.id', cursor).limit(take);
      const matches = this.db
        .selectFrom(branch('users.email').as('by_email'))
        .select('by_email.id')
        .union(this.db.selectFrom(branch('users.name_sort').as('by_name')).select('by_name.id'));
      q = this.db
        .selectFrom(matches.as('m'))
        .innerJoin('users', 'users.id', 'm.id')
        .where('users.tenant_id', '=', tenant.id)
        .selectAll('users')
        .select(roleNamesOf(this.dialect));
    }
    const rows = await applyKeyset(q, sort, 'users.id', cursor).limit(take).execute();
    const field = sort.field.replace(/^-/, '') as keyof typeof sortFields;
    return toPage(
      rows,
      query.limit,
      sort,
      sortValue[field],
      (r) => r.id,
      (r) => userView(r, splitRoleNames(r.role_names)),
    );
  }

  /**
   * `options.pending`: a self-registration, `pending` until its email is verified;
   * `options.within`: more work in the same transaction (the verification message).
   */
  async create(
    tenant: Tenant,
    input: z.output<typeof createUserSchema>,
    actor: AuditActor,
    action = 'user.create',
    options: { pending?: boolean; within?: (trx: Kysely<DB>, row: UserRow) => Promise<void> } = {},
  ): Promise<UserView> {
    const passwordHash =
      input.password === undefined
        ? null
        : await this.hasher.hash(
            checkPassword(input.password, { minLength: tenant.settings.passwordMinLength, email: input.email }),
            requesterOf(tenant.id, actor.ip),
          );
    const now = Date.now();
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('users')
          .values({
            id: newId('user'),
            tenant_id: tenant.id,
            email: input.email,
            email_verified: input.emailVerified ? 1 : 0,
            display_name: input.displayName ?? null,
            name_sort: nameSort(input.displayName),
            status: options.pending ? 'disabled' : input.status,
            pending_verification: options.pending ? 1 : 0,
            attributes: JSON.stringify(input.attributes),
            password_hash: passwordHash,
            password_changed_at: passwordHash ? now : null,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await this.audit.record(trx, actor, {
          tenantId: tenant.id,
          action,
          target: { type: 'user', id: row.id },
          details: { email: row.email, withPassword: passwordHash !== null },
        });
        await options.within?.(trx, row);
        return userView(row, []);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('email_taken', 'A user with this email exists in this tenant');
      throw err;
    }
  }

  /**
   * Self-registration from the sign-in page: the same rules as an admin creating the user.
   * An email that already has an account is not told apart from a new one: the same work
   * (the password is hashed either way), the same result for the caller, `undefined` here and
   * a failure in the audit log (for admins).
   */
  async register(
    tenant: Tenant,
    input: { email: string; displayName: string | null; password: string },
    actor: AuditActor,
    /** In the account's transaction: its verification message (accounts/verification.ts). */
    within?: (trx: Kysely<DB>, row: UserRow) => Promise<void>,
  ): Promise<UserView | undefined> {
    const parsed = createUserSchema.safeParse({
      email: input.email,
      displayName: input.displayName,
      password: input.password,
    });
    if (!parsed.success) throw badRequest('validation_failed', 'Enter a valid email address and name');
    const registrant = { ...actor, type: 'user' as const };
    try {
      // Pending until the link sent to the email is used: it cannot sign in before.
      return await this.create(tenant, parsed.data, registrant, 'user.register', { pending: true, within });
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'email_taken')) throw err;
      await this.audit.record(this.db, registrant, {
        tenantId: tenant.id,
        action: 'user.register',
        outcome: 'failure',
        details: { reason: 'email_taken', email: parsed.data.email },
      });
      return undefined;
    }
  }

  async update(
    tenant: Tenant,
    id: string,
    input: z.output<typeof updateUserSchema>,
    ifMatch: number[] | undefined,
    principal: Principal,
    actor: AuditActor,
  ): Promise<UserView> {
    if (input.status === 'disabled' && principal.kind === 'user' && principal.id === id) {
      throw conflict('cannot_disable_self', 'You cannot disable the user you act as');
    }
    try {
      return await this.db.transaction().execute(async (trx) => {
        const row = await this.row(trx, tenant, id);
        if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
        if (input.status === 'disabled' && row.status === 'active' && tenant.slug === SYSTEM_TENANT_SLUG) {
          await this.roles.assertSystemAdminRemains(trx, tenant.id, { userIds: [row.id] });
        }
        const changes: UserUpdate = { updated_at: Date.now(), version: row.version + 1 };
        if (input.email !== undefined && input.email !== row.email) {
          changes.email = input.email;
          changes.email_verified = 0; // a new address is unverified unless the request says otherwise
        }
        if (input.emailVerified !== undefined) changes.email_verified = input.emailVerified ? 1 : 0;
        if (input.displayName !== undefined) {
          changes.display_name = input.displayName;
          changes.name_sort = nameSort(input.displayName);
        }
        // An admin's choice of status ends a self-registration's wait for its link.
        if (input.status !== undefined) {
          changes.status = input.status;
          changes.pending_verification = 0;
        }
        if (input.attributes !== undefined) changes.attributes = JSON.stringify(input.attributes);
        const updated = await trx
          .updateTable('users')
          .set(changes)
          .where('id', '=', row.id)
          .where('version', '=', row.version)
          .returningAll()
          .executeTakeFirst();
        if (!updated) throw preconditionFailed();
        if (input.status === 'disabled' && row.status === 'active') await endUserSessions(trx, tenant.id, row.id);
        await this.audit.record(trx, actor, {
          tenantId: tenant.id,
          action:
            input.status && input.status !== row.status
              ? `user.${input.status === 'disabled' ? 'disable' : 'enable'}`
              : 'user.update',
          target: { type: 'user', id: row.id },
          details: { fields: Object.keys(input) },
        });
        const roles = await trx
          .selectFrom('user_roles')
          .innerJoin('roles', 'roles.id', 'user_roles.role_id')
          .select('roles.name')
          .where('user_roles.user_id', '=', row.id)
          .orderBy('roles.name')
          .execute();
        return userView(
          updated,
          roles.map((r) => r.name),
        );
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('email_taken', 'A user with this email exists in this tenant');
      throw err;
    }
  }

  async delete(tenant: Tenant, id: string, ifMatch: number[] | undefined, principal: Principal, actor: AuditActor) {
    if (principal.kind === 'user' && principal.id === id) {
      throw conflict('cannot_delete_self', 'You cannot delete the user you act as');
    }
    await this.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, tenant, id);
      if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
      if (tenant.slug === SYSTEM_TENANT_SLUG && row.status === 'active') {
        await this.roles.assertSystemAdminRemains(trx, tenant.id, { userIds: [row.id] });
      }
      await deleteAtVersion(trx, 'users', row.id, row.version);
      await endUserSessions(trx, tenant.id, row.id);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'user.delete',
        target: { type: 'user', id: row.id },
        details: { email: row.email },
      });
    });
  }

  async setPassword(tenant: Tenant, id: string, password: string, actor: AuditActor): Promise<void> {
    const current = await this.row(this.db, tenant, id);
    const hash = await this.hasher.hash(
      checkPassword(password, { minLength: tenant.settings.passwordMinLength, email: current.email }),
      requesterOf(tenant.id, actor.ip),
    );
    await this.db.transaction().execute(async (trx) => {
      // A new password ends every session and refresh token made with the old one.
      if ((await replacePassword(trx, tenant.id, id, hash)) === undefined) {
        throw notFound('user_not_found', `No user ${id} in tenant "${tenant.slug}"`);
      }
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'user.password.set',
        target: { type: 'user', id },
      });
    });
  }

  private async row(executor: Kysely<DB>, tenant: Tenant, id: string): Promise<UserRow> {
    const row = await executor
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('user_not_found', `No user ${id} in tenant "${tenant.slug}"`);
    return row;
  }
}
