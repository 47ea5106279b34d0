/**
 * What the tenant's pages outside a sign-in share (the account pages, the ticket page): the
 * tenant from the URL, the page answer, the forms' CSRF token, an HMAC of a random cookie
 * of this browser (`lk_form`, on the tenant's path) under a key of its own, and the page's
 * language.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { readCookie, setCookie } from '../http/cookies.js';
import { type Locale, requestLocale } from '../i18n/locales.js';
import { pageHeaders } from '../login/pages.js';
import { tenantNotFound } from '../oidc/routes.js';
import { sameText } from '../secret.js';
import { isSlug, type Tenant } from '../tenants/service.js';

const FORM_COOKIE = 'lk_form';

/** The pages whose URL may hold a secret (a link's) tell browsers to send no Referer. */
export const secretPageHeaders = { ...pageHeaders, 'referrer-policy': 'no-referrer' };

export function tenantForms(ctx: AppContext) {
  const csrfKey = ctx.secrets.derive('csrf/account/v1');
  const csrfOf = (tenant: Tenant, nonce: string) =>
    createHmac('sha256', csrfKey).update(`${tenant.id}:${nonce}`).digest('base64url');

  return {
    page(reply: FastifyReply, status: number, body: string, headers: Record<string, string> = pageHeaders) {
      return reply.code(status).headers(headers).send(body);
    },

    /** A 303 to `url`, stored by no cache and sending no Referer. */
    seeOther(reply: FastifyReply, url: string) {
      return reply
        .code(303)
        .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
        .redirect(url, 303);
    },

    async tenantOf(req: FastifyRequest, reply: FastifyReply): Promise<Tenant | undefined> {
      const { slug } = req.params as { slug: string };
      const tenant = isSlug(slug) ? await ctx.tenants.findBySlug(slug) : undefined;
      if (!tenant) tenantNotFound(reply, slug);
      return tenant;
    },

    /** The form's CSRF token, setting this browser's cookie of these pages if it has none. */
    csrfFor(req: FastifyRequest, reply: FastifyReply, tenant: Tenant): string {
      let nonce = readCookie(req, FORM_COOKIE);
      if (!nonce || !/^[A-Za-z0-9_-]{22,64}$/.test(nonce)) {
        nonce = randomBytes(18).toString('base64url');
        setCookie(reply, FORM_COOKIE, nonce, {
          path: `/t/${tenant.slug}`,
          maxAge: 3600,
          publicUrl: ctx.config.publicUrl,
        });
        // Read back by later calls of this request (a page with several forms).
        req.headers.cookie = `${FORM_COOKIE}=${nonce}${req.headers.cookie ? `; ${req.headers.cookie}` : ''}`;
      }
      return csrfOf(tenant, nonce);
    },

    /**
     * The page's language (its `?ui_locales=`, the browser's Accept-Language, the tenant's
     * default), and the `ui_locales` its forms and redirects carry on: only when the page was
     * asked with one (otherwise the next page chooses the same way again).
     */
    language(req: FastifyRequest, tenant: Tenant): { locale: Locale; ui: Locale | undefined } {
      const asked = (req.query as { ui_locales?: unknown } | undefined)?.ui_locales;
      const locale = requestLocale(tenant, req.headers, asked);
      return { locale, ui: typeof asked === 'string' && asked !== '' ? locale : undefined };
    },

    csrfOk(req: FastifyRequest, tenant: Tenant, given: unknown): boolean {
      const nonce = readCookie(req, FORM_COOKIE);
      return nonce !== undefined && sameText(csrfOf(tenant, nonce), given);
    },
  };
}

export type TenantForms = ReturnType<typeof tenantForms>;

/** `path` with the query parameters that have a value, in order, each encoded. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const pairs = Object.entries(params).filter((p): p is [string, string] => p[1] !== undefined);
  return pairs.length ? `${path}?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : path;
}
