/**
 * Password sign-in. Unknown email, wrong password, disabled and locked accounts all get the
 * same answer after the same work (one argon2id verification, against a dummy hash when
 * there is no real one). Failures count per account and per client IP; every attempt is
 * written to the audit log with the real reason, which only admins see.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditActor, AuditService } from '../audit/service.js';
import type { DB } from '../db/schema.js';
import { hashPassword, needsRehash, verifyPassword } from '../passwords/hash.js';
import { normalizePassword } from '../passwords/policy.js';
import type { Tenant } from '../tenants/service.js';
import { EMAIL_MAX_LENGTH, normalizeEmail } from '../users/service.js';
import { countFailure, type LockoutStore } from './lockout.js';

/** Per-IP limit, as a multiple of the per-account one: many people may share an address. */
export const IP_FAILURE_FACTOR = 10;

/** `at`: when the password was found right (ms), the sign-in's time. */
export type SignInResult = { ok: true; userId: string; at: number } | { ok: false };

export class SignInService {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly lockout: LockoutStore,
    private readonly audit: AuditService,
  ) {}

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword('latchkey-dummy-password-for-timing');
    return this.dummyHash;
  }

  async signIn(tenant: Tenant, emailInput: string, passwordInput: string, actor: AuditActor): Promise<SignInResult> {
    const normalized = normalizeEmail(emailInput);
    // Recorded at most this long; looked up whole, so that a longer one matches no account.
    const email = normalized.slice(0, EMAIL_MAX_LENGTH);
    const password = normalizePassword(passwordInput);
    const policy = tenant.settings.lockout;
    const ipKey = `ip:${actor.ip ?? 'unknown'}`;
    const user = await this.db
      .selectFrom('users')
      .select(['id', 'status', 'password_hash'])
      .where('tenant_id', '=', tenant.id)
      .where('email', '=', normalized)
      .executeTakeFirst();
    // Attempts on an email without an account are counted too, so that both cost the same.
    const accountKey = user
      ? `user:${user.id}`
      : `email:${createHash('sha256').update(email).digest('base64url').slice(0, 32)}`;
    const [ipLocked, account] = await Promise.all([
      this.lockout.lockedMs(tenant.id, ipKey),
      this.lockout.reserve(tenant.id, accountKey, policy),
    ]);
    const passwordOk = await verifyPassword(user?.password_hash ?? (await this.dummy()), password);

    let reason: string | undefined;
    if (!user) reason = 'unknown_user';
    else if (ipLocked > 0) reason = 'ip_locked';
    else if (!account.allowed) reason = 'account_locked';
    else if (!user.password_hash) reason = 'no_password';
    else if (!passwordOk) reason = 'wrong_password';
    else if (user.status !== 'active') reason = 'disabled';

    let rehashed = false;
    const at = Date.now();
    if (reason === undefined && user?.password_hash) {
      // Only if the password checked is still the user's, and the user still active: a
      // password set or an account disabled during the check wins over this sign-in.
      const rehash = needsRehash(user.password_hash) ? await hashPassword(password) : undefined;
      const updated = await this.db
        .updateTable('users')
        .set({ last_login_at: at, ...(rehash ? { password_hash: rehash } : {}) })
        .where('id', '=', user.id)
        .where('password_hash', '=', user.password_hash)
        .where('status', '=', 'active')
        .executeTakeFirst();
      if (updated.numUpdatedRows === 0n) reason = 'changed_during_sign_in';
      rehashed = rehash !== undefined && reason === undefined;
    }

    if (reason !== undefined || !user) {
      if (ipLocked === 0) {
        await countFailure(this.lockout, tenant.id, ipKey, {
          maxFailures: policy.maxFailures * IP_FAILURE_FACTOR,
          durationSeconds: policy.durationSeconds,
        });
      }
      // This attempt was counted as it began; a refused one changes nothing more.
      if (account.allowed) await this.lockout.lockIfReached(tenant.id, accountKey, policy);
      await this.audit.record(this.db, actor, {
        tenantId: tenant.id,
        action: 'login.password',
        outcome: 'failure',
        target: user ? { type: 'user', id: user.id } : undefined,
        details: { reason, email },
      });
      return { ok: false };
    }

    // A success clears the account's count, this attempt's included.
    await this.lockout.reset(tenant.id, accountKey);
    await this.audit.record(
      this.db,
      { ...actor, type: 'user', id: user.id },
      {
        tenantId: tenant.id,
        action: 'login.password',
        target: { type: 'user', id: user.id },
        details: rehashed ? { rehashed: true } : undefined,
      },
    );
    return { ok: true, userId: user.id, at };
  }
}
