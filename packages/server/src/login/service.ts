/**
 * Password sign-in. Unknown email, wrong password, disabled and locked accounts all get the
 * same answer (one argon2id verification, against a dummy hash when there is no real one;
 * a locked account or address is refused before any hashing). Attempts count per account and
 * per client IP as they begin (reserve, then check); every attempt is written to the audit
 * log with the real reason, which only admins see. The attempt takes its place at the hash
 * queue first, so that a burst past the queue's bounds is refused (`BusyError`, 429) before
 * it costs a query.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditActor, AuditService } from '../audit/service.js';
import { prepared } from '../db/prepared.js';
import type { DB } from '../db/schema.js';
import { sourceOf } from '../http/addresses.js';
import type { Metrics } from '../metrics/metrics.js';
import {
  type Admission,
  BusyError,
  hashPassword,
  needsRehash,
  type PasswordHasher,
  requesterOf,
  signInRequesterOf,
} from '../passwords/hash.js';
import { normalizePassword } from '../passwords/policy.js';
import type { Tenant } from '../tenants/service.js';
import { EMAIL_MAX_LENGTH, normalizeEmail } from '../users/service.js';
import type { LockoutStore, Reservation } from './lockout.js';

/** Per-IP limit, as a multiple of the per-account one: many people may share an address. */
export const IP_FAILURE_FACTOR = 10;

/**
 * How an attempt is recorded: `action` names its audit events ('login.password'; the account
 * page's re-entered password, 'user.reauthenticate'), `device` (the browser and system, from
 * its User-Agent) goes into a success's details.
 */
export interface AttemptOptions {
  action?: string;
  device?: string;
}

/**
 * `at`: when the password was found right (ms), the sign-in's time. `locked`: refused because
 * the account or address is locked (for metrics; the page says the same as for a wrong password).
 */
export type SignInResult =
  | { ok: true; userId: string; at: number; emailVerified: boolean }
  | { ok: false; locked: boolean };

export class SignInService {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly lockout: LockoutStore,
    private readonly audit: AuditService,
    private readonly hasher: PasswordHasher,
    /** Counts lockouts, when metrics are on. */
    private readonly metrics?: Metrics | undefined,
  ) {}

  /** Made once, outside the queue: every later verification against it waits its turn. */
  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword('latchkey-dummy-password-for-timing');
    return this.dummyHash;
  }

  /**
   * `admitted`: the attempt's place at the hash queue, when the route took it as the request
   * arrived; else one is taken here. Throws `BusyError` when too many attempts wait for a hash
   * (nothing is counted then).
   */
  async signIn(
    tenant: Tenant,
    emailInput: string,
    passwordInput: string,
    actor: AuditActor,
    admitted?: Admission,
    options: AttemptOptions = {},
  ): Promise<SignInResult> {
    const place = admitted ?? this.hasher.admit(signInRequesterOf(tenant.id, actor.ip));
    try {
      return await this.attempt(tenant, emailInput, passwordInput, actor, place, options);
    } finally {
      place.cancel();
    }
  }

  private async attempt(
    tenant: Tenant,
    emailInput: string,
    passwordInput: string,
    actor: AuditActor,
    place: Admission,
    options: AttemptOptions,
  ): Promise<SignInResult> {
    const action = options.action ?? 'login.password';
    const normalized = normalizeEmail(emailInput);
    // Recorded at most this long; looked up whole, so that a longer one matches no account.
    const email = normalized.slice(0, EMAIL_MAX_LENGTH);
    const password = normalizePassword(passwordInput);
    const policy = tenant.settings.lockout;
    const ipPolicy = { maxFailures: policy.maxFailures * IP_FAILURE_FACTOR, durationSeconds: policy.durationSeconds };
    const ipKey = `ip:${sourceOf(actor.ip)}`;
    // The address first: a locked one is refused before anything else is counted or checked,
    // and counts no key of its own per email it tries.
    const [ip, user] = await Promise.all([
      this.lockout.reserve(tenant.id, ipKey, ipPolicy),
      userByEmail(this.db, { tenantId: tenant.id, email: normalized }).then((r) => r.rows[0]),
    ]);
    // Attempts on an email without an account are counted too, so that both cost the same.
    const accountKey = user
      ? `user:${user.id}`
      : `email:${createHash('sha256').update(email).digest('base64url').slice(0, 32)}`;
    let account: Reservation | undefined;
    let reason: string | undefined;
    if (!ip.allowed) reason = 'ip_locked';
    else {
      account = await this.lockout.reserve(tenant.id, accountKey, policy);
      if (!account.allowed) reason = 'account_locked';
      else {
        const passwordOk = await this.hasher.verify(user?.password_hash ?? (await this.dummy()), password, place);
        if (!user) reason = 'unknown_user';
        else if (!user.password_hash) reason = 'no_password';
        else if (!passwordOk) reason = 'wrong_password';
        else if (user.status !== 'active') reason = 'disabled';
      }
    }

    let rehashed = false;
    const at = Date.now();
    if (reason === undefined && user?.password_hash) {
      // Only if the password checked is still the user's, and the user still active: a
      // password set or an account disabled during the check wins over this sign-in.
      const rehash = needsRehash(user.password_hash) ? await this.rehash(tenant, password, actor) : undefined;
      const updated = await signedIn(this.db, {
        at,
        // The same hash when it needs no new one: one statement either way.
        newHash: rehash ?? user.password_hash,
        id: user.id,
        checkedHash: user.password_hash,
      });
      if (updated.numAffectedRows === 0n) reason = 'changed_during_sign_in';
      rehashed = rehash !== undefined && reason === undefined;
    }

    if (reason !== undefined || !user) {
      // This attempt was counted as it began; a refused one changes nothing more.
      const [addressLocked, accountLocked] = await Promise.all([
        ip.allowed && this.lockout.lockIfReached(tenant.id, ipKey, ipPolicy),
        account?.allowed && this.lockout.lockIfReached(tenant.id, accountKey, policy),
      ]);
      if (addressLocked) this.metrics?.lockout('address');
      if (accountLocked) this.metrics?.lockout('account');
      // The target names a known account; only an unknown one needs the email typed.
      await this.audit.record(this.db, actor, {
        tenantId: tenant.id,
        action,
        outcome: 'failure',
        target: user ? { type: 'user', id: user.id } : undefined,
        details: user ? { reason } : { reason, email },
      });
      return { ok: false, locked: reason === 'ip_locked' || reason === 'account_locked' };
    }

    // A success clears the account's count, this attempt's included, and is no failure of the IP.
    await this.lockout.succeeded(tenant.id, accountKey, ipKey);
    await this.audit.record(
      this.db,
      { ...actor, type: 'user', id: user.id },
      {
        tenantId: tenant.id,
        action,
        target: { type: 'user', id: user.id },
        details:
          rehashed || options.device
            ? { ...(rehashed ? { rehashed: true } : {}), ...(options.device ? { device: options.device } : {}) }
            : undefined,
      },
    );
    return { ok: true, userId: user.id, at, emailVerified: user.email_verified === 1 };
  }

  /** A new hash with today's parameters, or none when the queue is full (the next sign-in will). */
  private async rehash(tenant: Tenant, password: string, actor: AuditActor): Promise<string | undefined> {
    try {
      return await this.hasher.hash(password, requesterOf(tenant.id, actor.ip));
    } catch (err) {
      if (err instanceof BusyError) return undefined;
      throw err;
    }
  }
}

// The statements of every sign-in, prepared (db/prepared.ts).
const userByEmail = prepared((db, p: { tenantId: string; email: string }) =>
  db
    .selectFrom('users')
    .select(['id', 'status', 'password_hash', 'email_verified'])
    .where('tenant_id', '=', p.tenantId)
    .where('email', '=', p.email),
);

/** Only if the password checked is still the user's, and the user still active. */
const signedIn = prepared((db, p: { at: number; newHash: string; id: string; checkedHash: string }) =>
  db
    .updateTable('users')
    .set({ last_login_at: p.at, password_hash: p.newHash })
    .where('id', '=', p.id)
    .where('password_hash', '=', p.checkedHash)
    .where('status', '=', 'active'),
);
