/**
 * `latchkey admin reset --email …`: the way back in for whoever runs commands on the server
 * when the bootstrap credentials are lost. The system tenant's user with that email gets a
 * new random password (printed once), or is created holding `system:admin` when the email
 * has no account there; their sessions and tokens end; the audit log records it with the
 * system as actor. A disabled or locked account is enabled and unlocked again. A user of the system tenant without `system:admin` is refused: this
 * command restores administrators, it does not make them out of other accounts.
 */

import { type AuditService, systemActor } from '../audit/service.js';
import { SYSTEM_ADMIN_ROLE, SYSTEM_TENANT_SLUG } from '../auth/permissions.js';
import type { Database } from '../db/database.js';
import type { LockoutStore } from '../login/lockout.js';
import { hashPassword } from '../passwords/hash.js';
import { replacePassword } from '../users/password.js';
import { createUserSchema } from '../users/service.js';
import { generatedAdminPassword, insertSystemAdmin } from './bootstrap.js';

/** A refusal to print as it is (one line, what to do), exiting non-zero. */
export class AdminResetError extends Error {
  override name = 'AdminResetError';
}

export interface AdminResetResult {
  email: string;
  userId: string;
  /** Shown this once; only its hash is stored. */
  password: string;
  /** The email had no account in the system tenant: a new system:admin user was made. */
  created: boolean;
  /** Sessions of the user that the reset ended. */
  sessionsEnded: number;
  /** The account was disabled, and is enabled again (so that the password works). */
  reenabled: boolean;
  /** Why the account's sign-in failures could not be cleared (Redis unreachable, say). */
  unlockFailed?: string;
}

/**
 * Resets (or creates) the admin. `lockout` is the sign-in failure store the server uses (Redis
 * or the database): the account's failures are cleared, so a locked account signs in at once.
 */
export async function resetAdmin(
  database: Database,
  audit: AuditService,
  lockout: LockoutStore,
  input: string,
): Promise<AdminResetResult> {
  const parsed = createUserSchema.shape.email.safeParse(input);
  if (!parsed.success) throw new AdminResetError(`--email: "${input}" is not an email address`);
  const email = parsed.data;
  const { db } = database;
  const tenant = await db.selectFrom('tenants').select('id').where('slug', '=', SYSTEM_TENANT_SLUG).executeTakeFirst();
  if (!tenant) throw new AdminResetError('there is no system tenant yet: run `latchkey bootstrap` (or serve) first');
  const role = await db
    .selectFrom('roles')
    .select('id')
    .where('tenant_id', '=', tenant.id)
    .where('name', '=', SYSTEM_ADMIN_ROLE)
    .executeTakeFirstOrThrow();
  const password = generatedAdminPassword();
  const passwordHash = await hashPassword(password);

  const result = await db.transaction().execute(async (trx) => {
    const now = Date.now();
    const user = await trx
      .selectFrom('users')
      .select(['id', 'status'])
      .where('tenant_id', '=', tenant.id)
      .where('email', '=', email)
      .executeTakeFirst();
    let userId: string;
    let sessionsEnded = 0;
    const reenabled = user !== undefined && user.status !== 'active';
    if (user) {
      const holds = await trx
        .selectFrom('user_roles')
        .select('role_id')
        .where('tenant_id', '=', tenant.id)
        .where('user_id', '=', user.id)
        .where('role_id', '=', role.id)
        .executeTakeFirst();
      if (!holds) {
        throw new AdminResetError(
          `${email} is a user of the system tenant without ${SYSTEM_ADMIN_ROLE}: nothing was changed (give an email of an administrator, or a new one)`,
        );
      }
      userId = user.id;
      sessionsEnded =
        (await replacePassword(trx, tenant.id, userId, passwordHash, { also: { status: 'active' } })) ?? 0;
    } else {
      userId = await insertSystemAdmin(trx, tenant.id, role.id, email, passwordHash, now);
    }
    await audit.record(trx, systemActor, {
      tenantId: tenant.id,
      action: 'system.admin.reset',
      target: { type: 'user', id: userId },
      details: { via: 'cli', email, created: !user, sessionsEnded, reenabled },
    });
    return { email, userId, password, created: !user, sessionsEnded, reenabled };
  });
  // The account's key in the sign-in failure counters (login/service.ts counts `user:{id}`).
  // The reset is made by now: a store that cannot be reached must not hide its password.
  try {
    await lockout.reset(tenant.id, `user:${result.userId}`);
  } catch (err) {
    return { ...result, unlockFailed: err instanceof Error ? err.message : String(err) };
  }
  return result;
}

/** What the command prints: the new password, once. */
export function adminResetMessage(result: AdminResetResult, publicUrl: string): string {
  return [
    result.created
      ? `Created ${result.email} in the system tenant, holding ${SYSTEM_ADMIN_ROLE}.`
      : `New password for ${result.email} (${SYSTEM_ADMIN_ROLE}); ${result.sessionsEnded} session(s) ended.`,
    `Sign in at ${publicUrl}/admin as:`,
    `  email:    ${result.email}`,
    `  password: ${result.password}`,
    'This password is shown only this once: keep it now, or change it after signing in.',
    ...(result.reenabled ? ['The account was disabled and is enabled again.'] : []),
    ...(result.unlockFailed
      ? [
          `Its sign-in failures could not be cleared (${result.unlockFailed}): if failed sign-ins locked it, it unlocks after the tenant's lockout duration.`,
        ]
      : []),
    '',
  ].join('\n');
}
