/**
 * Federated sign-in: the routes between the sign-in page, the upstream identity provider and
 * the end of the interaction (docs/federation.md).
 * - `GET /t/{slug}/interaction/{uid}/federated/{idp}`: the provider's button (or home-realm
 *   discovery) → 303 to the upstream's authorization endpoint, with the flow's sealed cookie.
 * - `GET|POST /t/{slug}/federation/{idp}/callback`: the redirect URI registered upstream. The
 *   answer is checked (state, PKCE, ID token) and whom it vouches for goes, sealed, to the
 *   interaction's pages, whose cookie binds it to the interaction.
 * - `GET /t/{slug}/interaction/{uid}/federation`: signs in, or offers linking or a new account
 *   (federation/accounts.ts has the rules); `POST …/federation/link` and `…/federation/create`.
 * - The account page's "link another way to sign in" starts and ends here too (account-links.ts).
 * Every failure of the upstream's (denied, wrong state, expired, a bad token) is a 400 page.
 * `github` and `facebook` providers go through kinds/oauth2-sign-in.ts (OAuth 2 and a profile
 * API), every other kind but `saml` through relying-party.ts (OpenID Connect). A `saml`
 * provider's start and its ACS URL are in saml/routes.ts; its Response ends on the same
 * interaction pages.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { accountSessions } from '../accounts/account-session.js';
import { deviceOf } from '../accounts/device.js';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { AppError } from '../http/errors.js';
import type { Messages } from '../i18n/catalog.js';
import { messagesFor } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import { type InteractionHelpers, type LoadedInteraction, localeOf } from '../login/interaction.js';
import type { ProviderButton } from '../login/pages.js';
import type { FederatedSignInOutcome } from '../metrics/labels.js';
import { tenantNotFound } from '../oidc/routes.js';
import { slugSchema, type Tenant } from '../tenants/service.js';
import { accountLinks } from './account-links.js';
import { FederatedAccounts } from './accounts.js';
import { callbackPath, FlowCookies, type FlowUser, flowReturn } from './flow-cookie.js';
import { withAppleName } from './kinds/apple-sign-in.js';
import { OAuth2RelyingParties } from './kinds/oauth2-sign-in.js';
import { isOAuth2Kind } from './kinds/settings.js';
import { outboundFetch, outboundPolicyOf } from './outbound.js';
import { choosePage, linkPage } from './pages.js';
import { authenticatedSince, canReauthenticate, RelyingParties, UpstreamUnavailable } from './relying-party.js';
import { samlSignIn } from './saml/routes.js';
import type { IdentityProvider } from './store.js';

type Problem = keyof Messages['federation'];

export type FederatedSignIn = ReturnType<typeof federatedSignIn>;

export function federatedSignIn(ctx: AppContext, h: InteractionHelpers) {
  // The provider's endpoints are an admin's choice: only public addresses (federation/outbound.ts).
  const outbound = outboundFetch(outboundPolicyOf(ctx.config));
  const rp = new RelyingParties(ctx.config.federation.allowHttpIssuers, outbound);
  const oauth2 = new OAuth2RelyingParties(ctx.config.federation.allowHttpIssuers, outbound);
  const upstreamOf = (idp: IdentityProvider) => (isOAuth2Kind(idp.kind) ? oauth2 : rp);
  const cookies = new FlowCookies(ctx.secrets, ctx.config.publicUrl);
  const accounts = new FederatedAccounts(ctx);
  const accountVisits = accountSessions(ctx);
  const saml = samlSignIn(ctx, h, cookies);

  const problem = (reply: FastifyReply, tenant: Tenant | undefined, locale: Locale, code: Problem, status = 400) => {
    const text = messagesFor(locale).federation[code];
    return h.page(reply, status, ctx.pages.error(tenant, locale, code, typeof text === 'string' ? text : ''));
  };

  const enabledBySlug = async (tenant: Tenant, slug: string) => {
    const idp = /^[a-z0-9-]{1,40}$/.test(slug) ? await ctx.identityProviders.findBySlug(tenant, slug) : undefined;
    return idp?.enabled ? idp : undefined;
  };

  const secretsOf = (tenant: Tenant, idp: IdentityProvider) => () => ctx.identityProviders.secrets(tenant, idp.id);

  /** What the upstream's claims say, by the provider's claim mapping; upstream roles only those it maps. */
  function flowUser(
    tenant: Tenant,
    idp: IdentityProvider,
    uid: string,
    subject: string,
    claims: Record<string, unknown>,
  ) {
    const text = (name: string) => {
      const v = claims[name];
      return typeof v === 'string' && v.length > 0 ? v : null;
    };
    const verified = claims[idp.claims.emailVerified];
    const mapped = new Set(idp.roleMappings.map((m) => m.upstream));
    const upstreamRoles = idp.claims.roles === null ? null : claims[idp.claims.roles];
    const user: FlowUser = {
      tenantId: tenant.id,
      providerId: idp.id,
      uid,
      subject,
      email: text(idp.claims.email)?.slice(0, 320) ?? null,
      emailVerified: verified === true || verified === 'true',
      name: text(idp.claims.name),
      roles:
        idp.claims.roles === null
          ? null
          : (Array.isArray(upstreamRoles) ? upstreamRoles : []).filter(
              (r): r is string => typeof r === 'string' && mapped.has(r),
            ),
    };
    return user;
  }

  /** The upstream user of this interaction and its provider, or the page that says it expired. */
  async function flowOf(req: FastifyRequest, reply: FastifyReply, loaded: LoadedInteraction) {
    const { tenant, details, locale } = loaded;
    const user = details.prompt.name === 'login' ? cookies.user(req, tenant.id, details.uid) : undefined;
    const idp = user ? await ctx.identityProviders.get(tenant, user.providerId).catch(() => undefined) : undefined;
    if (!user || !idp?.enabled) {
      problem(reply, tenant, locale, 'expired');
      return undefined;
    }
    return { user, idp };
  }

  /** Ends the interaction signed in as `signIn.userId`, or the page that says the account cannot. */
  async function signInAs(
    req: FastifyRequest,
    reply: FastifyReply,
    loaded: LoadedInteraction,
    flow: { user: FlowUser; idp: IdentityProvider },
    signIn: { userId: string; identityId: string; linked?: string },
  ) {
    const { tenant, provider, details, base, locale } = loaded;
    const ok = await accounts.complete(tenant, flow.idp, flow.user, signIn, actorOf(req));
    ctx.metrics?.federatedSignIn(flow.idp.kind, ok ? 'success' : 'refused');
    if (!ok) return problem(reply, tenant, locale, 'disabled');
    cookies.clearUser(reply, base);
    // What stands in for a password on the account page of an account without one.
    if (flow.user.reauthenticated) accountVisits.markReauthenticated(reply, tenant, signIn.userId);
    return h.finish(reply, tenant, details, await h.loginResult(provider, tenant, details, signIn.userId, 'fed'));
  }

  function pages(loaded: LoadedInteraction, flow: { user: FlowUser; idp: IdentityProvider }) {
    const { tenant, details, base, locale } = loaded;
    const common = { csrf: h.csrfFor(tenant, details.uid), provider: flow.idp.displayName, abortUrl: `${base}/abort` };
    return {
      link: (email: string, error?: string) =>
        linkPage(tenant, locale, { ...common, action: `${base}/federation/link`, email, error }),
      choose: (canCreate: boolean, canLink: boolean, error?: string) =>
        choosePage(tenant, locale, {
          ...common,
          email: flow.user.email,
          createAction: canCreate ? `${base}/federation/create` : undefined,
          linkAction: canLink ? `${base}/federation/link` : undefined,
          error,
        }),
    };
  }

  /**
   * The browser leaves for the provider: 303 to its authorization endpoint (or a saml
   * provider's SSO URL) with the flow's sealed cookie; `uid` says where its answer goes
   * (flowReturn). `reauthenticate` (an interaction with prompt=login or max_age=0): the
   * provider is asked to authenticate the user afresh, where its kind can be.
   */
  async function startAt(
    req: FastifyRequest,
    reply: FastifyReply,
    tenant: Tenant,
    locale: Locale,
    idp: IdentityProvider,
    uid: string,
    options: { loginHint?: string | undefined; reauthenticate?: boolean } = {},
  ) {
    if (idp.kind === 'saml') return saml.start(req, reply, tenant, locale, idp, uid);
    const reauthenticate = options.reauthenticate === true && canReauthenticate(idp.kind);
    const checks = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
    };
    let url: URL;
    try {
      const config = await upstreamOf(idp).configuration(idp, secretsOf(tenant, idp));
      url = await upstreamOf(idp).authorizationUrl(config, idp, {
        redirectUri: `${ctx.config.publicUrl}${callbackPath(tenant.slug, idp.slug)}`,
        checks,
        loginHint: options.loginHint?.slice(0, 320),
        reauthenticate,
      });
    } catch (err) {
      req.log.warn({ err, provider: idp.slug }, 'identity provider unavailable');
      return problem(reply, tenant, locale, 'unavailable');
    }
    cookies.setStart(
      reply,
      tenant.slug,
      idp.slug,
      {
        tenantId: tenant.id,
        providerId: idp.id,
        uid,
        state: checks.state,
        nonce: checks.nonce,
        verifier: checks.pkceCodeVerifier,
        ...(reauthenticate ? { reauthenticateAt: Math.floor(Date.now() / 1000) } : {}),
      },
      idp.kind === 'apple',
    );
    return reply.code(303).header('cache-control', 'no-store').redirect(url.href, 303);
  }

  function register(app: FastifyInstance) {
    saml.register(app);
    accountLinks(ctx, { cookies, accounts, startAt }).register(app);
    app.get('/t/:slug/interaction/:uid/federated/:idp', async (req, reply) => {
      const loaded = await h.load(req, reply);
      if (!loaded) return reply;
      const { tenant, details, locale } = loaded;
      const idpSlug = (req.params as { idp: string }).idp;
      if (details.prompt.name !== 'login') return reply.redirect(loaded.base, 303);
      const idp = await enabledBySlug(tenant, idpSlug);
      if (!idp) return problem(reply, tenant, locale, 'notFound', 404);
      const loginHint = (req.query as { login_hint?: unknown }).login_hint;
      const { prompt, max_age: maxAge } = details.params as { prompt?: unknown; max_age?: unknown };
      return startAt(req, reply, tenant, locale, idp, details.uid, {
        loginHint: typeof loginHint === 'string' ? loginHint : undefined,
        reauthenticate:
          String(prompt ?? '')
            .split(' ')
            .includes('login') || String(maxAge) === '0',
      });
    });

    const callback = async (req: FastifyRequest, reply: FastifyReply) => {
      const { slug, idp: idpSlug } = req.params as { slug: string; idp: string };
      const tenant = slugSchema.safeParse(slug).success ? await ctx.tenants.findBySlug(slug) : undefined;
      if (!tenant) return tenantNotFound(reply, slug);
      const locale = localeOf(req, tenant);
      const idp = await enabledBySlug(tenant, idpSlug);
      if (!idp) return problem(reply, tenant, locale, 'notFound', 404);
      // Read once: a second callback in this browser finds no cookie (and the code is used).
      const start = cookies.takeStart(req, reply, tenant.slug, idp.slug);
      if (start?.tenantId !== tenant.id || start.providerId !== idp.id) {
        ctx.metrics?.federatedSignIn(idp.kind, 'expired');
        return problem(reply, tenant, locale, 'expired');
      }
      const here = new URL(`${ctx.config.publicUrl}${callbackPath(tenant.slug, idp.slug)}`);
      const query = req.url.indexOf('?');
      if (query >= 0) here.search = req.url.slice(query);
      const answer =
        req.method === 'POST'
          ? new Request(here, {
              method: 'POST',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
              body: new URLSearchParams(req.body as Record<string, string>).toString(),
            })
          : here;
      let upstream: Awaited<ReturnType<RelyingParties['redeem']>>;
      try {
        const config = await upstreamOf(idp).configuration(idp, secretsOf(tenant, idp));
        upstream = await upstreamOf(idp).redeem(idp, config, secretsOf(tenant, idp), answer, {
          state: start.state,
          nonce: start.nonce,
          pkceCodeVerifier: start.verifier,
        });
      } catch (err) {
        const code = refusal(err);
        ctx.metrics?.federatedSignIn(idp.kind, code);
        req.log.info({ err, provider: idp.slug }, 'federated sign-in refused');
        await ctx.audit.record(ctx.database.db, actorOf(req), {
          tenantId: tenant.id,
          action: 'user.sign_in.federated',
          outcome: 'failure',
          details: { provider: idp.slug, reason: code },
        });
        return problem(reply, tenant, locale, code);
      }
      const { base, next } = flowReturn(tenant.slug, start.uid);
      const claims = withAppleName(idp, upstream.claims, req.method === 'POST' ? req.body : undefined);
      const user = flowUser(tenant, idp, start.uid, upstream.subject, claims);
      // Asked to authenticate afresh, and its auth_time says it did: a re-authentication.
      if (start.reauthenticateAt !== undefined && authenticatedSince(upstream.claims, start.reauthenticateAt)) {
        user.reauthenticated = true;
      }
      cookies.setUser(reply, base, user);
      return reply.code(303).header('cache-control', 'no-store').redirect(next, 303);
    };
    app.get('/t/:slug/federation/:idp/callback', callback);
    app.post('/t/:slug/federation/:idp/callback', callback);

    app.get('/t/:slug/interaction/:uid/federation', async (req, reply) => {
      const loaded = await h.load(req, reply);
      if (!loaded) return reply;
      const flow = await flowOf(req, reply, loaded);
      if (!flow) return reply;
      const { tenant, locale } = loaded;
      const found = await accounts.resolve(tenant, flow.idp, flow.user, actorOf(req));
      switch (found.kind) {
        case 'sign_in':
          return signInAs(req, reply, loaded, flow, found);
        case 'prove':
          return h.page(reply, 200, pages(loaded, flow).link(found.email));
        case 'choose':
          return h.page(reply, 200, pages(loaded, flow).choose(found.canCreate, found.canLink));
        case 'refuse':
          return problem(reply, tenant, locale, found.reason);
      }
    });

    app.post('/t/:slug/interaction/:uid/federation/link', async (req, reply) => {
      const loaded = await h.load(req, reply);
      if (!loaded) return reply;
      const { tenant, details, locale, m } = loaded;
      const body = (req.body ?? {}) as Record<string, string | undefined>;
      if (!h.csrfOk(tenant, details.uid, body.csrf)) return problem(reply, tenant, locale, 'expired');
      const flow = await flowOf(req, reply, loaded);
      if (!flow) return reply;
      if (!flow.idp.allowLink) return problem(reply, tenant, locale, 'accountExists');
      const email = String(body.email ?? '').slice(0, 320);
      // The one password check of the sign-in form: the same lockout, hash queue and audit.
      const proved = await ctx.signIn.signIn(
        tenant,
        email,
        String(body.password ?? '').slice(0, 4096),
        actorOf(req),
        undefined,
        {
          device: deviceOf(req.headers['user-agent']),
        },
      );
      if (!proved.ok) {
        const found = await accounts.resolve(tenant, flow.idp, flow.user, actorOf(req));
        const view = pages(loaded, flow);
        const page =
          found.kind === 'prove'
            ? view.link(found.email, m.federation.wrongPassword)
            : view.choose(found.kind === 'choose' && found.canCreate, true, m.federation.wrongPassword);
        return h.page(reply, 401, page);
      }
      const existing = await ctx.identities.find(tenant, flow.idp.id, flow.user.subject);
      if (existing && existing.userId !== proved.userId) return problem(reply, tenant, locale, 'accountExists');
      const identity =
        existing ??
        (await accounts.link(tenant, flow.idp, flow.user, proved.userId, actorOf(req)).catch((err: unknown) => {
          // Linked meanwhile, by another request.
          if (err instanceof AppError && err.status === 409) return undefined;
          throw err;
        }));
      if (!identity) return problem(reply, tenant, locale, 'accountExists');
      return signInAs(req, reply, loaded, flow, { userId: proved.userId, identityId: identity.id, linked: 'password' });
    });

    app.post('/t/:slug/interaction/:uid/federation/create', async (req, reply) => {
      const loaded = await h.load(req, reply);
      if (!loaded) return reply;
      const { tenant, details, locale } = loaded;
      const body = (req.body ?? {}) as Record<string, string | undefined>;
      if (!h.csrfOk(tenant, details.uid, body.csrf)) return problem(reply, tenant, locale, 'expired');
      const flow = await flowOf(req, reply, loaded);
      if (!flow) return reply;
      // The same rules as the page that offered it, as they are now.
      const found = await accounts.resolve(tenant, flow.idp, flow.user, actorOf(req));
      if (found.kind === 'sign_in') return signInAs(req, reply, loaded, flow, found);
      if (found.kind !== 'choose' || !found.canCreate) {
        return problem(reply, tenant, locale, found.kind === 'refuse' ? found.reason : 'noAccount');
      }
      const limit = await ctx.registrations.take(tenant.id, actorOf(req).ip);
      if (!limit.allowed) return h.tooManyRequests(reply, tenant, locale, limit.retryAfterSeconds);
      const created = await accounts.signUp(tenant, flow.idp, flow.user, actorOf(req)).catch((err: unknown) => {
        // Made meanwhile, by another request: as if it had been there.
        if (err instanceof AppError && err.status === 409) return 'taken' as const;
        throw err;
      });
      if (created === 'taken') return problem(reply, tenant, locale, 'accountExists');
      if (!created) return problem(reply, tenant, locale, 'noEmail');
      return signInAs(req, reply, loaded, flow, { ...created, linked: 'sign_up' });
    });
  }

  return {
    register,

    /**
     * The sign-in page's buttons, one per enabled provider of the tenant, and whether an
     * email's domain routes to one of them (home-realm discovery).
     */
    async choices(
      tenant: Tenant,
      base: string,
      locale: Locale,
    ): Promise<{ buttons: ProviderButton[]; emailRoutes: boolean }> {
      const m = messagesFor(locale);
      const enabled = await ctx.identityProviders.enabled(tenant);
      return {
        buttons: enabled.map((p) => ({
          url: `${base}/federated/${p.slug}`,
          label: p.buttonText ?? m.federation.signInWith(p.displayName),
          iconUrl: p.iconUrl,
        })),
        emailRoutes: enabled.some((p) => p.domains.length > 0),
      };
    },

    /**
     * Home-realm discovery: where the sign-in form sends an email whose domain routes to an
     * enabled provider (before any password is looked at), or undefined.
     */
    async homeRealm(tenant: Tenant, base: string, email: string): Promise<string | undefined> {
      const at = email.lastIndexOf('@');
      const domain =
        at > 0
          ? email
              .slice(at + 1)
              .trim()
              .toLowerCase()
          : '';
      if (!/^[a-z0-9.-]{1,253}$/.test(domain)) return undefined;
      const idp = await ctx.identityProviders.forEmailDomain(tenant, domain);
      return idp ? `${base}/federated/${idp.slug}?login_hint=${encodeURIComponent(email)}` : undefined;
    },
  };
}

/** Which page a refused callback gets: the user said no upstream, the upstream is down, or the answer failed a check. */
function refusal(err: unknown): Problem & FederatedSignInOutcome {
  if (err instanceof oidc.AuthorizationResponseError && err.error === 'access_denied') return 'denied';
  if (err instanceof UpstreamUnavailable) return 'unavailable';
  const name = (err as { name?: unknown; cause?: { name?: unknown } }).name;
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    (err instanceof TypeError && err.message === 'fetch failed')
  ) {
    return 'unavailable';
  }
  return 'failed';
}
