/**
 * Who an upstream identity signs in as (the linking rules of docs/federation.md):
 * - an identity already linked: its user;
 * - a new subject whose email is an existing user's: linked at once only when the provider is
 *   trusted for emails (`trustEmails`) and the upstream says the email is verified; else only
 *   after the user proves the account with its password (`allowLink`, the "link your account"
 *   page), and never signed in as that user before;
 * - a new email: "create an account" (`allowSignUp` and the tenant's self-registration) or
 *   "link an account you have" (`allowLink`), as the provider allows.
 * Each sign-in then applies the provider's role mappings (only the roles they name are added
 * or removed), records the identity's sign-in time and the audit event `user.sign_in.federated`.
 */
import type { Kysely } from 'kysely';
import type { AuditActor } from '../audit/service.js';
import { SYSTEM_ADMIN_ROLE } from '../auth/permissions.js';
import type { AppContext } from '../context.js';
import type { DB } from '../db/schema.js';
import type { Tenant } from '../tenants/service.js';
import { createUserSchema, normalizeEmail } from '../users/service.js';
import type { FlowUser } from './flow-cookie.js';
import type { IdentityProvider } from './store.js';

/** What the upstream identity leads to. */
export type Resolution =
  | { kind: 'sign_in'; userId: string; identityId: string; linked?: 'email' }
  /** An existing user with the upstream's email, who must prove the account first. */
  | { kind: 'prove'; userId: string; email: string }
  /** A new email: what the page may offer. */
  | { kind: 'choose'; canCreate: boolean; canLink: boolean }
  | { kind: 'refuse'; reason: 'accountExists' | 'noAccount' | 'disabled' };

export class FederatedAccounts {
  constructor(private readonly ctx: AppContext) {}

  private get db(): Kysely<DB> {
    return this.ctx.database.db;
  }

  private userByEmail(tenant: Tenant, email: string) {
    return this.db
      .selectFrom('users')
      .select(['id', 'status'])
      .where('tenant_id', '=', tenant.id)
      .where('email', '=', normalizeEmail(email))
      .executeTakeFirst();
  }

  /** Whether the provider may make new accounts in this tenant. */
  canCreate(tenant: Tenant, idp: IdentityProvider, user: FlowUser): boolean {
    return idp.allowSignUp && tenant.settings.selfRegistration && user.email !== null;
  }

  async resolve(tenant: Tenant, idp: IdentityProvider, user: FlowUser, actor: AuditActor): Promise<Resolution> {
    const identity = await this.ctx.identities.find(tenant, idp.id, user.subject);
    if (identity) return { kind: 'sign_in', userId: identity.userId, identityId: identity.id };
    const existing = user.email ? await this.userByEmail(tenant, user.email) : undefined;
    if (existing && user.email) {
      if (idp.trustEmails && user.emailVerified) {
        const linked = await this.ctx.identities.link(tenant, this.identityOf(idp, user, existing.id), actor);
        return { kind: 'sign_in', userId: existing.id, identityId: linked.id, linked: 'email' };
      }
      // Never on the email alone: the account's owner proves it first, or nothing happens.
      return idp.allowLink ? { kind: 'prove', userId: existing.id, email: user.email } : refuse('accountExists');
    }
    const canCreate = this.canCreate(tenant, idp, user);
    if (!canCreate && !idp.allowLink) return refuse('noAccount');
    return { kind: 'choose', canCreate, canLink: idp.allowLink };
  }

  private identityOf(idp: IdentityProvider, user: FlowUser, userId: string) {
    return { userId, providerId: idp.id, subject: user.subject, email: user.email };
  }

  /** Links the identity to `userId`, who just proved the account with its password. */
  async link(tenant: Tenant, idp: IdentityProvider, user: FlowUser, userId: string, actor: AuditActor) {
    return this.ctx.identities.link(tenant, this.identityOf(idp, user, userId), actor);
  }

  /**
   * A new user without a password, and its identity, in one transaction. The email counts as
   * verified only where the provider is trusted for emails and says it is. Undefined when the
   * upstream's email is not one an account can have.
   */
  async signUp(tenant: Tenant, idp: IdentityProvider, user: FlowUser, actor: AuditActor) {
    const parsed = createUserSchema.safeParse({
      email: user.email,
      emailVerified: idp.trustEmails && user.emailVerified,
      ...(user.name ? { displayName: user.name.slice(0, 200) } : {}),
    });
    // An address the users API would refuse (or none): no account from it.
    if (!parsed.success) return undefined;
    const input = parsed.data;
    let identityId = '';
    const created = await this.ctx.users.create(tenant, input, { ...actor, type: 'user' }, 'user.register', {
      within: async (trx, row) => {
        identityId = (await this.ctx.identities.link(tenant, this.identityOf(idp, user, row.id), actor, trx)).id;
      },
    });
    return { userId: created.id, identityId };
  }

  /**
   * The sign-in itself, once the user is known: refused for an account that is not active;
   * else role mappings, the identity's and the user's sign-in times, the audit event.
   */
  async complete(
    tenant: Tenant,
    idp: IdentityProvider,
    user: FlowUser,
    signIn: { userId: string; identityId: string; linked?: string },
    actor: AuditActor,
  ): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'tenant_id', 'status'])
      .where('id', '=', signIn.userId)
      .executeTakeFirst();
    const at = Date.now();
    if (row?.tenant_id !== tenant.id || row.status !== 'active') {
      await this.ctx.audit.record(this.db, actor, {
        tenantId: tenant.id,
        action: 'user.sign_in.federated',
        outcome: 'failure',
        target: { type: 'user', id: signIn.userId },
        details: { provider: idp.slug, reason: 'disabled' },
      });
      return false;
    }
    const userActor = { ...actor, type: 'user' as const, id: row.id };
    await this.db.transaction().execute(async (trx) => {
      const roles = await applyRoleMappings(this.ctx, trx, tenant, idp, row.id, user.roles, userActor);
      await trx.updateTable('users').set({ last_login_at: at }).where('id', '=', row.id).execute();
      await this.ctx.audit.record(trx, userActor, {
        tenantId: tenant.id,
        action: 'user.sign_in.federated',
        target: { type: 'user', id: row.id },
        details: {
          provider: idp.slug,
          ...(signIn.linked ? { linked: signIn.linked } : {}),
          ...(roles.added.length || roles.removed.length ? { roles } : {}),
        },
      });
    });
    await this.ctx.identities.touch(signIn.identityId, at);
    return true;
  }
}

const refuse = (reason: 'accountExists' | 'noAccount' | 'disabled'): Resolution => ({ kind: 'refuse', reason });

/**
 * The provider's role mappings for this sign-in: each mapped role the upstream roles name is
 * granted, each other mapped role revoked; roles no mapping names are left as they are.
 * `upstream` null: the provider maps no roles claim, nothing changes.
 */
export async function applyRoleMappings(
  ctx: AppContext,
  trx: Kysely<DB>,
  tenant: Tenant,
  idp: IdentityProvider,
  userId: string,
  upstream: string[] | null,
  actor: AuditActor,
): Promise<{ added: string[]; removed: string[] }> {
  const none = { added: [], removed: [] };
  if (upstream === null || idp.roleMappings.length === 0) return none;
  const managed = [...new Set(idp.roleMappings.map((m) => m.role))];
  const wanted = new Set(idp.roleMappings.filter((m) => upstream.includes(m.upstream)).map((m) => m.role));
  const roles = await trx
    .selectFrom('roles')
    .select(['id', 'name'])
    .where('tenant_id', '=', tenant.id)
    .where('name', 'in', managed)
    .execute();
  if (roles.length === 0) return none;
  const roleIds = roles.map((r) => r.id);
  const heldRows = await trx
    .selectFrom('user_roles')
    .select('role_id')
    .where('user_id', '=', userId)
    .where('role_id', 'in', roleIds)
    .execute();
  const held = new Set(heldRows.map((r) => r.role_id));
  const add = roles.filter((r) => wanted.has(r.name) && !held.has(r.id));
  const remove = roles.filter((r) => !wanted.has(r.name) && held.has(r.id));
  if (add.length > 0) {
    const now = Date.now();
    await trx
      .insertInto('user_roles')
      .values(add.map((r) => ({ tenant_id: tenant.id, user_id: userId, role_id: r.id, created_at: now })))
      .onConflict((oc) => oc.columns(['user_id', 'role_id']).doNothing())
      .execute();
  }
  if (remove.some((r) => r.name === SYSTEM_ADMIN_ROLE)) {
    await ctx.roles.assertSystemAdminRemains(trx, tenant.id, { userIds: [userId] });
  }
  if (remove.length > 0) {
    const removeIds = remove.map((r) => r.id);
    await trx.deleteFrom('user_roles').where('user_id', '=', userId).where('role_id', 'in', removeIds).execute();
  }
  for (const [action, list] of [
    ['user.role.grant', add],
    ['user.role.revoke', remove],
  ] as const) {
    for (const r of list) {
      await ctx.audit.record(trx, actor, {
        tenantId: tenant.id,
        action,
        target: { type: 'user', id: userId },
        details: { role: r.name, provider: idp.slug },
      });
    }
  }
  return { added: add.map((r) => r.name), removed: remove.map((r) => r.name) };
}
