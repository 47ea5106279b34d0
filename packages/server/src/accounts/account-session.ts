/**
 * How the account page (/t/{slug}/account) knows who is there: it is the tenant's built-in
 * first-party application `account` (clients/service.ts), so a visitor without its cookie is
 * sent to the tenant's own sign-in page through an authorization request (PKCE and a state,
 * both kept in a short cookie of this browser), and the code that comes back is redeemed here,
 * in the process, by the same rules as the token endpoint: this client's, to this redirect
 * URI, its PKCE verifier, not expired, consumed exactly once (oidc/adapter.ts).
 *
 * The page's own cookie (`lk_account`) names the user and the sign-in session (its uid) under
 * an HMAC, for at most 12 hours; it counts only while that session lives: signing out of the
 * tenant, ending the user's sessions (an admin, a password reset) or disabling the user ends
 * it too. Nothing stored redeems it: the server keeps nothing of it.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ACCOUNT_CLIENT_ID } from '../clients/service.js';
import type { AppContext } from '../context.js';
import type { UserRow } from '../db/schema.js';
import { readCookie, setCookie } from '../http/cookies.js';
import { sameText } from '../secret.js';
import { signInEnded } from '../sessions/service.js';
import type { Tenant } from '../tenants/service.js';
import { activeUser } from '../users/service.js';

const SESSION_COOKIE = 'lk_account';
const START_COOKIE = 'lk_account_start';
const SESSION_SECONDS = 12 * 3600;
const START_SECONDS = 600;

const REAUTH_COOKIE = 'lk_reauth';

/**
 * How long an account without a password counts as having proved itself after signing in
 * again through a provider that re-authenticated the user upstream (prompt=login, max_age=0,
 * and its ID token's auth_time checked): what stands in for the current password there.
 */
export const REAUTH_SECONDS = 300;

export interface AccountVisit {
  user: UserRow;
  /** The uid of the sign-in session it belongs to. */
  sessionUid: string;
  /**
   * Whether this browser re-authenticated as this user upstream within REAUTH_SECONDS (the
   * `lk_reauth` cookie): a sign-in time alone is no proof, since a provider's live session
   * signs in again without any credential.
   */
  reauthenticated: boolean;
}

export function accountSessions(ctx: AppContext) {
  const key = ctx.secrets.derive('account-session/v1');
  const mac = (tenant: Tenant, text: string) =>
    createHmac('sha256', key).update(`${tenant.id}:${text}`).digest('base64url');
  const base = (tenant: Tenant) => `/t/${tenant.slug}/account`;
  const callbackUri = (tenant: Tenant) => `${ctx.config.publicUrl}${base(tenant)}/callback`;
  // On the tenant's path: the ticket page (/t/{slug}/tickets/…) reads them too.
  const cookie = (reply: FastifyReply, tenant: Tenant, name: string, value: string, maxAge: number) =>
    setCookie(reply, name, value, { path: `/t/${tenant.slug}`, maxAge, publicUrl: ctx.config.publicUrl });

  return {
    /**
     * Sends the browser to sign in for the account page, coming back to `returnTo` (a path of
     * this tenant's account pages or ticket page; anything else comes back to the page).
     * `uiLocales` is passed on to the sign-in page.
     */
    signIn(
      reply: FastifyReply,
      tenant: Tenant,
      returnTo?: string,
      options: { uiLocales?: string | undefined; prompt?: 'login'; loginHint?: string | undefined } = {},
    ) {
      const { uiLocales } = options;
      const state = randomBytes(16).toString('base64url');
      const verifier = randomBytes(32).toString('base64url');
      const back = returnTo && isTenantPagePath(tenant, returnTo) ? returnTo : base(tenant);
      cookie(
        reply,
        tenant,
        START_COOKIE,
        `${state}.${verifier}.${Buffer.from(back).toString('base64url')}`,
        START_SECONDS,
      );
      const params = new URLSearchParams({
        client_id: ACCOUNT_CLIENT_ID,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: callbackUri(tenant),
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      });
      if (uiLocales && /^[A-Za-z0-9 -]{1,64}$/.test(uiLocales)) params.set('ui_locales', uiLocales);
      if (options.prompt) params.set('prompt', options.prompt);
      if (options.loginHint) params.set('login_hint', options.loginHint.slice(0, 320));
      return reply.code(303).header('cache-control', 'no-store').redirect(`/t/${tenant.slug}/auth?${params}`, 303);
    },

    /**
     * The authorization response: the code redeemed, the page's cookie set. Returns where to
     * go, or undefined when the answer is not this browser's sign-in (or not a valid one).
     */
    async callback(req: FastifyRequest, reply: FastifyReply, tenant: Tenant): Promise<string | undefined> {
      const query = req.query as { code?: unknown; state?: unknown };
      const [state, verifier, back] = (readCookie(req, START_COOKIE) ?? '').split('.');
      cookie(reply, tenant, START_COOKIE, '', 0);
      if (!state || !verifier || !back || !sameText(state, query.state) || typeof query.code !== 'string') {
        return undefined;
      }
      if (query.code.length > 200) return undefined;
      const provider = await ctx.providers.get(tenant);
      const code = await provider.AuthorizationCode.find(query.code);
      if (
        !code?.isValid ||
        code.clientId !== ACCOUNT_CLIENT_ID ||
        code.redirectUri !== callbackUri(tenant) ||
        code.codeChallengeMethod !== 'S256' ||
        !sameText(createHash('sha256').update(verifier).digest('base64url'), code.codeChallenge) ||
        !code.accountId ||
        !code.sessionUid
      ) {
        return undefined;
      }
      try {
        await code.consume();
      } catch {
        return undefined; // used already: the adapter revoked its grant
      }
      const until = Math.floor(Date.now() / 1000) + SESSION_SECONDS;
      const text = `${code.accountId}.${code.sessionUid}.${until}`;
      cookie(reply, tenant, SESSION_COOKIE, `${text}.${mac(tenant, text)}`, SESSION_SECONDS);
      const path = Buffer.from(back, 'base64url').toString('utf8');
      return isTenantPagePath(tenant, path) ? path : base(tenant);
    },

    /** Who is on the page: the user of a live session of this tenant, active, or undefined. */
    async current(req: FastifyRequest, tenant: Tenant): Promise<AccountVisit | undefined> {
      const [userId, sessionUid, until, given] = (readCookie(req, SESSION_COOKIE) ?? '').split('.');
      if (!userId || !sessionUid || !until || !/^[0-9]{1,12}$/.test(until)) return undefined;
      if (Number(until) < Date.now() / 1000) return undefined;
      if (!sameText(mac(tenant, `${userId}.${sessionUid}.${until}`), given)) return undefined;
      const provider = await ctx.providers.get(tenant);
      const session = await provider.Session.findByUid(sessionUid);
      if (!session || session.accountId !== userId) return undefined;
      const user = await activeUser(ctx.database.db, tenant.id, userId);
      if (!user) return undefined;
      // Sessions ended since (save the one kept) count for nothing, as in findAccount.
      if (signInEnded(user, session.loginTs ?? 0, sessionUid)) return undefined;
      const [who, at, proof] = (readCookie(req, REAUTH_COOKIE) ?? '').split('.');
      const reauthenticated =
        who === user.id &&
        !!at &&
        /^[0-9]{1,12}$/.test(at) &&
        Number(at) + REAUTH_SECONDS >= Date.now() / 1000 &&
        sameText(mac(tenant, `reauth.${who}.${at}`), proof);
      return { user, sessionUid, reauthenticated };
    },

    /**
     * Marks this browser as having re-authenticated as `userId` upstream just now (federated
     * sign-in, when the provider was made to and its auth_time says so), for REAUTH_SECONDS.
     */
    markReauthenticated(reply: FastifyReply, tenant: Tenant, userId: string) {
      const at = String(Math.floor(Date.now() / 1000));
      cookie(reply, tenant, REAUTH_COOKIE, `${userId}.${at}.${mac(tenant, `reauth.${userId}.${at}`)}`, REAUTH_SECONDS);
    },

    /** Forgets the page's cookie (signing out goes on at the tenant's end-session endpoint). */
    forget(reply: FastifyReply, tenant: Tenant) {
      cookie(reply, tenant, SESSION_COOKIE, '', 0);
    },
  };
}

export type AccountSessions = ReturnType<typeof accountSessions>;

/** A path of this tenant's account pages or ticket page, without a scheme or host. */
export function isTenantPagePath(tenant: Tenant, path: string): boolean {
  const prefix = `/t/${tenant.slug}/`;
  return (
    (path.startsWith(`${prefix}account`) || path.startsWith(`${prefix}tickets/`)) &&
    /^\/[A-Za-z0-9/_.~?=&%-]*$/.test(path) &&
    !path.includes('//') &&
    !path.includes('/..')
  );
}
