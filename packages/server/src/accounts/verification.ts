/**
 * Email verification (issue 11): a link sent to the user's address (on self-registration, when
 * an admin creates a user with `sendVerification`, or asks with `POST …/users/{id}/verification`)
 * whose use marks the email verified (the `email_verified` claim), and activates an account
 * that registered on the sign-in page: such an account is `pending`, and cannot sign in, until
 * then. So registering tells nobody whether an email has an account: a new email gets an
 * account that waits for its link, a taken one a notice to its owner, and the registrant the
 * same page either way, with a password that signs in neither (issue 9).
 */
import type { Kysely } from 'kysely';
import type { AuditActor, AuditService } from '../audit/service.js';
import type { DB, UserLinkRow, UserRow } from '../db/schema.js';
import { renderEmail } from '../email/messages.js';
import type { EmailOutbox } from '../email/outbox.js';
import { AppError } from '../http/errors.js';
import type { Tenant } from '../tenants/service.js';
import { normalizeEmail, statusOf, type UserService } from '../users/service.js';
import { sendAudited, type UserLinks, userOf } from './links.js';

/** Where a verification link opens. */
export const verifyUrl = (publicUrl: string, slug: string, secret: string) =>
  `${publicUrl}/t/${slug}/account/verify?token=${secret}`;

export class EmailVerifications {
  constructor(
    readonly db: Kysely<DB>,
    private readonly links: UserLinks,
    readonly outbox: EmailOutbox,
    readonly audit: AuditService,
    private readonly users: UserService,
    private readonly publicUrl: string,
  ) {}

  /** Queues a verification message for `user` within `executor` (then `outbox.wake()`); its id. */
  async queue(executor: Kysely<DB>, tenant: Tenant, user: Pick<UserRow, 'id' | 'email'>): Promise<string> {
    const hours = tenant.settings.email.verificationHours;
    const secret = await this.links.create(executor, {
      tenantId: tenant.id,
      userId: user.id,
      purpose: 'verify_email',
      email: user.email,
      lifetimeMs: hours * 3_600_000,
    });
    return this.outbox.queue(
      executor,
      tenant.id,
      renderEmail(tenant, 'verify_email', user.email, {
        link: verifyUrl(this.publicUrl, tenant.slug, secret),
        minutes: hours * 60,
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

  /**
   * Self-registration: a new email gets a `pending` account and a verification message in
   * one transaction; a taken one sends its owner a notice (or, if that account is still
   * pending, its verification message again). The same answer either way: nothing.
   */
  async register(
    tenant: Tenant,
    input: { email: string; displayName: string | null; password: string },
    actor: AuditActor,
  ): Promise<void> {
    const created = await this.users.register(tenant, input, actor, async (trx, row) => {
      await this.queue(trx, tenant, row);
    });
    if (!created) {
      const existing = await this.db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenant.id)
        .where('email', '=', normalizeEmail(input.email))
        .executeTakeFirst();
      if (existing && statusOf(existing) === 'pending') {
        await this.db.transaction().execute((trx) => this.queue(trx, tenant, existing));
      } else if (existing?.status === 'active') {
        await this.db
          .transaction()
          .execute((trx) => this.outbox.queue(trx, tenant.id, renderEmail(tenant, 'account_exists', existing.email)));
      }
    }
    this.outbox.wake();
  }

  /** The live verification link this secret opens in the tenant, with its user, or undefined. */
  async open(tenant: Tenant, secret: string): Promise<{ link: UserLinkRow; user: UserRow } | undefined> {
    // The address the link was sent to must still be the user's; a disabled user stays so.
    return this.links.open(tenant.id, 'verify_email', secret, (user) => statusOf(user) !== 'disabled');
  }

  /** Uses the link: the email verified, a pending account active; false when no longer live. */
  async verify(tenant: Tenant, secret: string, actor: AuditActor): Promise<boolean> {
    const opened = await this.open(tenant, secret);
    if (!opened) return false;
    const { link, user } = opened;
    return this.db.transaction().execute(async (trx) => {
      if (!(await this.links.consume(trx, link))) return false;
      const now = Date.now();
      const pending = statusOf(user) === 'pending';
      await trx
        .updateTable('users')
        .set((eb) => ({
          email_verified: 1,
          ...(pending ? { status: 'active' as const, pending_verification: 0 } : {}),
          updated_at: now,
          version: eb('version', '+', 1),
        }))
        .where('tenant_id', '=', tenant.id)
        .where('id', '=', user.id)
        .where('email', '=', link.email)
        // Not an account disabled meanwhile (an admin's choice ends the wait: users/service.ts).
        .where('pending_verification', '=', pending ? 1 : 0)
        .execute();
      await this.audit.record(
        trx,
        { ...actor, type: 'user', id: user.id },
        {
          tenantId: tenant.id,
          action: 'user.email.verify',
          target: { type: 'user', id: user.id },
          details: { email: link.email, activated: pending },
        },
      );
      return true;
    });
  }
}
