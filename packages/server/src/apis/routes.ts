import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { ifMatchVersions, setEtag } from '../http/concurrency.js';
import { errorResponses } from '../http/errors.js';
import { requireTenant, tenantOf } from '../http/guard.js';
import { slugSchema } from '../tenants/service.js';
import { apiIdSchema, apiSchema, createApiSchema, updateApiSchema } from './service.js';

const tags = ['APIs'];
const tenantParams = z.strictObject({ slug: slugSchema });
const apiParams = z.strictObject({ slug: slugSchema, id: apiIdSchema });

export function apiRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/tenants/:slug/apis',
      {
        config: { audit: 'api.create' },
        preHandler: requireTenant(ctx, 'apis:write'),
        schema: {
          tags,
          summary: 'Register an API (resource server)',
          params: tenantParams,
          body: createApiSchema,
          response: { 201: apiSchema, ...errorResponses(400, 401, 403, 404, 409, 413) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        const api = await ctx.apis.create(tenant, req.body, actorOf(req));
        setEtag(reply, api.version);
        return reply.code(201).send(api);
      },
    );

    app.get(
      '/tenants/:slug/apis',
      {
        preHandler: requireTenant(ctx, 'apis:read'),
        schema: {
          tags,
          summary: 'List APIs, the built-in admin API first (at most 101: no further pages)',
          params: tenantParams,
          querystring: z.strictObject({}),
          response: {
            200: z.object({ items: z.array(apiSchema), nextCursor: z.null() }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (req) => ({ items: await ctx.apis.list(tenantOf(req)), nextCursor: null }),
    );

    app.get(
      '/tenants/:slug/apis/:id',
      {
        preHandler: requireTenant(ctx, 'apis:read'),
        schema: {
          tags,
          summary: 'Get an API',
          params: apiParams,
          response: { 200: apiSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        const api = await ctx.apis.get(tenantOf(req), req.params.id);
        setEtag(reply, api.version);
        return api;
      },
    );

    app.patch(
      '/tenants/:slug/apis/:id',
      {
        config: { audit: 'api.update' },
        preHandler: requireTenant(ctx, 'apis:write'),
        schema: {
          tags,
          summary: 'Change an API; honours If-Match',
          params: apiParams,
          body: updateApiSchema,
          response: { 200: apiSchema, ...errorResponses(400, 401, 403, 404, 409, 412, 413) },
        },
      },
      async (req, reply) => {
        const api = await ctx.apis.update(tenantOf(req), req.params.id, req.body, ifMatchVersions(req), actorOf(req));
        setEtag(reply, api.version);
        return api;
      },
    );

    app.delete(
      '/tenants/:slug/apis/:id',
      {
        config: { audit: 'api.delete' },
        preHandler: requireTenant(ctx, 'apis:write'),
        schema: {
          tags,
          summary: 'Delete an API',
          params: apiParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req, reply) => {
        await ctx.apis.delete(tenantOf(req), req.params.id, ifMatchVersions(req), actorOf(req));
        return reply.code(204).send(null);
      },
    );
  };
}
