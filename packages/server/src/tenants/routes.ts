import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { ifMatchVersions, setEtag } from '../http/concurrency.js';
import { errorResponses } from '../http/errors.js';
import { principalOf, requireSystemAdmin, requireTenant, tenantOf } from '../http/guard.js';
import { pageSchema } from '../http/pagination.js';
import { supportedLocales } from '../i18n/locales.js';
import {
  createTenantSchema,
  listTenantsQuerySchema,
  slugSchema,
  tenantSchema,
  tenantView,
  updateTenantSchema,
} from './service.js';
import { tenantSettingsPatchSchema } from './settings.js';

const tags = ['Tenants'];
const slugParams = z.strictObject({ slug: slugSchema });
const brandingPreviewSchema = z.strictObject({
  displayName: z.string().trim().min(1).max(200).optional(),
  branding: tenantSettingsPatchSchema.shape.branding.unwrap().default({}),
  locale: z.enum(supportedLocales).optional().describe("The page's language (default: the tenant's defaultLocale)"),
});

export function tenantRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/tenants',
      {
        config: { audit: 'tenant.create' },
        preHandler: requireSystemAdmin,
        schema: {
          tags,
          summary: 'Create a tenant (system:admin)',
          body: createTenantSchema,
          response: { 201: tenantSchema, ...errorResponses(400, 401, 403, 409, 413) },
        },
      },
      async (req, reply) => {
        const principal = principalOf(req);
        const tenant = await ctx.tenants.create(req.body, actorOf(req), principal.tenantId);
        setEtag(reply, tenant.version);
        reply.header('location', `/api/v1/tenants/${tenant.slug}`);
        return reply.code(201).send(tenantView(tenant));
      },
    );

    app.get(
      '/tenants',
      {
        schema: {
          tags,
          summary: 'List the tenants the caller may see',
          querystring: listTenantsQuerySchema,
          response: { 200: pageSchema(tenantSchema), ...errorResponses(400, 401) },
        },
      },
      async (req) => ctx.tenants.list(principalOf(req), req.query),
    );

    app.get(
      '/tenants/:slug',
      {
        preHandler: requireTenant(ctx, 'tenant:read'),
        schema: {
          tags,
          summary: 'Get a tenant',
          params: slugParams,
          response: { 200: tenantSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        setEtag(reply, tenant.version);
        return tenantView(tenant);
      },
    );

    app.patch(
      '/tenants/:slug',
      {
        config: { audit: 'tenant.update' },
        preHandler: requireTenant(ctx, 'tenant:write'),
        schema: {
          tags,
          summary: 'Change a tenant’s display name or settings (nested groups are merged)',
          params: slugParams,
          body: updateTenantSchema,
          response: { 200: tenantSchema, ...errorResponses(400, 401, 403, 404, 412, 413) },
        },
      },
      async (req, reply) => {
        const tenant = await ctx.tenants.update(tenantOf(req), req.body, ifMatchVersions(req), actorOf(req));
        setEtag(reply, tenant.version);
        return tenantView(tenant);
      },
    );

    app.post(
      '/tenants/:slug/branding-preview',
      {
        preHandler: requireTenant(ctx, 'tenant:read'),
        schema: {
          tags,
          summary: 'The sign-in page as it would look with this branding (HTML, for a sandboxed preview)',
          params: slugParams,
          body: brandingPreviewSchema,
          response: { 200: z.string(), ...errorResponses(400, 401, 403, 404, 413) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        const preview = {
          ...tenant,
          displayName: req.body.displayName ?? tenant.displayName,
          settings: { ...tenant.settings, branding: { ...tenant.settings.branding, ...req.body.branding } },
        };
        const html = ctx.pages.login(preview, req.body.locale ?? tenant.settings.defaultLocale, {
          action: '#',
          csrf: 'preview',
          clientName: 'Your application',
          abortUrl: '#',
          registerUrl: tenant.settings.selfRegistration ? '#' : undefined,
        });
        return reply
          .type('text/html; charset=utf-8')
          .header(
            'content-security-policy',
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:",
          )
          .send(html);
      },
    );

    app.delete(
      '/tenants/:slug',
      {
        config: { audit: 'tenant.delete' },
        preHandler: [requireTenant(ctx, 'tenant:write'), requireSystemAdmin],
        schema: {
          tags,
          summary: 'Delete a tenant and all of its data (system:admin)',
          params: slugParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req, reply) => {
        await ctx.tenants.delete(tenantOf(req), ifMatchVersions(req), actorOf(req), principalOf(req).tenantId);
        return reply.code(204).send(null);
      },
    );
  };
}
