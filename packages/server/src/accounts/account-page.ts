/**
 * The account page, {PUBLIC_URL}/t/{slug}/account (issue 11): the user's own page in every
 * tenant, reached by signing in on the tenant's sign-in page (account-session.ts). One page
 * of sections (account-views.ts), each form posting to its own path with a CSRF token and
 * answered with 303 back to the page and a notice, or with the page again and what is wrong.
 * Changes that would let a borrowed session take the account over (the email address, the
 * password, deleting it) need the current password, checked as a sign-in is. Its language is
 * its `?ui_locales=` (kept by its forms, its redirects and the sign-in it sends to), the
 * browser's Accept-Language, the tenant's default; the messages it sends are in it too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { canReauthenticateUpstream, signInMethods } from '../federation/account-links.js';
import { AppError } from '../http/errors.js';
import { type Messages, messagesFor, passwordProblem } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import { formPages } from '../login/pages.js';
import { BusyError } from '../passwords/hash.js';
import type { Tenant } from '../tenants/service.js';
import { asEmailAddress, EMAIL_MAX_LENGTH, normalizeEmail } from '../users/service.js';
import { type AccountVisit, accountSessions } from './account-session.js';
import { accountDeleted, accountPage } from './account-views.js';
import { tenantForms, withQuery } from './forms.js';
import { selfActor, selfService } from './self-service.js';

/** What a change's 303 back to the page says there (`?done=`): a key of the catalog's `account.notices`. */
type Notice = keyof Messages['account']['notices'];

/** The page's language (forms.language) and its words. */
type Language = { locale: Locale; ui: Locale | undefined; t: Messages };

export function accountPageRoutes(ctx: AppContext) {
  const forms = tenantForms(ctx);
  const sessions = accountSessions(ctx);
  const self = selfService(ctx, ctx.hasher);
  const { page, seeOther, tenantOf, csrfFor, csrfOk } = forms;
  const base = (tenant: Tenant) => `/t/${tenant.slug}/account`;
  const languageOf = (req: FastifyRequest, tenant: Tenant): Language => {
    const { locale, ui } = forms.language(req, tenant);
    return { locale, ui, t: messagesFor(locale) };
  };

  return async (app: FastifyInstance) => {
    formPages(app, ctx.pages, 16 * 1024);

    async function render(
      req: FastifyRequest,
      reply: FastifyReply,
      tenant: Tenant,
      visit: AccountVisit,
      status: number,
      message: { notice?: string; error?: string } = {},
    ) {
      const [list, activity, methods] = await Promise.all([
        self.sessions(tenant, visit),
        self.activity(tenant, visit.user),
        signInMethods(ctx, tenant, visit.user),
      ]);
      const { locale, ui } = forms.language(req, tenant);
      return page(
        reply,
        status,
        accountPage(tenant, {
          base: base(tenant),
          locale,
          ui,
          csrf: csrfFor(req, reply, tenant),
          email: visit.user.email,
          emailVerified: visit.user.email_verified === 1,
          hasPassword: visit.user.password_hash !== null,
          passwordSignIn: tenant.settings.passwordSignIn,
          displayName: visit.user.display_name,
          minLength: tenant.settings.passwordMinLength,
          sessions: list,
          methods,
          activity,
          selfDeletion: tenant.settings.selfDeletion,
          ...message,
        }),
      );
    }

    app.get('/t/:slug/account', async (req, reply) => {
      const tenant = await tenantOf(req, reply);
      if (!tenant) return;
      const visit = await sessions.current(req, tenant);
      const query = req.query as { done?: unknown; problem?: unknown; ui_locales?: unknown };
      const { ui, t } = languageOf(req, tenant);
      if (!visit) {
        const uiLocales = typeof query.ui_locales === 'string' ? query.ui_locales : undefined;
        return sessions.signIn(reply, tenant, withQuery(base(tenant), { ui_locales: ui }), { uiLocales });
      }
      const notices: Record<string, string> = t.account.notices;
      const problems: Record<string, string> = t.account.problems;
      const said = (texts: Record<string, string>, key: unknown) =>
        typeof key === 'string' && Object.hasOwn(texts, key) ? texts[key] : undefined;
      const notice = said(notices, query.done);
      const error = said(problems, query.problem);
      return render(req, reply, tenant, visit, 200, { ...(notice ? { notice } : {}), ...(error ? { error } : {}) });
    });

    app.get('/t/:slug/account/callback', async (req, reply) => {
      const tenant = await tenantOf(req, reply);
      if (!tenant) return;
      const query = req.query as { error?: unknown };
      const next = query.error === undefined ? await sessions.callback(req, reply, tenant) : undefined;
      if (!next) {
        const { locale, t } = languageOf(req, tenant);
        return page(
          reply,
          400,
          ctx.pages.error(
            tenant,
            locale,
            query.error === 'access_denied' ? 'access_denied' : 'invalid_request',
            t.account.signInUnfinished,
          ),
        );
      }
      return seeOther(reply, next);
    });

    /**
     * The account's forms: the page's user and a good CSRF token, or the sign-in first (a
     * visitor without the page's cookie) or the page again (a stale form).
     */
    function action(
      path: string,
      handle: (
        tenant: Tenant,
        visit: AccountVisit,
        body: Record<string, unknown>,
        req: FastifyRequest,
        reply: FastifyReply,
        lang: Language,
      ) => Promise<unknown>,
    ) {
      app.post(`/t/:slug/account/${path}`, async (req, reply) => {
        const tenant = await tenantOf(req, reply);
        if (!tenant) return;
        const lang = languageOf(req, tenant);
        const { t } = lang;
        const visit = await sessions.current(req, tenant);
        if (!visit) {
          const back = withQuery(base(tenant), { ui_locales: lang.ui });
          return sessions.signIn(reply, tenant, back, { uiLocales: lang.ui });
        }
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (!csrfOk(req, tenant, body.csrf)) {
          return render(req, reply, tenant, visit, 400, { error: t.problems.sessionExpired });
        }
        try {
          return await handle(tenant, visit, body, req, reply, lang);
        } catch (err) {
          if (err instanceof BusyError) {
            reply.header('retry-after', String(err.retryAfterSeconds));
            return render(req, reply, tenant, visit, 429, { error: t.reset.busy });
          }
          // A rule of the input, named (password_too_short, email_taken…).
          if (err instanceof AppError && err.status < 500) {
            const error =
              passwordProblem(t, err.code, tenant.settings.passwordMinLength) ??
              (err.code === 'email_taken' ? t.account.emailTaken : err.message);
            return render(req, reply, tenant, visit, err.status, { error });
          }
          throw err;
        }
      });
    }
    const text = (value: unknown, max: number) => (typeof value === 'string' ? value.slice(0, max) : '');
    const done = (reply: FastifyReply, tenant: Tenant, what: Notice, lang: Language) =>
      seeOther(reply, withQuery(base(tenant), { done: what, ui_locales: lang.ui }));
    /**
     * An account without a password that has not re-authenticated: the sign-in again (its
     * provider asked to authenticate afresh), then the page; or, where none of its providers
     * can, the page saying so.
     */
    const signInAgain = async (
      req: FastifyRequest,
      reply: FastifyReply,
      tenant: Tenant,
      visit: AccountVisit,
      lang: Language,
    ) => {
      if (!(await canReauthenticateUpstream(ctx, tenant, visit.user))) {
        return render(req, reply, tenant, visit, 409, { error: lang.t.account.problems.reauthUnsupported });
      }
      return sessions.signIn(reply, tenant, withQuery(base(tenant), { done: 'signedInAgain', ui_locales: lang.ui }), {
        uiLocales: lang.ui,
        prompt: 'login',
        loginHint: visit.user.email,
      });
    };

    action('profile', async (tenant, visit, body, req, reply, lang) => {
      const saved = await self.setDisplayName(tenant, visit.user, text(body.name, 1000), actorOf(req));
      if (!saved) return render(req, reply, tenant, visit, 400, { error: lang.t.account.nameTooLong });
      return done(reply, tenant, 'profile', lang);
    });

    action('verification', async (tenant, visit, _body, req, reply, lang) => {
      const limit = await ctx.emailLimits.perRecipient.takeFor(tenant.id, `to:${visit.user.email}`);
      if (limit.allowed) await ctx.verifications.resend(tenant, visit.user, actorOf(req), lang.locale);
      return done(reply, tenant, 'verification', lang);
    });

    action('email', async (tenant, visit, body, req, reply, lang) => {
      const m = lang.t.account;
      const email = asEmailAddress(text(body.email, EMAIL_MAX_LENGTH + 1));
      if (!email) return render(req, reply, tenant, visit, 400, { error: lang.t.register.invalidEmail });
      if (normalizeEmail(email) === visit.user.email) {
        return render(req, reply, tenant, visit, 400, { error: m.sameEmail });
      }
      const actor = actorOf(req);
      // The new address's limit first: refused, it costs no password check.
      const limit = await ctx.emailLimits.perRecipient.takeFor(tenant.id, `to:${normalizeEmail(email)}`);
      if (!limit.allowed) return render(req, reply, tenant, visit, 429, { error: m.tooManyMessages });
      const proved = await self.proof(tenant, visit, text(body.password, 4096), actor);
      if (proved === 'stale') return signInAgain(req, reply, tenant, visit, lang);
      if (proved === 'wrong') return render(req, reply, tenant, visit, 400, { error: m.wrongPassword });
      await ctx.verifications.requestChange(tenant, visit.user, email, actor, lang.locale);
      return done(reply, tenant, 'email', lang);
    });

    action('password', async (tenant, visit, body, req, reply, lang) => {
      const m = lang.t.account;
      // A tenant that signs in through its providers only has no passwords to set.
      if (!tenant.settings.passwordSignIn) return reply.code(404).headers({ 'cache-control': 'no-store' }).send();
      const next = text(body.password, 4096);
      if (next !== body.confirm) return render(req, reply, tenant, visit, 400, { error: m.passwordsDiffer });
      const current = text(body.current, 4096);
      const changed = await self.changePassword(tenant, visit, current, next, actorOf(req), lang.locale);
      if (changed === 'stale') return signInAgain(req, reply, tenant, visit, lang);
      if (changed !== 'ok') return render(req, reply, tenant, visit, 400, { error: m.wrongPassword });
      return done(reply, tenant, 'password', lang);
    });

    action('identities/unlink', async (tenant, visit, body, req, reply, lang) => {
      const m = lang.t.account.problems;
      try {
        await ctx.identities.unlink(
          tenant,
          visit.user.id,
          text(body.identity, 100),
          selfActor(actorOf(req), visit.user),
        );
      } catch (err) {
        const code = err instanceof AppError ? err.code : '';
        const error =
          code === 'last_sign_in_method'
            ? m.lastMethod
            : code === 'unlink_not_allowed'
              ? m.unlinkNotAllowed
              : undefined;
        // Not the user's identity (or gone already): as if unlinked, the page shows what is left.
        if (code !== 'identity_not_found' && !error) throw err;
        if (error) return render(req, reply, tenant, visit, 409, { error });
      }
      return done(reply, tenant, 'identityUnlinked', lang);
    });

    action('sessions', async (tenant, visit, _body, req, reply, lang) => {
      await self.endOtherSessions(tenant, visit, actorOf(req));
      return done(reply, tenant, 'sessions', lang);
    });

    action('delete', async (tenant, visit, body, req, reply, lang) => {
      const m = lang.t.account;
      if (!tenant.settings.selfDeletion) return reply.code(404).headers({ 'cache-control': 'no-store' }).send();
      if (body.confirm !== 'yes') return render(req, reply, tenant, visit, 400, { error: m.tickToDelete });
      const outcome = await self.deleteAccount(tenant, visit, text(body.password, 4096), actorOf(req));
      if (outcome === 'stale') return signInAgain(req, reply, tenant, visit, lang);
      if (outcome === 'wrong_password') return render(req, reply, tenant, visit, 400, { error: m.wrongPassword });
      if (outcome === 'not_allowed') return render(req, reply, tenant, visit, 409, { error: m.lastAdmin });
      sessions.forget(reply, tenant);
      return page(reply, 200, accountDeleted(tenant, lang.locale));
    });

    action('signout', async (tenant, _visit, _body, _req, reply, lang) => {
      sessions.forget(reply, tenant);
      // The tenant's own sign-out (its confirmation page), which ends the session for every application.
      const params = new URLSearchParams({
        client_id: 'account',
        post_logout_redirect_uri: `${ctx.config.publicUrl}${base(tenant)}`,
        ...(lang.ui ? { ui_locales: lang.ui } : {}),
      });
      return seeOther(reply, `/t/${tenant.slug}/session/end?${params}`);
    });
  };
}
