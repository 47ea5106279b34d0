/**
 * Sign-in through a `saml` identity provider (docs/federation-saml.md), beside the OpenID
 * Connect routes of federation/sign-in.ts, into the same linking, sign-up and sign-in pages:
 * - the start (`GET /t/{slug}/interaction/{uid}/federated/{idp}` of a saml provider): a signed
 *   AuthnRequest; its ID is kept twice, in a `saml_requests` row (consumed once) and in the
 *   sealed single-use flow cookie `lk_fed_saml` bound to this browser and interaction;
 * - `POST /t/{slug}/federation/{idp}/saml/acs`: the IdP's Response, checked by the service
 *   provider (signature, audience, time, issuer, Destination and Recipient, InResponseTo the
 *   cookie's request ID), its request consumed, and whom it vouches for (the NameID as the
 *   subject, the attributes as the provider maps them) sealed for the interaction's pages;
 * - `GET /t/{slug}/federation/{idp}/saml/metadata`: the SP metadata the IdP's admin imports.
 * Every refusal is a 400 page naming the `saml_…` code, never a 500.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../../audit/service.js';
import type { AppContext } from '../../context.js';
import { messagesFor } from '../../i18n/catalog.js';
import type { Locale } from '../../i18n/locales.js';
import { type InteractionHelpers, localeOf } from '../../login/interaction.js';
import { tenantNotFound } from '../../oidc/routes.js';
import { slugSchema, type Tenant } from '../../tenants/service.js';
import { FLOW_SECONDS, type FlowCookies, type FlowUser, flowReturn } from '../flow-cookie.js';
import { defaultClaims } from '../schemas.js';
import type { IdentityProvider } from '../store.js';
import { mapSamlAttributes, type SamlAttributeSettings } from './attributes.js';
import { samlIdpOf, samlPaths, serviceProviderOptions, spUrls } from './config.js';
import { SamlError, type SamlErrorCode } from './errors.js';
import { maxResponseChars, type SamlAssertion, SamlServiceProvider } from './service-provider.js';

const transientFormat = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

/** The codes of a refused sign-in beside the service provider's own. */
type Refusal = SamlErrorCode | 'saml_flow_expired' | 'saml_request_used' | 'saml_transient_name_id';

/**
 * The attribute names a provider's `claims` give (its email, name and roles claims): the
 * OpenID Connect defaults (`email`, `name`) mean SAML's own lists of usual names
 * (saml/attributes.ts); any other name replaces the list; `roles` null: the usual group
 * attributes.
 */
export function samlAttributeSettings(idp: IdentityProvider): SamlAttributeSettings {
  const { claims } = idp;
  return {
    ...(claims.email === defaultClaims.email ? {} : { email: claims.email }),
    ...(claims.name === defaultClaims.name ? {} : { name: claims.name }),
    ...(claims.roles === null ? {} : { groups: claims.roles }),
    emailVerified: idp.saml?.emailVerified === true,
  };
}

export function samlSignIn(ctx: AppContext, h: InteractionHelpers, cookies: FlowCookies) {
  const db = ctx.database.db;

  const refused = (reply: FastifyReply, tenant: Tenant, locale: Locale, code: Refusal | 'notFound', status = 400) => {
    const m = messagesFor(locale).federation;
    const text =
      code === 'notFound'
        ? m.notFound
        : code === 'saml_flow_expired'
          ? m.expired
          : code === 'saml_metadata_unreachable'
            ? m.unavailable
            : m.failed;
    return h.page(reply, status, ctx.pages.error(tenant, locale, code === 'notFound' ? 'not_found' : code, text));
  };

  /** The tenant's saml provider `idpSlug` (enabled, unless `anyState`), or undefined. */
  async function samlProvider(tenant: Tenant, idpSlug: string, anyState = false) {
    if (!/^[a-z0-9-]{1,40}$/.test(idpSlug)) return undefined;
    const idp = await ctx.identityProviders.findBySlug(tenant, idpSlug);
    return idp?.kind === 'saml' && (anyState || idp.enabled) ? idp : undefined;
  }

  /** The service provider towards this IdP, from the provider's row and its sealed credentials. */
  async function serviceProvider(tenant: Tenant, idp: IdentityProvider): Promise<SamlServiceProvider> {
    const row = await ctx.identityProviders.row(db, tenant, idp.id);
    const samlIdp = samlIdpOf(row);
    const { spCredentials } = await ctx.identityProviders.secrets(tenant, idp.id);
    if (!samlIdp || !spCredentials) throw new Error(`identity provider ${idp.id} has no SAML settings`);
    return new SamlServiceProvider(
      serviceProviderOptions(samlIdp, spCredentials, spUrls(ctx.config.publicUrl, tenant.slug, idp.slug)),
    );
  }

  /** Whom a checked assertion vouches for, by the provider's attribute settings; upstream groups only those it maps. */
  function flowUser(tenant: Tenant, idp: IdentityProvider, uid: string, assertion: SamlAssertion): FlowUser {
    const profile = mapSamlAttributes(assertion, samlAttributeSettings(idp));
    const mapped = new Set(idp.roleMappings.map((m) => m.upstream));
    return {
      tenantId: tenant.id,
      providerId: idp.id,
      uid,
      subject: assertion.nameId,
      email: profile.email,
      emailVerified: profile.emailVerified,
      name: profile.name,
      // With role mappings, the groups (of claims.roles, else the usual group attributes) decide them.
      roles: idp.roleMappings.length === 0 ? null : profile.groups.filter((g) => mapped.has(g)),
    };
  }

  /** The AuthnRequest's row, consumed by the one Response that answers it (a replay finds it used). */
  async function consume(tenant: Tenant, idp: IdentityProvider, requestId: string, uid: string): Promise<boolean> {
    const now = Date.now();
    const res = await db
      .updateTable('saml_requests')
      .set({ consumed_at: now })
      .where('id', '=', requestId)
      .where('provider_id', '=', idp.id)
      .where('tenant_id', '=', tenant.id)
      .where('uid', '=', uid)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return res.numUpdatedRows === 1n;
  }

  async function auditRefusal(req: FastifyRequest, tenant: Tenant, idp: IdentityProvider, reason: Refusal) {
    ctx.metrics?.federatedSignIn('saml', reason === 'saml_flow_expired' ? 'expired' : 'failed');
    await ctx.audit.record(db, actorOf(req), {
      tenantId: tenant.id,
      action: 'user.sign_in.federated',
      outcome: 'failure',
      details: { provider: idp.slug, reason },
    });
  }

  return {
    /** The start of a sign-in at a saml provider: 303 to its SSO URL with a signed AuthnRequest; `uid` as in flowReturn. */
    async start(
      req: FastifyRequest,
      reply: FastifyReply,
      tenant: Tenant,
      locale: Locale,
      idp: IdentityProvider,
      uid: string,
    ) {
      let url: string;
      let requestId: string;
      try {
        ({ url, requestId } = await (await serviceProvider(tenant, idp)).authorizeUrl());
      } catch (err) {
        req.log.error({ err, provider: idp.slug }, 'SAML identity provider not usable');
        return refused(reply, tenant, locale, 'saml_response_invalid');
      }
      const now = Date.now();
      // The requests of sign-ins nobody finished, gone with the first start after they expire.
      await db.deleteFrom('saml_requests').where('expires_at', '<', now).execute();
      await db
        .insertInto('saml_requests')
        .values({
          id: requestId,
          tenant_id: tenant.id,
          provider_id: idp.id,
          uid,
          expires_at: now + FLOW_SECONDS * 1000,
          consumed_at: null,
        })
        .execute();
      cookies.setSamlStart(reply, samlPaths(tenant.slug, idp.slug).acs, {
        tenantId: tenant.id,
        providerId: idp.id,
        uid,
        requestId,
      });
      return reply.code(303).header('cache-control', 'no-store').redirect(url, 303);
    },

    register(app: FastifyInstance) {
      app.get('/t/:slug/federation/:idp/saml/metadata', async (req, reply) => {
        const { slug, idp: idpSlug } = req.params as { slug: string; idp: string };
        const tenant = slugSchema.safeParse(slug).success ? await ctx.tenants.findBySlug(slug) : undefined;
        if (!tenant) return tenantNotFound(reply, slug);
        // A disabled provider's too: the IdP's admin registers it before it is turned on.
        const idp = await samlProvider(tenant, idpSlug, true);
        if (!idp) return refused(reply, tenant, localeOf(req, tenant), 'notFound', 404);
        const xml = (await serviceProvider(tenant, idp)).metadata();
        return reply
          .code(200)
          .header('content-type', 'application/samlmetadata+xml; charset=utf-8')
          .header('cache-control', 'public, max-age=300')
          .header('content-disposition', `inline; filename="${tenant.slug}-${idp.slug}-sp-metadata.xml"`)
          .send(xml);
      });

      app.post(
        '/t/:slug/federation/:idp/saml/acs',
        // A Response with its certificates and attributes is larger than a sign-in form.
        { bodyLimit: maxResponseChars + 16 * 1024 },
        async (req, reply) => {
          const { slug, idp: idpSlug } = req.params as { slug: string; idp: string };
          const tenant = slugSchema.safeParse(slug).success ? await ctx.tenants.findBySlug(slug) : undefined;
          if (!tenant) return tenantNotFound(reply, slug);
          const locale = localeOf(req, tenant);
          const idp = await samlProvider(tenant, idpSlug);
          if (!idp) return refused(reply, tenant, locale, 'notFound', 404);
          // Read once: a second post in this browser finds no cookie.
          const start = cookies.takeSamlStart(req, reply, samlPaths(tenant.slug, idp.slug).acs);
          if (start?.tenantId !== tenant.id || start.providerId !== idp.id) {
            await auditRefusal(req, tenant, idp, 'saml_flow_expired');
            return refused(reply, tenant, locale, 'saml_flow_expired');
          }
          const body = (req.body ?? {}) as { SAMLResponse?: unknown; RelayState?: unknown };
          let assertion: SamlAssertion;
          try {
            const sp = await serviceProvider(tenant, idp);
            assertion = await sp.validatePostResponse(body, { expectedRequestId: start.requestId });
          } catch (err) {
            const code: SamlErrorCode = err instanceof SamlError ? err.code : 'saml_response_invalid';
            req.log.info({ err, provider: idp.slug, code }, 'SAML sign-in refused');
            await auditRefusal(req, tenant, idp, code);
            return refused(reply, tenant, locale, code);
          }
          // A transient NameID is another subject at each sign-in: no one could ever sign in again.
          if (assertion.nameIdFormat === transientFormat) {
            await auditRefusal(req, tenant, idp, 'saml_transient_name_id');
            return refused(reply, tenant, locale, 'saml_transient_name_id');
          }
          if (!(await consume(tenant, idp, start.requestId, start.uid))) {
            await auditRefusal(req, tenant, idp, 'saml_request_used');
            return refused(reply, tenant, locale, 'saml_request_used');
          }
          const { base, next } = flowReturn(tenant.slug, start.uid);
          cookies.setUser(reply, base, flowUser(tenant, idp, start.uid, assertion));
          return reply.code(303).header('cache-control', 'no-store').redirect(next, 303);
        },
      );
    },
  };
}
