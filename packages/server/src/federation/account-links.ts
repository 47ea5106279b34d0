/**
 * The account page's ways to sign in (/t/{slug}/account, docs/federation.md): the password and
 * the user's identities at the tenant's providers, "link another way to sign in", "unlink".
 * - `POST /t/{slug}/account/identities/link` (the page's CSRF token; `provider`, a slug): a
 *   provider that is enabled, allows linking and has no identity of this user yet, and, since a
 *   borrowed browser must not add a way in that outlives the session, the current password
 *   (`password`), or for an account without one a re-authentication at one of its providers
 *   within REAUTH_SECONDS (account-session.ts): else it signs in again first (prompt=login,
 *   which such a provider is asked to honour and whose auth_time is checked). Then the browser
 *   leaves for the provider as a sign-in does, the flow's uid `account:{userId}` (flow-cookie.ts).
 * - `GET /t/{slug}/account/identities/finish`: where the provider's checked answer lands (its
 *   sealed cookie, for this user only): the identity is linked, or the page says why not (the
 *   identity is another account's). The upstream's email need not be the account's: the user
 *   proved both.
 * Unlinking is the account page's own form (account-page.ts, UserIdentities.unlink's rules).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountSessions } from '../accounts/account-session.js';
import { tenantForms, withQuery } from '../accounts/forms.js';
import { selfActor, selfService } from '../accounts/self-service.js';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import type { UserRow } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import type { Messages } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import type { Tenant } from '../tenants/service.js';
import type { FederatedAccounts } from './accounts.js';
import { accountFlowUid, type FlowCookies } from './flow-cookie.js';
import { canReauthenticate } from './relying-party.js';
import type { IdentityProvider } from './store.js';

/** Why the account page says a link did not happen (`?problem=`): a key of `account.problems`. */
export type LinkProblem = keyof Messages['account']['problems'];

/** The ways the user signs in, as the account page lists them. */
export interface SignInMethods {
  password: boolean;
  identities: { id: string; provider: string; email: string | null; linkedAt: string; canUnlink: boolean }[];
  /** The providers the user may link now: enabled, allowing links, not linked yet. */
  linkable: { slug: string; name: string }[];
}

export async function signInMethods(ctx: AppContext, tenant: Tenant, user: UserRow): Promise<SignInMethods> {
  const [identities, providers] = await Promise.all([
    ctx.identities.listForUser(tenant, user.id),
    ctx.identityProviders.list(tenant),
  ]);
  const byId = new Map(providers.map((p) => [p.id, p]));
  const password = user.password_hash !== null;
  // What else signs in: the password, or an identity at an enabled provider.
  const signsIn = identities.filter((i) => byId.get(i.providerId)?.enabled === true);
  const othersThan = (id: string) => password || signsIn.some((i) => i.id !== id);
  const linked = new Set(identities.map((i) => i.providerId));
  return {
    password,
    identities: identities.map((i) => ({
      id: i.id,
      provider: i.providerName,
      email: i.email,
      linkedAt: i.createdAt,
      canUnlink: othersThan(i.id) && byId.get(i.providerId)?.allowUnlink === true,
    })),
    linkable: providers
      .filter((p) => p.enabled && p.allowLink && !linked.has(p.id))
      .map((p) => ({ slug: p.slug, name: p.displayName })),
  };
}

type StartAt = (
  req: FastifyRequest,
  reply: FastifyReply,
  tenant: Tenant,
  locale: Locale,
  idp: IdentityProvider,
  uid: string,
) => Promise<unknown>;

/**
 * Whether the user can re-authenticate at one of its providers (an enabled one whose kind can
 * be asked to: relying-party.ts canReauthenticate): what an account without a password proves
 * itself with on the account page.
 */
export async function canReauthenticateUpstream(ctx: AppContext, tenant: Tenant, user: UserRow): Promise<boolean> {
  const [identities, providers] = await Promise.all([
    ctx.identities.listForUser(tenant, user.id),
    ctx.identityProviders.list(tenant),
  ]);
  const able = new Set(providers.filter((p) => p.enabled && canReauthenticate(p.kind)).map((p) => p.id));
  return identities.some((i) => able.has(i.providerId));
}

export function accountLinks(
  ctx: AppContext,
  deps: { cookies: FlowCookies; accounts: FederatedAccounts; startAt: StartAt },
) {
  const forms = tenantForms(ctx);
  const sessions = accountSessions(ctx);
  const self = selfService(ctx, ctx.hasher);
  const base = (tenant: Tenant) => `/t/${tenant.slug}/account`;
  const back = (
    reply: FastifyReply,
    tenant: Tenant,
    ui: Locale | undefined,
    query: { done?: string; problem?: LinkProblem },
  ) => forms.seeOther(reply, withQuery(base(tenant), { ...query, ui_locales: ui }));

  const linkable = async (tenant: Tenant, user: UserRow, slug: string) => {
    if (!/^[a-z0-9-]{1,40}$/.test(slug)) return undefined;
    const idp = await ctx.identityProviders.findBySlug(tenant, slug);
    if (!idp?.enabled || !idp.allowLink) return undefined;
    const mine = await ctx.identities.listForUser(tenant, user.id);
    return mine.some((i) => i.providerId === idp.id) ? undefined : idp;
  };

  return {
    register(app: FastifyInstance) {
      app.post('/t/:slug/account/identities/link', async (req, reply) => {
        const tenant = await forms.tenantOf(req, reply);
        if (!tenant) return;
        const { locale, ui } = forms.language(req, tenant);
        const visit = await sessions.current(req, tenant);
        if (!visit)
          return sessions.signIn(reply, tenant, withQuery(base(tenant), { ui_locales: ui }), { uiLocales: ui });
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (!forms.csrfOk(req, tenant, body.csrf)) return back(reply, tenant, ui, { problem: 'sessionExpired' });
        const idp = await linkable(tenant, visit.user, typeof body.provider === 'string' ? body.provider : '');
        if (!idp) return back(reply, tenant, ui, { problem: 'linkNotAllowed' });
        // A way in that outlives the session: the current password, or a re-authentication upstream.
        const password = typeof body.password === 'string' ? body.password.slice(0, 4096) : '';
        const proved = await self.proof(tenant, visit, password, selfActor(actorOf(req), visit.user));
        if (proved === 'wrong') return back(reply, tenant, ui, { problem: 'wrongPassword' });
        if (proved === 'stale') {
          if (!(await canReauthenticateUpstream(ctx, tenant, visit.user))) {
            return back(reply, tenant, ui, { problem: 'reauthUnsupported' });
          }
          return sessions.signIn(reply, tenant, withQuery(base(tenant), { done: 'signedInAgain', ui_locales: ui }), {
            uiLocales: ui,
            prompt: 'login',
            loginHint: visit.user.email,
          });
        }
        return deps.startAt(req, reply, tenant, locale, idp, accountFlowUid(visit.user.id));
      });

      app.get('/t/:slug/account/identities/finish', async (req, reply) => {
        const tenant = await forms.tenantOf(req, reply);
        if (!tenant) return;
        const { ui } = forms.language(req, tenant);
        const visit = await sessions.current(req, tenant);
        if (!visit)
          return sessions.signIn(reply, tenant, withQuery(base(tenant), { ui_locales: ui }), { uiLocales: ui });
        // Only the user who started it: the cookie names the flow `account:{userId}`.
        const user = deps.cookies.user(req, tenant.id, accountFlowUid(visit.user.id));
        deps.cookies.clearUser(reply, base(tenant));
        if (!user) return back(reply, tenant, ui, { problem: 'linkExpired' });
        const idp = await ctx.identityProviders.get(tenant, user.providerId).catch(() => undefined);
        if (!idp?.enabled || !idp.allowLink) return back(reply, tenant, ui, { problem: 'linkNotAllowed' });
        const actor = selfActor(actorOf(req), visit.user);
        const existing = await ctx.identities.find(tenant, idp.id, user.subject);
        if (existing?.userId === visit.user.id) return back(reply, tenant, ui, { done: 'identityLinked' });
        if (!existing) {
          const linked = await deps.accounts.link(tenant, idp, user, visit.user.id, actor).catch((err: unknown) => {
            // Linked meanwhile, by another request.
            if (err instanceof AppError && err.status === 409) return undefined;
            throw err;
          });
          if (linked) return back(reply, tenant, ui, { done: 'identityLinked' });
        }
        await ctx.audit.record(ctx.database.db, actor, {
          tenantId: tenant.id,
          action: 'user.identity.link',
          outcome: 'failure',
          target: { type: 'user', id: visit.user.id },
          details: { provider: idp.slug, reason: 'identity_linked' },
        });
        return back(reply, tenant, ui, { problem: 'identityTaken' });
      });
    },
  };
}
