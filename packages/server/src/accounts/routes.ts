/**
 * The account pages outside a sign-in (issue 11), under /t/{slug}/account: the forgot-password
 * form and the reset form its link opens. Server-rendered, no JavaScript; every POST carries
 * a CSRF token bound to a cookie of these pages and is answered with 303; no page is stored
 * by caches; the reset pages, whose URL holds a secret, send no Referer.
 *
 * The forgot-password form answers at once with the same page whatever the address, and does
 * its work (the limits per client address and per recipient, the lookup, the message) after
 * the answer has gone, at a random moment up to two seconds later (deferred.ts): an unknown,
 * disabled or limited address takes the same time as a known one, slows nothing sent after it
 * any differently, and gets the same page. At most MAX_PENDING_RESETS such jobs wait at once;
 * past it (a flood) a request gets the same page and does nothing.
 *
 * A page's language is its `?ui_locales=` (which the sign-in page's link passes on, and
 * which each form and redirect here keeps), then the browser's Accept-Language, then the
 * tenant's default; the messages these pages send are in it too.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { AppError } from '../http/errors.js';
import { messagesFor, passwordProblem } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import { formPages } from '../login/pages.js';
import { BusyError } from '../passwords/hash.js';
import type { Tenant } from '../tenants/service.js';
import { EMAIL_MAX_LENGTH, normalizeEmail } from '../users/service.js';
import { DeferredWork } from './deferred.js';
import { secretPageHeaders, tenantForms, withQuery } from './forms.js';

/** Forgot-password requests whose work (after their answer) may wait or be under way at once, per node. */
const MAX_PENDING_RESETS = 64;

export function accountRoutes(ctx: AppContext) {
  const forms = tenantForms(ctx);

  return async (app: FastifyInstance) => {
    const deferred = new DeferredWork(MAX_PENDING_RESETS, (err) =>
      ctx.log.error({ err }, 'the forgot-password request failed after its answer'),
    );
    app.addHook('onClose', () => deferred.flush());
    formPages(app, ctx.pages, 16 * 1024);

    const { page, tenantOf, csrfFor, csrfOk } = forms;
    const languageOf = forms.language;

    const base = (tenant: Tenant) => `/t/${tenant.slug}/account`;
    /**
     * The tenant of a password page (forgot, reset), or the 404 page where the tenant signs in
     * through its providers only (settings.passwordSignIn off): no password to reset there.
     */
    const passwordTenantOf = async (req: FastifyRequest, reply: FastifyReply) => {
      const tenant = await tenantOf(req, reply);
      if (!tenant || tenant.settings.passwordSignIn) return tenant;
      const { locale } = languageOf(req, tenant);
      page(reply, 404, ctx.pages.error(tenant, locale, 'not_found', messagesFor(locale).login.noPasswords));
      return undefined;
    };
    /** The sign-in form to go back to: only an interaction of this tenant, by its id. */
    const backUrlOf = (tenant: Tenant, value: unknown) =>
      typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value)
        ? `/t/${tenant.slug}/interaction/${value}`
        : undefined;
    const forgotUrl = (tenant: Tenant, back?: unknown, ui?: Locale) =>
      withQuery(`${base(tenant)}/forgot`, {
        return: typeof back === 'string' && backUrlOf(tenant, back) ? back : undefined,
        ui_locales: ui,
      });

    app.get('/t/:slug/account/forgot', async (req, reply) => {
      const tenant = await passwordTenantOf(req, reply);
      if (!tenant) return;
      const query = req.query as { return?: unknown; sent?: unknown };
      const { locale, ui } = languageOf(req, tenant);
      const back = backUrlOf(tenant, query.return);
      if (query.sent === '1') return page(reply, 200, ctx.pages.forgotSent(tenant, locale, back));
      return page(
        reply,
        200,
        ctx.pages.forgot(tenant, locale, {
          action: forgotUrl(tenant, query.return, ui),
          csrf: csrfFor(req, reply, tenant),
          ...(back ? { backUrl: back } : {}),
        }),
      );
    });

    app.post('/t/:slug/account/forgot', async (req, reply) => {
      const tenant = await passwordTenantOf(req, reply);
      if (!tenant) return;
      const query = req.query as { return?: unknown };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const { locale, ui } = languageOf(req, tenant);
      const m = messagesFor(locale);
      const again = (error: string) =>
        page(
          reply,
          400,
          ctx.pages.forgot(tenant, locale, {
            action: forgotUrl(tenant, query.return, ui),
            csrf: csrfFor(req, reply, tenant),
            error,
            ...(backUrlOf(tenant, query.return) ? { backUrl: backUrlOf(tenant, query.return) as string } : {}),
          }),
        );
      if (!csrfOk(req, tenant, body.csrf)) return again(m.problems.sessionExpired);
      const email = typeof body.email === 'string' ? body.email : '';
      if (email.length === 0 || email.length > EMAIL_MAX_LENGTH || !email.includes('@')) {
        return again(m.forgot.emailMissing);
      }
      const actor = actorOf(req);
      // The answer first; the work after it, the same answer for every address.
      const back = query.return && backUrlOf(tenant, query.return) ? (query.return as string) : undefined;
      reply
        .code(303)
        .header('cache-control', 'no-store')
        .redirect(withQuery(`${base(tenant)}/forgot`, { sent: '1', return: back, ui_locales: ui }), 303);
      // Bounded: past it (a flood), a request is answered the same and does nothing.
      // The client address's limit before the queue, the same for every email: one client
      // past it waits no work in, and cannot fill the queue that others' requests need.
      const byAddress = await ctx.emailLimits.perAddress.take(tenant.id, actor.ip);
      if (byAddress.allowed) deferred.later(() => sendReset(tenant, normalizeEmail(email), actor, locale));
      return reply;
    });

    /** The forgot-password form's work: within the recipient's limit, a link for an active account. */
    async function sendReset(tenant: Tenant, email: string, actor: ReturnType<typeof actorOf>, locale: Locale) {
      const byRecipient = await ctx.emailLimits.perRecipient.takeFor(tenant.id, `to:${email}`);
      if (!byRecipient.allowed) return;
      await ctx.resets.sendByEmail(tenant, email, actor, locale);
    }

    app.get('/t/:slug/account/verify', async (req, reply) => {
      const tenant = await tenantOf(req, reply);
      if (!tenant) return;
      const query = req.query as { token?: unknown; done?: unknown };
      const { locale, ui } = languageOf(req, tenant);
      if (query.done === '1') return page(reply, 200, ctx.pages.verified(tenant, locale), secretPageHeaders);
      const action = withQuery(`${base(tenant)}/verify`, { ui_locales: ui });
      const csrf = csrfFor(req, reply, tenant);
      // Without a link's secret: where the message's code is typed.
      if (query.token === undefined) return page(reply, 200, ctx.pages.verifyCode(tenant, locale, { action, csrf }));
      const token = typeof query.token === 'string' ? query.token : '';
      const opened = await ctx.verifications.open(tenant, token);
      if (!opened) return page(reply, 400, ctx.pages.linkInvalid(tenant, locale, undefined), secretPageHeaders);
      return page(
        reply,
        200,
        ctx.pages.verify(tenant, locale, { action, csrf, token, email: opened.link.email }),
        secretPageHeaders,
      );
    });

    app.post('/t/:slug/account/verify', async (req, reply) => {
      const tenant = await tenantOf(req, reply);
      if (!tenant) return;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const { locale, ui } = languageOf(req, tenant);
      const m = messagesFor(locale);
      const action = withQuery(`${base(tenant)}/verify`, { ui_locales: ui });
      const byCode = body.token === undefined;
      const email = typeof body.email === 'string' ? body.email.slice(0, EMAIL_MAX_LENGTH) : '';
      const given = byCode
        ? { email, code: typeof body.code === 'string' ? body.code : '' }
        : typeof body.token === 'string'
          ? body.token
          : '';
      const codeAgain = (error: string) =>
        page(
          reply,
          400,
          ctx.pages.verifyCode(tenant, locale, { action, csrf: csrfFor(req, reply, tenant), email, error }),
        );
      if (!csrfOk(req, tenant, body.csrf)) {
        if (byCode) return codeAgain(m.problems.sessionExpired);
        const opened = await ctx.verifications.open(tenant, given);
        if (!opened) return page(reply, 400, ctx.pages.linkInvalid(tenant, locale, undefined), secretPageHeaders);
        const csrf = csrfFor(req, reply, tenant);
        const token = given as string;
        return page(
          reply,
          400,
          ctx.pages.verify(tenant, locale, { action, csrf, token, email: opened.link.email }),
          secretPageHeaders,
        );
      }
      const outcome = await ctx.verifications.verify(tenant, given, actorOf(req), locale);
      if (outcome === 'email_taken') {
        return page(reply, 409, ctx.pages.error(tenant, locale, 'email_taken', m.verify.emailTaken), secretPageHeaders);
      }
      if (outcome !== 'verified') {
        if (byCode) return codeAgain(m.verifyCode.wrongCode);
        return page(reply, 400, ctx.pages.linkInvalid(tenant, locale, undefined), secretPageHeaders);
      }
      return reply
        .code(303)
        .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
        .redirect(withQuery(`${base(tenant)}/verify`, { done: '1', ui_locales: ui }), 303);
    });

    app.get('/t/:slug/account/reset', async (req, reply) => {
      const tenant = await passwordTenantOf(req, reply);
      if (!tenant) return;
      const query = req.query as { token?: unknown; done?: unknown };
      const { locale, ui } = languageOf(req, tenant);
      if (query.done === '1') return page(reply, 200, ctx.pages.resetDone(tenant, locale), secretPageHeaders);
      const token = typeof query.token === 'string' ? query.token : '';
      const opened = await ctx.resets.open(tenant, token);
      if (!opened) {
        return page(
          reply,
          400,
          ctx.pages.linkInvalid(tenant, locale, forgotUrl(tenant, undefined, ui)),
          secretPageHeaders,
        );
      }
      return page(
        reply,
        200,
        ctx.pages.reset(tenant, locale, {
          action: withQuery(`${base(tenant)}/reset`, { ui_locales: ui }),
          csrf: csrfFor(req, reply, tenant),
          token,
          email: opened.user.email,
          minLength: tenant.settings.passwordMinLength,
        }),
        secretPageHeaders,
      );
    });

    app.post('/t/:slug/account/reset', async (req, reply) => {
      const tenant = await passwordTenantOf(req, reply);
      if (!tenant) return;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const token = typeof body.token === 'string' ? body.token : '';
      const { locale, ui } = languageOf(req, tenant);
      const m = messagesFor(locale);
      const invalid = () =>
        page(reply, 400, ctx.pages.linkInvalid(tenant, locale, forgotUrl(tenant, undefined, ui)), secretPageHeaders);
      const opened = await ctx.resets.open(tenant, token);
      if (!opened) return invalid();
      const again = (status: number, error: string) =>
        page(
          reply,
          status,
          ctx.pages.reset(tenant, locale, {
            action: withQuery(`${base(tenant)}/reset`, { ui_locales: ui }),
            csrf: csrfFor(req, reply, tenant),
            token,
            email: opened.user.email,
            error,
            minLength: tenant.settings.passwordMinLength,
          }),
          secretPageHeaders,
        );
      if (!csrfOk(req, tenant, body.csrf)) return again(400, m.problems.sessionExpired);
      const password = typeof body.password === 'string' ? body.password : '';
      if (password !== body.confirm) return again(400, m.reset.mismatch);
      let done: boolean;
      try {
        done = await ctx.resets.reset(tenant, token, password, actorOf(req), locale);
      } catch (err) {
        if (err instanceof BusyError) {
          reply.header('retry-after', String(err.retryAfterSeconds));
          return again(429, m.reset.busy);
        }
        // The policy's rule, named (password_too_short, …).
        if (err instanceof AppError && err.status === 400) {
          return again(400, passwordProblem(m, err.code, tenant.settings.passwordMinLength) ?? err.message);
        }
        throw err;
      }
      if (!done) return invalid();
      return reply
        .code(303)
        .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
        .redirect(withQuery(`${base(tenant)}/reset`, { done: '1', ui_locales: ui }), 303);
    });
  };
}
