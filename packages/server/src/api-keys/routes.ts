import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { errorResponses } from '../http/errors.js';
import { principalOf, requireTenant, tenantOf } from '../http/guard.js';
import { pageSchema } from '../http/pagination.js';
import { slugSchema } from '../tenants/service.js';
import {
  apiKeyIdSchema,
  apiKeySchema,
  createApiKeySchema,
  createdApiKeySchema,
  listApiKeysQuerySchema,
} from './service.js';

const tags = ['API keys'];
const tenantParams = z.strictObject({ slug: slugSchema });
const keyParams = z.strictObject({ slug: slugSchema, id: apiKeyIdSchema });

export function apiKeyRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/tenants/:slug/api-keys',
      {
        config: { audit: 'api_key.create' },
        preHandler: requireTenant(ctx, 'api_keys:write'),
        schema: {
          tags,
          summary: 'Create an API key; the response carries the secret, shown this once',
          params: tenantParams,
          body: createApiKeySchema,
          response: { 201: createdApiKeySchema, ...errorResponses(400, 401, 403, 404, 413) },
        },
      },
      async (req, reply) => {
        const key = await ctx.apiKeys.create(tenantOf(req), req.body, principalOf(req), actorOf(req));
        reply.header('cache-control', 'no-store');
        return reply.code(201).send(key);
      },
    );

    app.get(
      '/tenants/:slug/api-keys',
      {
        preHandler: requireTenant(ctx, 'api_keys:read'),
        schema: {
          tags,
          summary: 'List API keys (never their secrets)',
          params: tenantParams,
          querystring: listApiKeysQuerySchema,
          response: { 200: pageSchema(apiKeySchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.apiKeys.list(tenantOf(req), req.query),
    );

    app.get(
      '/tenants/:slug/api-keys/:id',
      {
        preHandler: requireTenant(ctx, 'api_keys:read'),
        schema: {
          tags,
          summary: 'Get an API key (not its secret)',
          params: keyParams,
          response: { 200: apiKeySchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.apiKeys.get(tenantOf(req), req.params.id),
    );

    app.delete(
      '/tenants/:slug/api-keys/:id',
      {
        config: { audit: 'api_key.delete' },
        preHandler: requireTenant(ctx, 'api_keys:write'),
        schema: {
          tags,
          summary: 'Revoke an API key',
          params: keyParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req, reply) => {
        await ctx.apiKeys.delete(tenantOf(req), req.params.id, principalOf(req), actorOf(req));
        return reply.code(204).send(null);
      },
    );
  };
}
