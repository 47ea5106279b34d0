/**
 * The one way a user's password is replaced, whoever replaces it (an admin through the API,
 * the user on the account page or with a reset link, an operator with `latchkey admin
 * reset`): the new hash, `password_changed_at`, a new version, and every session and refresh
 * token made with the old password ended (but the one the user is changing it from, when
 * given), in the caller's transaction. The caller adds its own audit event and message.
 */
import type { Kysely } from 'kysely';
import type { DB, UserRow, UserUpdate } from '../db/schema.js';
import { endUserSessions } from '../sessions/service.js';

export interface Replacement {
  /** More columns set with it (`email_verified` after a reset, `status` after an admin reset). */
  also?: Pick<UserUpdate, 'email_verified' | 'status'>;
  /**
   * Only over the user as a check read them: the same password and the same end of sessions,
   * and still active. A reset or an admin's new password that landed meanwhile wins.
   */
  unchangedSince?: Pick<UserRow, 'password_hash' | 'sessions_ended_at'>;
  /** The oidc Session uid to keep signed in (the account page's own). */
  keepSession?: string;
}

/** Sessions ended, or undefined when no such user (or, with `unchangedSince`, it changed). */
export async function replacePassword(
  trx: Kysely<DB>,
  tenantId: string,
  userId: string,
  passwordHash: string,
  o: Replacement = {},
): Promise<number | undefined> {
  const now = Date.now();
  let update = trx
    .updateTable('users')
    .set((eb) => ({
      ...o.also,
      password_hash: passwordHash,
      password_changed_at: now,
      updated_at: now,
      version: eb('version', '+', 1),
    }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', userId);
  const since = o.unchangedSince;
  if (since) {
    update = update
      .where('status', '=', 'active')
      .where('password_hash', since.password_hash === null ? 'is' : '=', since.password_hash)
      .where('sessions_ended_at', since.sessions_ended_at === null ? 'is' : '=', since.sessions_ended_at);
  }
  const res = await update.executeTakeFirst();
  if (res.numUpdatedRows === 0n) return undefined;
  return endUserSessions(trx, tenantId, userId, o.keepSession);
}
