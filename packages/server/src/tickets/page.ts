/**
 * The ticket page, {PUBLIC_URL}/t/{slug}/tickets/{secret} (issue 11): an invitation's link.
 * 1. GET: the type's welcome (with its agreement when required); POST: agreed, which a cookie
 *    of this browser remembers for this ticket (an HMAC of its id), then the choice.
 * 2. The choice (`…/accept`): accept as the user signed in on this browser (the account
 *    page's session), sign in on the tenant's own sign-in page (and come back here), or
 *    create an account where the type (`allowUserCreation`) or the tenant allows it, even
 *    when the tenant is closed to self-registration. A ticket whose key is an email makes
 *    that the account's address, verified: the invitation was sent to it.
 * 3. Using it (`ctx.tickets.redeem`, one conditional UPDATE: exactly one of any number of
 *    concurrent uses wins) grants the type's roles; the browser goes to `postUseUrl` (checked
 *    again against the tenant's allowed origins) or the account page.
 * A ticket that cannot be used says why; an expired one offers "Request a new invitation"
 * (the reissue queue). The secret is in the URL: no Referer, no store, and the logs keep it
 * out (logger.ts). The page's language is the browser's (Accept-Language), else the tenant's
 * default: an invitation's link carries none.
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { type AccountVisit, accountSessions } from '../accounts/account-session.js';
import { secretPageHeaders, tenantForms } from '../accounts/forms.js';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import type { DB } from '../db/schema.js';
import { readCookie, setCookie } from '../http/cookies.js';
import { AppError } from '../http/errors.js';
import { messagesFor, passwordProblem } from '../i18n/catalog.js';
import { requestLocale } from '../i18n/locales.js';
import { formPages } from '../login/pages.js';
import { BusyError } from '../passwords/hash.js';
import { sameText } from '../secret.js';
import type { Tenant } from '../tenants/service.js';
import { asEmailAddress, createUserSchema } from '../users/service.js';
import { ticketChoice, ticketRefused, ticketRegistered, ticketWelcome } from './page-views.js';
import type { OpenedTicket } from './service.js';
import { isAllowedTicketUrl } from './types.js';

const AGREED_COOKIE = 'lk_ticket';

type Usable = Extract<OpenedTicket, { ok: true }>;

export function ticketPageRoutes(ctx: AppContext) {
  const forms = tenantForms(ctx);
  const sessions = accountSessions(ctx);
  const { page, seeOther, tenantOf, csrfFor, csrfOk } = forms;
  const agreedKey = ctx.secrets.derive('ticket-agreed/v1');
  const agreedMac = (tenant: Tenant, ticketId: string) =>
    createHmac('sha256', agreedKey).update(`${tenant.id}:${ticketId}`).digest('base64url');

  return async (app: FastifyInstance) => {
    formPages(app, ctx.pages, 16 * 1024);

    /** The tenant and the ticket of the URL; for one that cannot be used, its page is sent. */
    async function load(req: FastifyRequest, reply: FastifyReply) {
      const tenant = await tenantOf(req, reply);
      if (!tenant) return undefined;
      const { secret } = req.params as { secret: string };
      const base = `/t/${tenant.slug}/tickets/${secret}`;
      const opened = await ctx.tickets.open(tenant, secret);
      if (!opened.ok) {
        refused(req, reply, tenant, base, opened);
        return undefined;
      }
      return { tenant, opened, base, secret };
    }

    function refused(
      req: FastifyRequest,
      reply: FastifyReply,
      tenant: Tenant,
      base: string,
      opened: Exclude<OpenedTicket, { ok: true }>,
    ) {
      const type = opened.reason === 'invalid' ? undefined : opened.type;
      const continueUrl =
        type?.postInvalidUrl && isAllowedTicketUrl(tenant, ctx.config.publicUrl, type.postInvalidUrl)
          ? type.postInvalidUrl
          : null;
      const reissue =
        opened.reason === 'expired'
          ? opened.reissueRequested
            ? ('requested' as const)
            : ('offer' as const)
          : undefined;
      return page(
        reply,
        opened.reason === 'invalid' ? 404 : 410,
        ticketRefused(tenant, requestLocale(tenant, req.headers), opened.reason, {
          base,
          csrf: csrfFor(req, reply, tenant),
          ...(reissue ? { reissue } : {}),
          continueUrl,
        }),
        secretPageHeaders,
      );
    }

    const agreed = (req: FastifyRequest, tenant: Tenant, ticketId: string) =>
      sameText(agreedMac(tenant, ticketId), readCookie(req, AGREED_COOKIE)?.split('.')[1]) &&
      readCookie(req, AGREED_COOKIE)?.split('.')[0] === ticketId;

    /** Where the browser goes once the ticket is used. */
    function usedUrl(tenant: Tenant, opened: Usable) {
      const url = opened.type.postUseUrl;
      return url && isAllowedTicketUrl(tenant, ctx.config.publicUrl, url)
        ? url
        : `/t/${tenant.slug}/account?done=ticket`;
    }

    const mayRegister = (tenant: Tenant, opened: Usable) =>
      opened.type.allowUserCreation || tenant.settings.selfRegistration;

    function choice(
      req: FastifyRequest,
      reply: FastifyReply,
      loaded: { tenant: Tenant; opened: Usable; base: string },
      visit: AccountVisit | undefined,
      status = 200,
      extra: { error?: string; name?: string; typedEmail?: string } = {},
    ) {
      const { tenant, opened, base } = loaded;
      const email = opened.ticket.email ?? undefined;
      return page(
        reply,
        status,
        ticketChoice(tenant, requestLocale(tenant, req.headers), {
          base,
          csrf: csrfFor(req, reply, tenant),
          ...(extra.error ? { error: extra.error } : {}),
          ...(visit ? { signedInAs: visit.user.email } : {}),
          ...(visit && !mayAccept(opened, visit) && email ? { invitedEmail: email } : {}),
          ...(mayRegister(tenant, opened)
            ? {
                register: {
                  minLength: tenant.settings.passwordMinLength,
                  ...(email ? { email } : {}),
                  ...(extra.name ? { name: extra.name } : {}),
                  ...(extra.typedEmail ? { typedEmail: extra.typedEmail } : {}),
                },
              }
            : {}),
        }),
        secretPageHeaders,
      );
    }

    app.get('/t/:slug/tickets/:secret', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return;
      const { tenant, opened, base } = loaded;
      return page(
        reply,
        200,
        ticketWelcome(tenant, requestLocale(tenant, req.headers), opened.type.welcome, {
          base,
          csrf: csrfFor(req, reply, tenant),
        }),
        secretPageHeaders,
      );
    });

    app.post('/t/:slug/tickets/:secret', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return;
      const { tenant, opened, base } = loaded;
      const body = (req.body ?? {}) as Record<string, unknown>;
      const locale = requestLocale(tenant, req.headers);
      const t = messagesFor(locale);
      const again = (error: string) =>
        page(
          reply,
          400,
          ticketWelcome(tenant, locale, opened.type.welcome, { base, csrf: csrfFor(req, reply, tenant), error }),
          secretPageHeaders,
        );
      if (!csrfOk(req, tenant, body.csrf)) return again(t.problems.sessionExpired);
      if (opened.type.welcome.agreementRequired && body.agree !== 'yes') return again(t.ticket.tickToAgree);
      setCookie(reply, AGREED_COOKIE, `${opened.ticket.id}.${agreedMac(tenant, opened.ticket.id)}`, {
        path: `/t/${tenant.slug}/tickets`,
        maxAge: 3600,
        publicUrl: ctx.config.publicUrl,
      });
      return seeOther(reply, `${base}/accept`);
    });

    app.get('/t/:slug/tickets/:secret/accept', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return;
      if (!agreed(req, loaded.tenant, loaded.opened.ticket.id)) return seeOther(reply, loaded.base);
      return choice(req, reply, loaded, await sessions.current(req, loaded.tenant));
    });

    /** The choice's forms: a good CSRF token and the welcome agreed to first. */
    function step(
      path: string,
      handle: (
        loaded: { tenant: Tenant; opened: Usable; base: string },
        body: Record<string, unknown>,
        req: FastifyRequest,
        reply: FastifyReply,
      ) => Promise<unknown>,
    ) {
      app.post(`/t/:slug/tickets/:secret/${path}`, async (req, reply) => {
        const loaded = await load(req, reply);
        if (!loaded) return;
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (!agreed(req, loaded.tenant, loaded.opened.ticket.id)) return seeOther(reply, loaded.base);
        if (!csrfOk(req, loaded.tenant, body.csrf)) {
          const expired = messagesFor(requestLocale(loaded.tenant, req.headers)).problems.sessionExpired;
          return choice(req, reply, loaded, await sessions.current(req, loaded.tenant), 400, { error: expired });
        }
        return handle(loaded, body, req, reply);
      });
    }

    step('signin', async ({ tenant, opened, base }, _body, _req, reply) =>
      sessions.signIn(reply, tenant, `${base}/accept`, {
        prompt: 'login',
        loginHint: opened.ticket.email ?? undefined,
      }),
    );

    step('accept', async (loaded, _body, req, reply) => {
      const { tenant, opened, base } = loaded;
      const visit = await sessions.current(req, tenant);
      if (!visit) return seeOther(reply, `${base}/accept`);
      // An invitation sent to an address is that account's to accept (the page offers to sign in as it).
      if (!mayAccept(opened, visit)) return choice(req, reply, loaded, visit, 403);
      const used = await ctx.database.db
        .transaction()
        .execute((trx) =>
          ctx.tickets.redeem(trx, tenant, opened.ticket.id, visit.user.id, userActor(req, visit.user.id)),
        );
      if (!used) return refusedNow(req, reply, loaded);
      return seeOther(reply, usedUrl(tenant, opened));
    });

    step('register', async (loaded, body, req, reply) => {
      const { tenant, opened } = loaded;
      if (!mayRegister(tenant, opened)) return seeOther(reply, `${loaded.base}/accept`);
      const fixed = opened.ticket.email;
      const typed = typeof body.email === 'string' ? body.email.slice(0, 320) : '';
      const name = typeof body.name === 'string' ? body.name.slice(0, 300) : '';
      const locale = requestLocale(tenant, req.headers);
      const t = messagesFor(locale);
      const again = (status: number, error: string) =>
        choice(req, reply, loaded, undefined, status, { error, name, typedEmail: typed });
      const email = fixed ?? asEmailAddress(typed);
      if (!email) return again(400, t.register.invalidEmail);
      const parsed = createUserSchema.safeParse({
        email,
        // The invitation went to this address: holding its link proves it.
        emailVerified: fixed !== null,
        ...(name.trim() ? { displayName: name } : {}),
        password: typeof body.password === 'string' ? body.password : '',
      });
      if (!parsed.success) return again(400, t.ticket.nameAndPassword);
      const actor = actorOf(req);
      // As the sign-in page's registration: a bound per client address, before any hashing.
      const limit = await ctx.registrations.take(tenant.id, actor.ip);
      if (!limit.allowed) {
        reply.header('retry-after', String(limit.retryAfterSeconds));
        return page(reply, 429, ctx.pages.tooManyRequests(tenant, locale, limit.retryAfterSeconds), secretPageHeaders);
      }
      // The ticket is used in the account's transaction: no account without it, nor twice.
      const useTicket = async (trx: Kysely<DB>, row: { id: string }) => {
        const used = await ctx.tickets.redeem(trx, tenant, opened.ticket.id, row.id, userActor(req, row.id));
        if (!used) throw new AppError(410, 'ticket_used', 'This invitation has been used already.');
      };
      try {
        if (fixed === null) {
          // An address the invitation did not name: registered as the sign-in page registers
          // (pending until its link is used; an address with an account gets a note), so
          // that the page says the same for a new address and a taken one.
          const toRecipient = await ctx.emailLimits.perRecipient.takeFor(tenant.id, `to:${email}`);
          await ctx.verifications.register(
            tenant,
            { email, displayName: parsed.data.displayName ?? null, password: parsed.data.password ?? '' },
            actor,
            toRecipient.allowed,
            locale,
            useTicket,
          );
          return page(reply, 200, ticketRegistered(tenant, locale), secretPageHeaders);
        }
        await ctx.users.create(tenant, parsed.data, { ...actor, type: 'user' }, 'user.register', { within: useTicket });
      } catch (err) {
        if (err instanceof AppError && err.code === 'ticket_used') return refusedNow(req, reply, loaded);
        if (err instanceof AppError && err.code === 'email_taken') return again(409, t.ticket.emailTaken);
        if (err instanceof BusyError) {
          reply.header('retry-after', String(err.retryAfterSeconds));
          return again(429, t.reset.busy);
        }
        // The password policy's rule, named.
        if (err instanceof AppError && err.status === 400) {
          return again(400, passwordProblem(t, err.code, tenant.settings.passwordMinLength) ?? err.message);
        }
        throw err;
      }
      return seeOther(reply, usedUrl(tenant, opened));
    });

    app.post('/t/:slug/tickets/:secret/reissue', async (req, reply) => {
      const tenant = await tenantOf(req, reply);
      if (!tenant) return;
      const { secret } = req.params as { secret: string };
      const base = `/t/${tenant.slug}/tickets/${secret}`;
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (csrfOk(req, tenant, body.csrf)) await ctx.tickets.requestReissue(tenant, secret, actorOf(req));
      const opened = await ctx.tickets.open(tenant, secret);
      if (opened.ok) return seeOther(reply, base);
      return refused(req, reply, tenant, base, opened);
    });

    /** The ticket was used (or withdrawn) while this browser was on it: why, as on its page. */
    async function refusedNow(req: FastifyRequest, reply: FastifyReply, loaded: { tenant: Tenant; base: string }) {
      const { secret } = req.params as { secret: string };
      const now = await ctx.tickets.open(loaded.tenant, secret);
      return refused(req, reply, loaded.tenant, loaded.base, now.ok ? { ok: false, reason: 'invalid' } : now);
    }
  };
}

/** Whether `visit`'s user may accept: any, unless the invitation names an address, which must be theirs. */
const mayAccept = (opened: Usable, visit: AccountVisit) =>
  opened.ticket.email === null || opened.ticket.email === visit.user.email;

const userActor = (req: FastifyRequest, userId: string) => ({ ...actorOf(req), type: 'user' as const, id: userId });
