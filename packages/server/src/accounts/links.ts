/**
 * The links a user is sent (password reset; email verification next): a secret of 32 random
 * bytes in the URL, of which only the SHA-256 is stored, bound to the tenant, the user, the
 * purpose and the address it was sent to; single use (consumed by one statement that only
 * one request can match) and expiring. A new link of a purpose ends the user's others.
 */
import { createHmac, hash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditActor, AuditService } from '../audit/service.js';
import type { DB, UserLinkRow, UserRow } from '../db/schema.js';
import type { EmailOutbox } from '../email/outbox.js';
import { notFound } from '../http/errors.js';
import { newId } from '../ids.js';
import type { Tenant } from '../tenants/service.js';

export type LinkPurpose = UserLinkRow['purpose'];

/** A link secret's syntax: 32 bytes in base64url. Anything else is not looked up. */
const secretPattern = /^[A-Za-z0-9_-]{43}$/;

const digest = (secret: string) => hash('sha256', secret, 'hex');

/** A link's code: six digits. */
const codePattern = /^[0-9]{6}$/;
/** Wrong codes a link takes before it is no longer usable by code (its link still works). */
export const MAX_CODE_FAILURES = 5;

export class UserLinks {
  /** `codeKey`: the key of the codes' HMAC (from the instance secret). */
  constructor(
    private readonly db: Kysely<DB>,
    private readonly codeKey: Buffer,
  ) {}

  private codeDigest(linkId: string, code: string) {
    return createHmac('sha256', this.codeKey).update(`${linkId}:${code}`).digest('hex');
  }

  /**
   * A new link within `executor` (its secret, and with `withCode` a 6-digit code, shown only
   * in the message); the user's other links of the purpose end.
   */
  async create(
    executor: Kysely<DB>,
    link: { tenantId: string; userId: string; purpose: LinkPurpose; email: string; lifetimeMs: number },
    withCode = false,
  ): Promise<{ secret: string; code?: string }> {
    const now = Date.now();
    await this.endAll(executor, link.tenantId, link.userId, link.purpose, now);
    const secret = randomBytes(32).toString('base64url');
    const id = newId('userLink');
    const code = withCode ? String(randomInt(0, 1_000_000)).padStart(6, '0') : undefined;
    await executor
      .insertInto('user_links')
      .values({
        id,
        tenant_id: link.tenantId,
        user_id: link.userId,
        purpose: link.purpose,
        email: link.email,
        secret_hash: digest(secret),
        created_at: now,
        expires_at: now + link.lifetimeMs,
        used_at: null,
        code_hash: code ? this.codeDigest(id, code) : null,
      })
      .execute();
    return code ? { secret, code } : { secret };
  }

  /**
   * The live link of the tenant and purpose sent to `email` whose code this is, without using
   * it. A wrong code counts against the link: after MAX_CODE_FAILURES it takes no code.
   */
  async findByCode(
    tenantId: string,
    purpose: LinkPurpose,
    email: string,
    code: string,
  ): Promise<UserLinkRow | undefined> {
    const link = await this.db
      .selectFrom('user_links')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('email', '=', email)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', Date.now())
      .where('code_hash', 'is not', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (!link?.code_hash || link.code_failures >= MAX_CODE_FAILURES) return undefined;
    const given = Buffer.from(this.codeDigest(link.id, codePattern.test(code) ? code : ''));
    if (codePattern.test(code) && timingSafeEqual(given, Buffer.from(link.code_hash))) return link;
    await this.db
      .updateTable('user_links')
      .set((eb) => ({ code_failures: eb('code_failures', '+', 1) }))
      .where('id', '=', link.id)
      .execute();
    return undefined;
  }

  /** The live link of the tenant and purpose whose secret this is, without using it. */
  async find(tenantId: string, purpose: LinkPurpose, secret: string): Promise<UserLinkRow | undefined> {
    if (!secretPattern.test(secret)) return undefined;
    return this.db
      .selectFrom('user_links')
      .selectAll()
      .where('secret_hash', '=', digest(secret))
      .where('tenant_id', '=', tenantId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', Date.now())
      .executeTakeFirst();
  }

  /**
   * The live link of the purpose whose secret this is (or `{email, code}`: whose code), with
   * its user, while the address it was sent to is still the user's and `usable` accepts the
   * user; else undefined.
   */
  async open(
    tenantId: string,
    purpose: LinkPurpose,
    secret: string | { email: string; code: string },
    usable: (user: UserRow) => boolean,
  ): Promise<{ link: UserLinkRow; user: UserRow } | undefined> {
    const link =
      typeof secret === 'string'
        ? await this.find(tenantId, purpose, secret)
        : await this.findByCode(tenantId, purpose, secret.email, secret.code);
    if (!link) return undefined;
    const user = await this.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', link.user_id)
      .executeTakeFirst();
    // The address it was sent to must still be the user's (a new one's: not taken meanwhile).
    const sentTo = link.purpose === 'change_email' ? link.email !== user?.email : user?.email === link.email;
    if (!user || !usable(user) || !sentTo) return undefined;
    return { link, user };
  }

  /** Uses the link within `executor`: true for exactly one caller, while it is live. */
  async consume(executor: Kysely<DB>, link: UserLinkRow): Promise<boolean> {
    const now = Date.now();
    const res = await executor
      .updateTable('user_links')
      .set({ used_at: now })
      .where('id', '=', link.id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** Ends every live link of the user's of this purpose. */
  async endAll(executor: Kysely<DB>, tenantId: string, userId: string, purpose: LinkPurpose, now = Date.now()) {
    await executor
      .updateTable('user_links')
      .set({ used_at: now })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .execute();
  }
}

/** The tenant's user `id`, or 404 `user_not_found`. */
export async function userOf(executor: Kysely<DB>, tenant: Tenant, id: string): Promise<UserRow> {
  const user = await executor
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!user) throw notFound('user_not_found', `No user ${id} in tenant "${tenant.slug}"`);
  return user;
}

/**
 * A link's message sent as one audited change: in one transaction `queue` (which makes the
 * link and queues its message, giving the message's id) and the audit event `action` on the
 * user naming it; the sender is woken after the commit. The message's id.
 */
export async function sendAudited(
  deps: { db: Kysely<DB>; outbox: EmailOutbox; audit: AuditService },
  actor: AuditActor,
  event: { tenantId: string; action: string; userId: string },
  queue: (trx: Kysely<DB>) => Promise<string>,
): Promise<string> {
  const emailId = await deps.db.transaction().execute(async (trx) => {
    const id = await queue(trx);
    await deps.audit.record(trx, actor, {
      tenantId: event.tenantId,
      action: event.action,
      target: { type: 'user', id: event.userId },
      details: { emailId: id },
    });
    return id;
  });
  deps.outbox.wake();
  return emailId;
}
