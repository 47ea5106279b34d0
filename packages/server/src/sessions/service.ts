/**
 * A user's sign-in sessions (oidc-provider `Session` artifacts) and everything issued from
 * them. Ending a user's sessions also deletes their grants, refresh tokens, stored access
 * tokens and pending codes, so nothing issued earlier can be refreshed or redeemed.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB, UserRow } from '../db/schema.js';

export const sessionSchema = z
  .object({
    id: z.string(),
    signedInAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    clients: z.array(z.string()).describe('client_ids the session has signed in to'),
  })
  .meta({ id: 'Session' });

export async function listSessions(db: Kysely<DB>, tenantId: string, userId: string) {
  const rows = await db
    .selectFrom('oidc_payloads')
    .select(['id', 'payload', 'expires_at'])
    .where('tenant_id', '=', tenantId)
    .where('account_id', '=', userId)
    .where('model', '=', 'Session')
    .where('expires_at', '>', Date.now())
    .orderBy('expires_at', 'desc')
    .execute();
  return rows.map((r) => {
    const p = JSON.parse(r.payload) as { uid?: string; loginTs?: number; authorizations?: Record<string, unknown> };
    return {
      id: p.uid ?? r.id,
      signedInAt: p.loginTs ? new Date(p.loginTs * 1000).toISOString() : null,
      expiresAt: r.expires_at ? new Date(r.expires_at).toISOString() : null,
      clients: Object.keys(p.authorizations ?? {}),
    };
  });
}

/**
 * Ends every session of a user and revokes what was issued to them, and ends their pending
 * email changes. Returns the count of sessions ended. `keep`: the uid of one session of
 * theirs that stays, with what its grants issued (signing out everywhere else, from the
 * account page; `signInEnded` is the rule).
 */
export async function endUserSessions(
  executor: Kysely<DB>,
  tenantId: string,
  userId: string,
  keep?: string,
): Promise<number> {
  const kept = keep ? await keptGrants(executor, tenantId, userId, keep) : undefined;
  // Remembered on the user too: a request under way may still save back a session it loaded.
  const now = Date.now();
  await executor
    .updateTable('users')
    .set({ sessions_ended_at: now, sessions_kept_uid: kept && keep ? keptMark(now, keep) : null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', userId)
    .execute();
  // An email change asked for in a session now ended waits no more: one asked for by whoever
  // held a session (or the password) the owner is now taking back would move the account away.
  await executor
    .updateTable('user_links')
    .set({ used_at: Date.now() })
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('purpose', '=', 'change_email')
    .where('used_at', 'is', null)
    .execute();
  let sessions = executor
    .selectFrom('oidc_payloads')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('tenant_id', '=', tenantId)
    .where('account_id', '=', userId)
    .where('model', '=', 'Session');
  if (kept) sessions = sessions.where('uid', '<>', keep as string);
  const counted = await sessions.executeTakeFirstOrThrow();
  await executor
    .deleteFrom('oidc_payloads')
    .where('tenant_id', '=', tenantId)
    .where((eb) => {
      const issued = eb.or([
        eb('account_id', '=', userId),
        eb(
          'grant_id',
          'in',
          eb
            .selectFrom('oidc_payloads as g')
            .select('g.id')
            .where('g.tenant_id', '=', tenantId)
            .where('g.model', '=', 'Grant')
            .where('g.account_id', '=', userId),
        ),
      ]);
      if (!kept) return issued;
      const keptRows = [eb.and([eb('model', '=', 'Session'), eb('uid', '=', keep as string)])];
      // A grant's own row holds its id as grant_id too (oidc/adapter.ts). Not null first: a
      // NULL `in` is unknown, and NOT unknown would keep every row without a grant.
      if (kept.length > 0) keptRows.push(eb.and([eb('grant_id', 'is not', null), eb('grant_id', 'in', kept)]));
      return eb.and([issued, eb.not(eb.or(keptRows))]);
    })
    .execute();
  return Number(counted.n);
}

/** The grants the session `uid` of the user holds, or undefined when it is not theirs. */
async function keptGrants(executor: Kysely<DB>, tenantId: string, userId: string, uid: string) {
  const row = await executor
    .selectFrom('oidc_payloads')
    .select('payload')
    .where('tenant_id', '=', tenantId)
    .where('model', '=', 'Session')
    .where('uid', '=', uid)
    .where('account_id', '=', userId)
    .executeTakeFirst();
  if (!row) return undefined;
  const p = JSON.parse(row.payload) as { loginTs?: number; authorizations?: Record<string, { grantId?: string }> };
  // A session ended before (and saved back by a request under way) is not one to keep.
  const user = await executor
    .selectFrom('users')
    .select(['sessions_ended_at', 'sessions_kept_uid'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (user && signInEnded(user, p.loginTs ?? 0, uid)) return undefined;
  return Object.values(p.authorizations ?? {})
    .map((a) => a.grantId)
    .filter((g): g is string => typeof g === 'string');
}

/** What `users.sessions_kept_uid` holds: the session kept, bound to the end (ms) it survived. */
const keptMark = (endedAt: number, uid: string) => `${endedAt}:${uid}`;

/**
 * Whether a sign-in at `signedInAt` (seconds, oidc-provider's unit) in the session `sessionUid`
 * was ended since: it began before the user's sessions were last ended, and is not the one
 * session kept at that very end. The mark names the end it belongs to, so a later end that kept
 * nothing (an admin's, a reset, or a node of the version before, which knows no mark) ends it
 * too. The one rule of findAccount (tokens and browser sessions) and the account page.
 */
export function signInEnded(
  user: Pick<UserRow, 'sessions_ended_at' | 'sessions_kept_uid'>,
  signedInAt: number | undefined,
  sessionUid: string | undefined,
): boolean {
  if (user.sessions_ended_at === null || signedInAt === undefined) return false;
  if (signedInAt >= Math.floor(user.sessions_ended_at / 1000)) return false;
  return sessionUid === undefined || user.sessions_kept_uid !== keptMark(user.sessions_ended_at, sessionUid);
}
