/**
 * What a user does to their own account on the account page (account-page.ts): the display
 * name, a password change (the current one required; the other sessions ended), signing out
 * everywhere else, the recent security activity, and deleting the account where the tenant
 * allows it (the password again). Each change is audited with the user as actor, and a
 * password change tells the address by email, in the same transaction (the outbox).
 */

import type { AuditActor } from '../audit/service.js';
import { SYSTEM_TENANT_SLUG } from '../auth/permissions.js';
import type { AppContext } from '../context.js';
import type { UserRow } from '../db/schema.js';
import { deleteAtVersion } from '../db/versions.js';
import { renderEmail } from '../email/messages.js';
import type { Locale } from '../i18n/locales.js';
import { type PasswordHasher, requesterOf } from '../passwords/hash.js';
import { checkPassword } from '../passwords/policy.js';
import { endUserSessions, listSessions } from '../sessions/service.js';
import type { Tenant } from '../tenants/service.js';
import { replacePassword } from '../users/password.js';
import { displayNameSchema, nameSort } from '../users/service.js';
import type { AccountVisit } from './account-session.js';

/** The audit actions the account page lists as the user's security activity. */
export const securityActions = [
  'login.password',
  'user.reauthenticate',
  'user.password.change',
  'user.password.reset',
  'user.password.set',
  'user.email.change',
  'user.email.verify',
  'user.sessions.end',
  'user.disable',
  'user.enable',
  'user.sign_in.federated',
  'user.identity.link',
  'user.identity.unlink',
] as const;

export interface SessionView {
  id: string;
  current: boolean;
  signedInAt: string | null;
  lastUsedAt: string | null;
  device: string | null;
  ip: string | null;
  applications: string[];
}

/** The request's actor as the user acting on their own account (the account page's changes). */
export const selfActor = (actor: AuditActor, user: UserRow): AuditActor => ({ ...actor, type: 'user', id: user.id });

export function selfService(ctx: AppContext, hasher: PasswordHasher) {
  const db = ctx.database.db;

  /** The password typed again, checked as a sign-in is (lockout, the hash queue), audited apart. */
  async function passwordIsRight(tenant: Tenant, user: UserRow, password: string, actor: AuditActor) {
    const result = await ctx.signIn.signIn(tenant, user.email, password, actor, undefined, {
      action: 'user.reauthenticate',
    });
    return result.ok && result.userId === user.id;
  }

  /**
   * That whoever is at the page holds the account now: its current password, or, for an account
   * without one (made through an identity provider), a re-authentication at a provider within
   * REAUTH_SECONDS (account-session.ts; `stale`: sign in again first).
   */
  async function proof(tenant: Tenant, visit: AccountVisit, password: string, actor: AuditActor) {
    if (visit.user.password_hash === null) return visit.reauthenticated ? ('ok' as const) : ('stale' as const);
    return (await passwordIsRight(tenant, visit.user, password, actor)) ? ('ok' as const) : ('wrong' as const);
  }

  return {
    proof,

    async setDisplayName(tenant: Tenant, user: UserRow, name: string, actor: AuditActor) {
      // Empty: no display name; else the rules an admin's change follows.
      const parsed = name.trim() === '' ? { success: true as const, data: null } : displayNameSchema.safeParse(name);
      if (!parsed.success) return false;
      const displayName = parsed.data;
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set((eb) => ({
            display_name: displayName,
            name_sort: nameSort(displayName),
            updated_at: Date.now(),
            version: eb('version', '+', 1),
          }))
          .where('tenant_id', '=', tenant.id)
          .where('id', '=', user.id)
          .execute();
        await ctx.audit.record(trx, selfActor(actor, user), {
          tenantId: tenant.id,
          action: 'user.update',
          target: { type: 'user', id: user.id },
          details: { fields: ['displayName'], by: 'self' },
        });
      });
      return true;
    },

    /**
     * A new password, after the current one: under the tenant's policy (its errors name the
     * rule), set only if the password is still the one checked; every other session of the
     * user ended, this one kept; the address told. An account without a password sets its
     * first one this way, after a recent sign-in instead (proof). `wrong` or `stale` as proof
     * says; `changed_meanwhile` when a reset or an admin set another password first.
     */
    async changePassword(
      tenant: Tenant,
      visit: AccountVisit,
      current: string,
      next: string,
      actor: AuditActor,
      /** The page's, for the message. */
      locale?: Locale,
    ) {
      const { user } = visit;
      const valid = checkPassword(next, { minLength: tenant.settings.passwordMinLength, email: user.email });
      const proved = await proof(tenant, visit, current, actor);
      if (proved !== 'ok') return proved;
      const passwordHash = await hasher.hash(valid, requesterOf(tenant.id, actor.ip));
      // Only over the password (and the sessions) as they were when this request began: a reset
      // or an admin's new password while it was checked and hashed wins over it.
      const checked = user;
      const done = await db.transaction().execute(async (trx) => {
        const ended = await replacePassword(trx, tenant.id, user.id, passwordHash, {
          unchangedSince: checked,
          keepSession: visit.sessionUid,
        });
        if (ended === undefined) return false;
        await ctx.audit.record(trx, selfActor(actor, user), {
          tenantId: tenant.id,
          action: 'user.password.change',
          target: { type: 'user', id: user.id },
          details: { sessionsEnded: ended, ...(checked.password_hash === null ? { first: true } : {}) },
        });
        const message = renderEmail(tenant, 'password_changed', user.email, locale ? { locale } : {});
        await ctx.emails.queue(trx, tenant.id, message);
        return true;
      });
      if (done) ctx.emails.wake();
      return done ? ('ok' as const) : ('changed_meanwhile' as const);
    },

    /** Ends every session of the user but this one, and what they issued. Returns how many. */
    async endOtherSessions(tenant: Tenant, visit: AccountVisit, actor: AuditActor) {
      return db.transaction().execute(async (trx) => {
        const ended = await endUserSessions(trx, tenant.id, visit.user.id, visit.sessionUid);
        await ctx.audit.record(trx, selfActor(actor, visit.user), {
          tenantId: tenant.id,
          action: 'user.sessions.end',
          target: { type: 'user', id: visit.user.id },
          details: { sessions: ended, kept: 'current' },
        });
        return ended;
      });
    },

    /** The user's live sessions, with the device and address of the sign-in that made each. */
    async sessions(tenant: Tenant, visit: AccountVisit): Promise<SessionView[]> {
      const sessions = await listSessions(db, tenant.id, visit.user.id);
      const idle = tenant.settings.lifetimes.sessionIdleSeconds * 1000;
      const earliest = Math.min(...sessions.map((s) => (s.signedInAt ? Date.parse(s.signedInAt) : Date.now())));
      const logins =
        sessions.length === 0
          ? []
          : await db
              .selectFrom('audit_events')
              .select(['occurred_at', 'ip', 'details'])
              .where('tenant_id', '=', tenant.id)
              .where('target_id', '=', visit.user.id)
              .where('action', '=', 'login.password')
              .where('outcome', '=', 'success')
              .where('occurred_at', '>=', earliest - 1000)
              .orderBy('occurred_at', 'asc')
              .limit(500)
              .execute();
      const clients = await db
        .selectFrom('clients')
        .select(['client_id', 'name'])
        .where('tenant_id', '=', tenant.id)
        .where('client_id', 'in', ['', ...new Set(sessions.flatMap((s) => s.clients))])
        .execute();
      return sessions.map((s) => {
        const at = s.signedInAt ? Date.parse(s.signedInAt) : undefined;
        // The sign-in's own event: written within moments after the session's login time (seconds).
        const login =
          at === undefined ? undefined : logins.find((l) => l.occurred_at >= at && l.occurred_at < at + 60_000);
        const details = login?.details ? (JSON.parse(login.details) as { device?: string }) : {};
        // A session's idle lifetime starts again each time it is used: its expiry tells when.
        const expires = s.expiresAt ? Date.parse(s.expiresAt) : undefined;
        const lastUsed = expires !== undefined && at !== undefined ? Math.max(at, expires - idle) : at;
        return {
          id: s.id,
          current: s.id === visit.sessionUid,
          signedInAt: s.signedInAt,
          lastUsedAt: lastUsed === undefined ? null : new Date(lastUsed).toISOString(),
          device: details.device ?? null,
          ip: login?.ip ?? null,
          applications: s.clients
            .filter((c) => c !== 'account')
            .map((c) => clients.find((r) => r.client_id === c)?.name ?? c),
        };
      });
    },

    /** The user's recent security events, newest first. */
    async activity(tenant: Tenant, user: UserRow, limit = 20) {
      const rows = await db
        .selectFrom('audit_events')
        .select(['occurred_at', 'action', 'outcome', 'ip', 'details'])
        .where('tenant_id', '=', tenant.id)
        .where('target_id', '=', user.id)
        .where('action', 'in', [...securityActions])
        .orderBy('occurred_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        at: new Date(r.occurred_at).toISOString(),
        action: r.action,
        outcome: r.outcome,
        ip: r.ip,
        reason:
          r.outcome === 'failure' && r.details ? ((JSON.parse(r.details) as { reason?: string }).reason ?? null) : null,
      }));
    },

    /**
     * Deletes the account (the tenant must allow it, the password must be right), with its
     * sessions and what they issued. 'wrong_password', 'stale' (no password, and the sign-in is
     * not recent: proof), 'not_allowed' (the setting is off, or it
     * is the system tenant's last administrator), or 'deleted'.
     */
    async deleteAccount(tenant: Tenant, visit: AccountVisit, password: string, actor: AuditActor) {
      const { user } = visit;
      if (!tenant.settings.selfDeletion) return 'not_allowed' as const;
      const proved = await proof(tenant, visit, password, actor);
      if (proved !== 'ok') return proved === 'stale' ? ('stale' as const) : ('wrong_password' as const);
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('users')
          .select(['id', 'version', 'status'])
          .where('tenant_id', '=', tenant.id)
          .where('id', '=', user.id)
          .executeTakeFirst();
        if (!row) return 'deleted' as const;
        if (tenant.slug === SYSTEM_TENANT_SLUG) {
          try {
            await ctx.roles.assertSystemAdminRemains(trx, tenant.id, { userIds: [row.id] });
          } catch {
            return 'not_allowed' as const;
          }
        }
        await deleteAtVersion(trx, 'users', row.id, row.version);
        await endUserSessions(trx, tenant.id, row.id);
        await ctx.audit.record(trx, selfActor(actor, user), {
          tenantId: tenant.id,
          action: 'user.delete',
          target: { type: 'user', id: row.id },
          details: { email: user.email, by: 'self' },
        });
        return 'deleted' as const;
      });
    },
  };
}

export type SelfService = ReturnType<typeof selfService>;
