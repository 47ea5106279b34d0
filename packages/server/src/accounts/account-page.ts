/**
 * The account page, {PUBLIC_URL}/t/{slug}/account (issue 11): the user's own page in every
 * tenant, reached by signing in on the tenant's sign-in page (account-session.ts). One page
 * of sections (account-views.ts), each form posting to its own path with a CSRF token and
 * answered with 303 back to the page and a notice, or with the page again and what is wrong.
 * Changes that would let a borrowed session take the account over (the email address, the
 * password, deleting it) need the current password, checked as a sign-in is.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { AppError } from '../http/errors.js';
import { fallbackLocale } from '../i18n/locales.js';
import { formPages } from '../login/pages.js';
import { BusyError } from '../passwords/hash.js';
import type { Tenant } from '../tenants/service.js';
import { asEmailAddress, EMAIL_MAX_LENGTH, normalizeEmail } from '../users/service.js';
import { type AccountVisit, accountSessions } from './account-session.js';
import { accountDeleted, accountPage } from './account-views.js';
import { tenantForms } from './forms.js';
import { selfService } from './self-service.js';

/** What a change's 303 back to the page says there (`?done=`). */
const notices: Record<string, string> = {
  profile: 'Your profile is saved.',
  email: 'We sent a link to the new address. It becomes your address when you open it.',
  password: 'Your password is changed, and every other session signed out.',
  sessions: 'Every other session is signed out.',
  verification: 'We sent the confirmation message again.',
  ticket: 'The invitation is accepted.',
};

export function accountPageRoutes(ctx: AppContext) {
  const forms = tenantForms(ctx);
  const sessions = accountSessions(ctx);
  const self = selfService(ctx, ctx.hasher);
  const { page, seeOther, tenantOf, csrfFor, csrfOk } = forms;
  const base = (tenant: Tenant) => `/t/${tenant.slug}/account`;

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
      const [list, activity] = await Promise.all([self.sessions(tenant, visit), self.activity(tenant, visit.user)]);
      return page(
        reply,
        status,
        accountPage(tenant, {
          base: base(tenant),
          csrf: csrfFor(req, reply, tenant),
          email: visit.user.email,
          emailVerified: visit.user.email_verified === 1,
          displayName: visit.user.display_name,
          minLength: tenant.settings.passwordMinLength,
          sessions: list,
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
      const query = req.query as { done?: unknown; ui_locales?: unknown };
      if (!visit) {
        const uiLocales = typeof query.ui_locales === 'string' ? query.ui_locales : undefined;
        return sessions.signIn(reply, tenant, base(tenant), { uiLocales });
      }
      const notice = typeof query.done === 'string' ? notices[query.done] : undefined;
      return render(req, reply, tenant, visit, 200, notice ? { notice } : {});
    });

    app.get('/t/:slug/account/callback', async (req, reply) => {
      const tenant = await tenantOf(req, reply);
      if (!tenant) return;
      const query = req.query as { error?: unknown };
      const next = query.error === undefined ? await sessions.callback(req, reply, tenant) : undefined;
      if (!next) {
        return page(
          reply,
          400,
          ctx.pages.error(
            tenant,
            fallbackLocale,
            query.error === 'access_denied' ? 'access_denied' : 'invalid_request',
            'The sign-in did not finish in this browser. Open your account page again to sign in.',
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
      ) => Promise<unknown>,
    ) {
      app.post(`/t/:slug/account/${path}`, async (req, reply) => {
        const tenant = await tenantOf(req, reply);
        if (!tenant) return;
        const visit = await sessions.current(req, tenant);
        if (!visit) return sessions.signIn(reply, tenant, base(tenant));
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (!csrfOk(req, tenant, body.csrf)) {
          return render(req, reply, tenant, visit, 400, { error: 'Your session expired. Please try again.' });
        }
        try {
          return await handle(tenant, visit, body, req, reply);
        } catch (err) {
          if (err instanceof BusyError) {
            reply.header('retry-after', String(err.retryAfterSeconds));
            return render(req, reply, tenant, visit, 429, {
              error: 'Too many passwords are being checked right now. Please try again in a moment.',
            });
          }
          // A rule of the input, named (password_too_short, email_taken…).
          if (err instanceof AppError && err.status < 500) {
            return render(req, reply, tenant, visit, err.status, { error: err.message });
          }
          throw err;
        }
      });
    }
    const text = (value: unknown, max: number) => (typeof value === 'string' ? value.slice(0, max) : '');
    const done = (reply: FastifyReply, tenant: Tenant, what: keyof typeof notices) =>
      seeOther(reply, `${base(tenant)}?done=${what}`);
    const wrongPassword = 'That is not your current password.';

    action('profile', async (tenant, visit, body, req, reply) => {
      const saved = await self.setDisplayName(tenant, visit.user, text(body.name, 1000), actorOf(req));
      if (!saved) return render(req, reply, tenant, visit, 400, { error: 'Enter a name of at most 200 characters.' });
      return done(reply, tenant, 'profile');
    });

    action('verification', async (tenant, visit, _body, req, reply) => {
      const limit = await ctx.emailLimits.perRecipient.takeFor(tenant.id, `to:${visit.user.email}`);
      if (limit.allowed) await ctx.verifications.resend(tenant, visit.user, actorOf(req));
      return done(reply, tenant, 'verification');
    });

    action('email', async (tenant, visit, body, req, reply) => {
      const email = asEmailAddress(text(body.email, EMAIL_MAX_LENGTH + 1));
      if (!email) return render(req, reply, tenant, visit, 400, { error: 'Enter a valid email address.' });
      if (normalizeEmail(email) === visit.user.email) {
        return render(req, reply, tenant, visit, 400, { error: 'That is your address already.' });
      }
      const actor = actorOf(req);
      if (!(await self.passwordIsRight(tenant, visit.user, text(body.password, 4096), actor))) {
        return render(req, reply, tenant, visit, 400, { error: wrongPassword });
      }
      const limit = await ctx.emailLimits.perRecipient.takeFor(tenant.id, `to:${normalizeEmail(email)}`);
      if (!limit.allowed) {
        return render(req, reply, tenant, visit, 429, {
          error: 'Too many messages went to that address lately. Try again later.',
        });
      }
      await ctx.verifications.requestChange(tenant, visit.user, email, actor);
      return done(reply, tenant, 'email');
    });

    action('password', async (tenant, visit, body, req, reply) => {
      const next = text(body.password, 4096);
      if (next !== body.confirm) {
        return render(req, reply, tenant, visit, 400, { error: 'The two new passwords are not the same.' });
      }
      const changed = await self.changePassword(tenant, visit, text(body.current, 4096), next, actorOf(req));
      if (!changed) return render(req, reply, tenant, visit, 400, { error: wrongPassword });
      return done(reply, tenant, 'password');
    });

    action('sessions', async (tenant, visit, _body, req, reply) => {
      await self.endOtherSessions(tenant, visit, actorOf(req));
      return done(reply, tenant, 'sessions');
    });

    action('delete', async (tenant, visit, body, req, reply) => {
      if (!tenant.settings.selfDeletion) return reply.code(404).headers({ 'cache-control': 'no-store' }).send();
      if (body.confirm !== 'yes') {
        return render(req, reply, tenant, visit, 400, {
          error: 'Tick the box to confirm that you want to delete your account.',
        });
      }
      const outcome = await self.deleteAccount(tenant, visit.user, text(body.password, 4096), actorOf(req));
      if (outcome === 'wrong_password') return render(req, reply, tenant, visit, 400, { error: wrongPassword });
      if (outcome === 'not_allowed') {
        return render(req, reply, tenant, visit, 409, {
          error: 'This account cannot be deleted here: it is the last administrator of this service.',
        });
      }
      sessions.forget(reply, tenant);
      return page(reply, 200, accountDeleted(tenant));
    });

    action('signout', async (tenant, _visit, _body, _req, reply) => {
      sessions.forget(reply, tenant);
      // The tenant's own sign-out (its confirmation page), which ends the session for every application.
      const params = new URLSearchParams({
        client_id: 'account',
        post_logout_redirect_uri: `${ctx.config.publicUrl}${base(tenant)}`,
      });
      return seeOther(reply, `/t/${tenant.slug}/session/end?${params}`);
    });
  };
}
