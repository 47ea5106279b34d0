/**
 * Email verification (issue 11): a link sent to the user's address (on self-registration, when
 * an admin creates a user with `sendVerification`, or asks with `POST …/users/{id}/verification`)
 * with a 6-digit code beside it for another device, whose use marks the email verified (the
 * `email_verified` claim), and activates an account
 * that registered on the sign-in page: such an account is `pending`, and cannot sign in, until
 * then. So registering tells nobody whether an email has an account: a new email gets an
 * account that waits for its link, a taken one a notice to its owner, and the registrant the
 * same page either way, with a password that signs in neither (issue 9).
 *
 * An email change (on the account page) is a link of its own purpose, sent to the new
 * address: the address becomes the user's, verified, only when it is used, and the old
 * address is then told.
 */
import type { Kysely } from 'kysely';
import type { AuditActor, AuditService } from '../audit/service.js';
import { isUniqueViolation } from '../db/database.js';
import type { DB, UserLinkRow, UserRow } from '../db/schema.js';
import { renderEmail } from '../email/messages.js';
import type { EmailOutbox } from '../email/outbox.js';
import { AppError } from '../http/errors.js';
import type { Locale } from '../i18n/locales.js';
import type { Tenant } from '../tenants/service.js';
import { normalizeEmail, statusOf, type UserService } from '../users/service.js';
import { sendAudited, type UserLinks, userOf } from './links.js';

/** Where a verification link opens (and, without its token, where its code is typed). */
export const verifyUrl = (publicUrl: string, slug: string, secret?: string) =>
  `${publicUrl}/t/${slug}/account/verify${secret ? `?token=${secret}` : ''}`;

/** What a link or code verifying an address opens to: its link and user. */
export type OpenedVerification = { link: UserLinkRow; user: UserRow };

/** What using a verification did: `invalid` (not live any more) or `email_taken` (a change to an address another account took meanwhile). */
export type VerifyOutcome = 'verified' | 'invalid' | 'email_taken';

export class EmailVerifications {
  constructor(
    readonly db: Kysely<DB>,
    private readonly links: UserLinks,
    readonly outbox: EmailOutbox,
    readonly audit: AuditService,
    private readonly users: UserService,
    private readonly publicUrl: string,
  ) {}

  /**
   * Queues a message with a link and code verifying `to` (the user's email; for a change, the
   * new address) within `executor` (then `outbox.wake()`); its id.
   */
  async queue(
    executor: Kysely<DB>,
    tenant: Tenant,
    user: Pick<UserRow, 'id' | 'email'>,
    options: { to?: string; locale?: Locale } = {},
  ): Promise<string> {
    const hours = tenant.settings.email.verificationHours;
    const to = options.to ?? user.email;
    const { secret, code } = await this.links.create(
      executor,
      {
        tenantId: tenant.id,
        userId: user.id,
        purpose: options.to ? 'change_email' : 'verify_email',
        email: to,
        lifetimeMs: hours * 3_600_000,
      },
      true,
    );
    return this.outbox.queue(
      executor,
      tenant.id,
      renderEmail(tenant, 'verify_email', to, {
        link: verifyUrl(this.publicUrl, tenant.slug, secret),
        minutes: hours * 60,
        ...(code ? { code: { code, url: verifyUrl(this.publicUrl, tenant.slug) } } : {}),
        ...(options.locale ? { locale: options.locale } : {}),
      }),
    );
  }

  /** An admin's request: the user must exist, and their email not be verified yet. */
  async send(tenant: Tenant, userId: string, actor: AuditActor): Promise<string> {
    const user = await userOf(this.db, tenant, userId);
    if (user.email_verified) throw new AppError(409, 'email_already_verified', 'The user’s email is verified');
    const event = { tenantId: tenant.id, action: 'user.verification.send', userId: user.id };
    return sendAudited(this, actor, event, (trx) => this.queue(trx, tenant, user));
  }

  /** The user's own request (the sign-in's "send it again", the account page): as `send`, in `locale`. */
  async resend(tenant: Tenant, user: UserRow, actor: AuditActor, locale?: Locale): Promise<string | undefined> {
    if (user.email_verified || statusOf(user) === 'disabled') return undefined;
    const event = { tenantId: tenant.id, action: 'user.verification.send', userId: user.id };
    return sendAudited(this, { ...actor, type: 'user', id: user.id }, event, (trx) =>
      this.queue(trx, tenant, user, locale ? { locale } : {}),
    );
  }

  /**
   * An email change asked for by the user: a link to the new address, which becomes theirs
   * when it is used. 409 `email_taken` when another account of the tenant has it now.
   */
  async requestChange(tenant: Tenant, user: UserRow, newEmail: string, actor: AuditActor, locale?: Locale) {
    const to = normalizeEmail(newEmail);
    const taken = await this.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', tenant.id)
      .where('email', '=', to)
      .executeTakeFirst();
    if (taken) throw new AppError(409, 'email_taken', 'Another account has this email address');
    const event = { tenantId: tenant.id, action: 'user.email.change_request', userId: user.id };
    return sendAudited(this, { ...actor, type: 'user', id: user.id }, event, (trx) =>
      this.queue(trx, tenant, user, { to, ...(locale ? { locale } : {}) }),
    );
  }

  /**
   * Self-registration: a new email gets a `pending` account and a verification message in
   * one transaction; a taken one sends its owner a notice (or, if that account is still
   * pending, its verification message again). The same answer either way: nothing.
   * `mayMail`: the recipient's limit (EMAIL_RECIPIENT_LIMIT) allows a message to a taken
   * email; the work is the same either way. `locale`: the registration page's, for the message.
   */
  async register(
    tenant: Tenant,
    input: { email: string; displayName: string | null; password: string },
    actor: AuditActor,
    mayMail = true,
    locale?: Locale,
    /** More work in the new account's transaction (the ticket page: the invitation's use). */
    within?: (trx: Kysely<DB>, row: UserRow) => Promise<void>,
  ): Promise<void> {
    const options = locale ? { locale } : {};
    const created = await this.users.register(tenant, input, actor, async (trx, row) => {
      await this.queue(trx, tenant, row, options);
      await within?.(trx, row);
    });
    if (!created && mayMail) {
      const existing = await this.db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenant.id)
        .where('email', '=', normalizeEmail(input.email))
        .executeTakeFirst();
      if (existing && statusOf(existing) === 'pending') {
        await this.db.transaction().execute((trx) => this.queue(trx, tenant, existing, options));
      } else if (existing?.status === 'active') {
        const notice = renderEmail(tenant, 'account_exists', existing.email, options);
        await this.db.transaction().execute((trx) => this.outbox.queue(trx, tenant.id, notice));
      }
    }
    this.outbox.wake();
  }

  /**
   * The live verification (or email change) that this link's secret, or this address and
   * code, opens in the tenant, with its user; or undefined. A wrong code counts against its link.
   */
  async open(
    tenant: Tenant,
    secret: string | { email: string; code: string },
  ): Promise<OpenedVerification | undefined> {
    const given =
      typeof secret === 'string' ? secret : { email: normalizeEmail(secret.email), code: secret.code.trim() };
    // A disabled user stays so; a pending one is activated by it.
    const usable = (user: UserRow) => statusOf(user) !== 'disabled';
    return (
      (await this.links.open(tenant.id, 'verify_email', given, usable)) ??
      (await this.links.open(tenant.id, 'change_email', given, (user) => user.status === 'active'))
    );
  }

  /**
   * Uses a link or code: the email verified (a pending account active, a new address the
   * user's). `locale`: the page's, for the message an email change sends the old address.
   */
  async verify(
    tenant: Tenant,
    secret: string | { email: string; code: string },
    actor: AuditActor,
    locale?: Locale,
  ): Promise<VerifyOutcome> {
    const opened = await this.open(tenant, secret);
    return opened ? this.use(tenant, opened, actor, locale) : 'invalid';
  }

  /** Uses what `open` found. */
  async use(tenant: Tenant, opened: OpenedVerification, actor: AuditActor, locale?: Locale): Promise<VerifyOutcome> {
    const { link, user } = opened;
    const change = link.purpose === 'change_email';
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (!(await this.links.consume(trx, link))) return 'invalid';
        const now = Date.now();
        const pending = statusOf(user) === 'pending';
        const res = await trx
          .updateTable('users')
          .set((eb) => ({
            email_verified: 1,
            ...(change ? { email: link.email } : {}),
            ...(pending ? { status: 'active' as const, pending_verification: 0 } : {}),
            updated_at: now,
            version: eb('version', '+', 1),
          }))
          .where('tenant_id', '=', tenant.id)
          .where('id', '=', user.id)
          // The address it verifies is still the one it was sent for (or, for a change, the
          // one it changes from); not an account disabled meanwhile (users/service.ts).
          .where('email', '=', change ? user.email : link.email)
          .where('pending_verification', '=', pending ? 1 : 0)
          .executeTakeFirst();
        if (res.numUpdatedRows === 0n) return 'invalid';
        if (change) {
          await this.links.endAll(trx, tenant.id, user.id, 'password_reset', now);
          await this.outbox.queue(
            trx,
            tenant.id,
            renderEmail(tenant, 'email_changed', user.email, { detail: link.email, ...(locale ? { locale } : {}) }),
          );
        }
        await this.audit.record(
          trx,
          { ...actor, type: 'user', id: user.id },
          {
            tenantId: tenant.id,
            action: change ? 'user.email.change' : 'user.email.verify',
            target: { type: 'user', id: user.id },
            details: change ? { from: user.email, to: link.email } : { email: link.email, activated: pending },
          },
        );
        return 'verified' as const;
      });
    } catch (err) {
      // Another account took the new address between the request and its use.
      if (change && isUniqueViolation(err)) return 'email_taken';
      throw err;
    } finally {
      if (change) this.outbox.wake();
    }
  }
}

/** How long a pending self-registration may wait for its link before the purge deletes it. */
export const PENDING_REGISTRATION_MS = 7 * 86_400_000;

/**
 * Deletes self-registrations still pending PENDING_REGISTRATION_MS after they were made and
 * holding no live verification link (registering again sends a new one, which keeps it): so
 * unauthenticated registrations do not grow the database for ever (issue 9). How many went.
 */
export async function purgeStaleRegistrations(db: Kysely<DB>, now = Date.now()): Promise<number> {
  const res = await db
    .deleteFrom('users')
    .where('pending_verification', '=', 1)
    .where('status', '=', 'disabled')
    .where('created_at', '<', now - PENDING_REGISTRATION_MS)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('user_links')
            .select('user_links.id')
            .whereRef('user_links.user_id', '=', 'users.id')
            .where('user_links.purpose', '=', 'verify_email')
            .where('user_links.used_at', 'is', null)
            .where('user_links.expires_at', '>', now),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
