/**
 * Password reset (issue 11): a link sent to the user's address (asked for on the sign-in
 * page's "Forgot password?" form, or by an admin), and its use: a new password under the
 * tenant's policy, the email marked verified (the link proved the address), every session and
 * refresh token of the user ended, every other reset link of theirs ended, audit events, and
 * a message telling the user the password changed. The change and its messages are one
 * transaction with the outbox (email/outbox.ts).
 */

import type { Kysely } from 'kysely';
import type { AuditActor, AuditService } from '../audit/service.js';
import type { DB, UserLinkRow, UserRow } from '../db/schema.js';
import { renderEmail } from '../email/messages.js';
import type { EmailOutbox } from '../email/outbox.js';
import { AppError } from '../http/errors.js';
import type { Locale } from '../i18n/locales.js';
import { type PasswordHasher, requesterOf } from '../passwords/hash.js';
import { checkPassword } from '../passwords/policy.js';
import type { Tenant } from '../tenants/service.js';
import { replacePassword } from '../users/password.js';
import { sendAudited, type UserLinks, userOf } from './links.js';

/** Where a reset link opens: the tenant's reset form. */
export const resetUrl = (publicUrl: string, slug: string, secret: string) =>
  `${publicUrl}/t/${slug}/account/reset?token=${secret}`;

export class PasswordResets {
  constructor(
    readonly db: Kysely<DB>,
    private readonly links: UserLinks,
    readonly outbox: EmailOutbox,
    readonly audit: AuditService,
    private readonly hasher: PasswordHasher,
    private readonly publicUrl: string,
  ) {}

  /**
   * Sends `user` a reset link (the message queued with the link in one transaction). For an
   * admin's request (`POST …/users/{id}/password-reset`) and the forgot-password form.
   * `locale`: the message's language (the form's; by default the tenant's).
   */
  async send(tenant: Tenant, user: UserRow, actor: AuditActor, locale?: Locale): Promise<string> {
    const minutes = tenant.settings.email.passwordResetMinutes;
    const event = { tenantId: tenant.id, action: 'user.password_reset.send', userId: user.id };
    return sendAudited(this, actor, event, async (trx) => {
      const { secret } = await this.links.create(trx, {
        tenantId: tenant.id,
        userId: user.id,
        purpose: 'password_reset',
        email: user.email,
        lifetimeMs: minutes * 60_000,
      });
      const link = resetUrl(this.publicUrl, tenant.slug, secret);
      const message = renderEmail(tenant, 'password_reset', user.email, {
        link,
        minutes,
        ...(locale ? { locale } : {}),
      });
      return this.outbox.queue(trx, tenant.id, message);
    });
  }

  /** An admin's request: the user must exist and be active. */
  async sendByAdmin(tenant: Tenant, userId: string, actor: AuditActor): Promise<string> {
    const user = await userOf(this.db, tenant, userId);
    if (user.status !== 'active') {
      throw new AppError(409, 'user_disabled', 'The user is disabled: enable them before sending a reset link');
    }
    return this.send(tenant, user, actor);
  }

  /** The forgot-password form's request: a message (in the form's `locale`) only for an active account of that email. */
  async sendByEmail(tenant: Tenant, email: string, actor: AuditActor, locale?: Locale): Promise<void> {
    const user = await this.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('email', '=', email)
      .executeTakeFirst();
    if (user?.status !== 'active') return;
    await this.send(tenant, user, actor, locale);
  }

  /** The live reset link this secret opens in the tenant, with its user (active), or undefined. */
  async open(tenant: Tenant, secret: string): Promise<{ link: UserLinkRow; user: UserRow } | undefined> {
    // The address the link was sent to must still be the user's; only an active one.
    return this.links.open(tenant.id, 'password_reset', secret, (user) => user.status === 'active');
  }

  /**
   * Uses the link: the new password (policy errors name the rule, and leave the link live),
   * then in one transaction the link consumed (exactly one request wins), the password set,
   * the email verified, sessions, refresh tokens and other reset links ended, audit events
   * and the "password changed" message (in the reset form's `locale`). False when the link is
   * no longer live.
   */
  async reset(tenant: Tenant, secret: string, password: string, actor: AuditActor, locale?: Locale): Promise<boolean> {
    const opened = await this.open(tenant, secret);
    if (!opened) return false;
    const { link, user } = opened;
    const valid = checkPassword(password, { minLength: tenant.settings.passwordMinLength, email: user.email });
    const passwordHash = await this.hasher.hash(valid, requesterOf(tenant.id, actor.ip));
    const done = await this.db.transaction().execute(async (trx) => {
      if (!(await this.links.consume(trx, link))) return false;
      await replacePassword(trx, tenant.id, user.id, passwordHash, { also: { email_verified: 1 } });
      await this.links.endAll(trx, tenant.id, user.id, 'password_reset', Date.now());
      await this.audit.record(
        trx,
        { ...actor, type: 'user', id: user.id },
        {
          tenantId: tenant.id,
          action: 'user.password.reset',
          target: { type: 'user', id: user.id },
        },
      );
      const message = renderEmail(tenant, 'password_changed', user.email, locale ? { locale } : {});
      await this.outbox.queue(trx, tenant.id, message);
      return true;
    });
    if (done) this.outbox.wake();
    return done;
  }
}
