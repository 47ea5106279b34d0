/**
 * The links a user is sent (password reset; email verification next): a secret of 32 random
 * bytes in the URL, of which only the SHA-256 is stored, bound to the tenant, the user, the
 * purpose and the address it was sent to; single use (consumed by one statement that only
 * one request can match) and expiring. A new link of a purpose ends the user's others.
 */
import { hash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, UserLinkRow } from '../db/schema.js';
import { newId } from '../ids.js';

export type LinkPurpose = UserLinkRow['purpose'];

/** A link secret's syntax: 32 bytes in base64url. Anything else is not looked up. */
const secretPattern = /^[A-Za-z0-9_-]{43}$/;

const digest = (secret: string) => hash('sha256', secret, 'hex');

export class UserLinks {
  constructor(private readonly db: Kysely<DB>) {}

  /** A new link (its secret, shown only in the message) within `executor`; the user's other links of the purpose end. */
  async create(
    executor: Kysely<DB>,
    link: { tenantId: string; userId: string; purpose: LinkPurpose; email: string; lifetimeMs: number },
  ): Promise<string> {
    const now = Date.now();
    await this.endAll(executor, link.tenantId, link.userId, link.purpose, now);
    const secret = randomBytes(32).toString('base64url');
    await executor
      .insertInto('user_links')
      .values({
        id: newId('userLink'),
        tenant_id: link.tenantId,
        user_id: link.userId,
        purpose: link.purpose,
        email: link.email,
        secret_hash: digest(secret),
        created_at: now,
        expires_at: now + link.lifetimeMs,
        used_at: null,
      })
      .execute();
    return secret;
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
