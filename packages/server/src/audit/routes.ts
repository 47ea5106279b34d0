import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { errorResponses } from '../http/errors.js';
import { requireTenant, tenantOf } from '../http/guard.js';
import { pageSchema } from '../http/pagination.js';
import { slugSchema } from '../tenants/service.js';
import { auditEventSchema, auditQuerySchema } from './service.js';

export function auditRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/tenants/:slug/audit-events',
      {
        preHandler: requireTenant(ctx, 'audit:read'),
        schema: {
          tags: ['Audit log'],
          summary: 'Audit events of a tenant, newest first',
          params: z.strictObject({ slug: slugSchema }),
          querystring: auditQuerySchema,
          response: { 200: pageSchema(auditEventSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.audit.list(tenantOf(req), req.query),
    );
  };
}
