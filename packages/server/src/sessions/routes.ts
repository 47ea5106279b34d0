import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { errorResponses } from '../http/errors.js';
import { requireTenant, tenantOf } from '../http/guard.js';
import { slugSchema } from '../tenants/service.js';
import { userIdSchema } from '../users/service.js';
import { endUserSessions, listSessions, sessionSchema } from './service.js';

const tags = ['Users'];
const params = z.strictObject({ slug: slugSchema, id: userIdSchema });

export function sessionRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/tenants/:slug/users/:id/sessions',
      {
        preHandler: requireTenant(ctx, 'users:read'),
        schema: {
          tags,
          summary: 'A user’s active sign-in sessions',
          params,
          response: {
            200: z.object({ items: z.array(sessionSchema), nextCursor: z.null() }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (req) => {
        const tenant = tenantOf(req);
        await ctx.users.get(tenant, req.params.id);
        return { items: await listSessions(ctx.database.db, tenant.id, req.params.id), nextCursor: null };
      },
    );

    app.delete(
      '/tenants/:slug/users/:id/sessions',
      {
        config: { audit: 'user.sessions.end' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'End all of a user’s sessions and revoke their refresh tokens',
          params,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        await ctx.users.get(tenant, req.params.id);
        await ctx.database.db.transaction().execute(async (trx) => {
          const ended = await endUserSessions(trx, tenant.id, req.params.id);
          await ctx.audit.record(trx, actorOf(req), {
            tenantId: tenant.id,
            action: 'user.sessions.end',
            target: { type: 'user', id: req.params.id },
            details: { sessions: ended },
          });
        });
        return reply.code(204).send(null);
      },
    );
  };
}
