import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { errorResponses } from '../http/errors.js';
import { requireTenant, tenantOf } from '../http/guard.js';
import { slugSchema } from '../tenants/service.js';
import { signingKeySchema } from './service.js';

const tags = ['Signing keys'];
const tenantParams = z.strictObject({ slug: slugSchema });
const keyList = z.object({ items: z.array(signingKeySchema), nextCursor: z.null() });

export function keyRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/tenants/:slug/keys',
      {
        preHandler: requireTenant(ctx, 'keys:read'),
        schema: {
          tags,
          summary: 'The tenant’s signing keys (public parts only): next, current and previous',
          params: tenantParams,
          response: { 200: keyList, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => {
        return { items: await ctx.keys.list(tenantOf(req)), nextCursor: null };
      },
    );

    app.post(
      '/tenants/:slug/keys/rotate',
      {
        config: { audit: 'keys.rotate' },
        preHandler: requireTenant(ctx, 'keys:write'),
        schema: {
          tags,
          summary: 'Rotate: the published next key starts signing; the old one stays published until its tokens expire',
          params: tenantParams,
          response: { 200: keyList, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => {
        const tenant = tenantOf(req);
        await ctx.keys.rotate(tenant, actorOf(req));
        return { items: await ctx.keys.list(tenant), nextCursor: null };
      },
    );
  };
}
