import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { errorResponses } from '../http/errors.js';
import { requireTenant, tenantOf } from '../http/guard.js';
import { pageSchema } from '../http/pagination.js';
import { slugSchema } from '../tenants/service.js';
import { emailQuerySchema, emailSchema } from './outbox.js';

export function emailRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/tenants/:slug/emails',
      {
        preHandler: requireTenant(ctx, 'emails:read'),
        schema: {
          tags: ['Emails'],
          summary: 'Messages of a tenant in the outbox, newest first',
          description:
            'Each message with its delivery status. Never its links, but for system admins while nothing is sent (no `SMTP_URL`): then the whole message, so that a developer can follow every flow.',
          params: z.strictObject({ slug: slugSchema }),
          querystring: emailQuerySchema,
          response: { 200: pageSchema(emailSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.emails.list(tenantOf(req).id, req.query, req.principal?.systemAdmin === true),
    );
  };
}
