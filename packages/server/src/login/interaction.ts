/**
 * What every page of an interaction (/t/{slug}/interaction/{uid}…) shares: finding the
 * tenant, its provider and the interaction from the browser's interaction cookie, the CSRF
 * token bound to the interaction, the page headers, and the step that ends a sign-in (the
 * login result, stored on the interaction, and the browser sent back to the provider). The
 * password form (login/routes.ts) and federated sign-in (federation/) both end through here.
 */
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AppContext } from '../context.js';
import { type Messages, messagesFor } from '../i18n/catalog.js';
import { type Locale, requestLocale } from '../i18n/locales.js';
import { firstPartyGrant } from '../oidc/provider.js';
import { tenantNotFound } from '../oidc/routes.js';
import { sameText } from '../secret.js';
import { slugSchema, type Tenant } from '../tenants/service.js';
import { pageHeaders } from './pages.js';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** How the user proved who they are (RFC 8176): a password, or an upstream identity provider. */
export type Amr = 'pwd' | 'fed';

/** An interaction as a page has loaded it. */
export interface LoadedInteraction {
  tenant: Tenant;
  provider: Provider;
  details: Interaction;
  /** `/t/{slug}/interaction/{uid}`: where the interaction's pages live. */
  base: string;
  locale: Locale;
  m: Messages;
}

/**
 * The language of an interaction's pages: the authorization request's `ui_locales`, the
 * browser's Accept-Language, the tenant's default (i18n/locales.ts).
 */
export const localeOf = (req: FastifyRequest, tenant: Tenant, details?: Interaction): Locale =>
  requestLocale(tenant, req.headers, details?.params.ui_locales);

export type InteractionHelpers = ReturnType<typeof interactionHelpers>;

export function interactionHelpers(ctx: AppContext) {
  const csrfKey = ctx.secrets.derive('csrf/v1');
  const csrfFor = (tenant: Tenant, uid: string) =>
    createHmac('sha256', csrfKey).update(`${tenant.id}:${uid}`).digest('base64url');
  const csrfOk = (tenant: Tenant, uid: string, given: unknown) => sameText(csrfFor(tenant, uid), given);

  function page(reply: FastifyReply, status: number, body: string) {
    return reply.code(status).headers(pageHeaders).send(body);
  }

  /** The error page (Pages.error) with `status`, in the tenant's branding. */
  function errorPage(reply: FastifyReply, tenant: Tenant | undefined, locale: Locale, code: string, text: string) {
    return page(reply, 400, ctx.pages.error(tenant, locale, code, text));
  }

  /** 429 with Retry-After: this address tried too often; nothing was done. */
  function tooManyRequests(reply: FastifyReply, tenant: Tenant, locale: Locale, retryAfterSeconds: number) {
    reply.header('retry-after', String(retryAfterSeconds));
    return page(reply, 429, ctx.pages.tooManyRequests(tenant, locale, retryAfterSeconds));
  }

  /**
   * Resolves tenant, provider and the interaction from the request's cookie; the route's
   * `uid` must be the cookie's. Answers the request itself (404, 400) and returns undefined
   * when one of them is missing.
   */
  async function load(req: FastifyRequest, reply: FastifyReply): Promise<LoadedInteraction | undefined> {
    const { slug, uid } = req.params as { slug: string; uid: string };
    const tenant = slugSchema.safeParse(slug).success ? await ctx.tenants.findBySlug(slug) : undefined;
    if (!tenant) {
      tenantNotFound(reply, slug);
      return undefined;
    }
    const provider = await ctx.providers.get(tenant);
    let details: Interaction;
    try {
      details = await provider.interactionDetails(req.raw, reply.raw);
    } catch {
      const locale = localeOf(req, tenant);
      errorPage(reply, tenant, locale, 'session_expired', messagesFor(locale).problems.interactionExpired);
      return undefined;
    }
    const locale = localeOf(req, tenant, details);
    const m = messagesFor(locale);
    if (details.uid !== uid) {
      errorPage(reply, tenant, locale, 'invalid_request', m.problems.interactionMismatch);
      return undefined;
    }
    return { tenant, provider, details, base: `/t/${tenant.slug}/interaction/${uid}`, locale, m };
  }

  /**
   * Stores the interaction's result and sends the browser back to the provider. What
   * `provider.interactionResult` does, on the interaction this request already read.
   */
  async function finish(
    reply: FastifyReply,
    tenant: Tenant,
    details: Interaction,
    result: Parameters<Provider['interactionResult']>[2],
  ) {
    const ttl = details.exp - Math.floor(Date.now() / 1000);
    // Expired while this request ran (waiting for a password hash, say): as if not found.
    if (ttl <= 0) {
      const locale = localeOf(reply.request, tenant, details);
      return errorPage(reply, tenant, locale, 'session_expired', messagesFor(locale).problems.interactionExpired);
    }
    details.result = result;
    await details.save(ttl);
    return reply.code(303).header('cache-control', 'no-store').redirect(details.returnTo, 303);
  }

  /**
   * The result of a sign-in. For a first-party client the consent is given in the same step,
   * so the browser goes straight back to the application (no second interaction round).
   * `amr`: how the user proved who they are; `at`: when (ms), the session's sign-in time.
   */
  async function loginResult(
    provider: Provider,
    tenant: Tenant,
    details: Interaction,
    accountId: string,
    amr: Amr,
    at = Date.now(),
  ) {
    const login = { accountId, remember: true, ts: Math.floor(at / 1000), amr: [amr] };
    const client = await provider.Client.find(String(details.params.client_id ?? ''));
    const meta = client as unknown as Record<string, unknown> | undefined;
    if (!client || !meta?.['urn:latchkey:first_party']) return { login };
    const grant = await firstPartyGrant(provider, ctx.apis, tenant, {
      clientId: client.clientId,
      accountId,
      params: details.params,
      grantId: details.grantId,
      defaultResource: meta['urn:latchkey:default_resource'] as string | undefined,
    });
    return { login, consent: { grantId: grant.jti } };
  }

  return { csrfFor, csrfOk, page, errorPage, tooManyRequests, load, finish, loginResult };
}
