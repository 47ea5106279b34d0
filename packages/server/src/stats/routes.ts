/**
 * Numbers for the console's overview: users, active sessions, and sign-ins and failures over
 * the last 24 hours (from the audit log), hour by hour.
 */
import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { errorResponses } from '../http/errors.js';
import { requireTenant, tenantOf } from '../http/guard.js';
import { slugSchema } from '../tenants/service.js';

const HOUR = 3_600_000;

export const statsSchema = z
  .object({
    users: z.number().int(),
    activeSessions: z.number().int(),
    signIns24h: z.number().int(),
    failures24h: z.number().int(),
    series: z.array(z.object({ hour: z.string(), signIns: z.number().int(), failures: z.number().int() })),
  })
  .meta({ id: 'TenantStats' });

export function statsRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/tenants/:slug/stats',
      {
        preHandler: requireTenant(ctx, 'tenant:read'),
        schema: {
          tags: ['Tenants'],
          summary: 'Users, active sessions, and sign-ins and failures in the last 24 hours (hourly)',
          params: z.strictObject({ slug: slugSchema }),
          response: { 200: statsSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => {
        const tenant = tenantOf(req);
        const { db } = ctx.database;
        const now = Date.now();
        const firstHour = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
        const [users, sessions, buckets] = await Promise.all([
          db
            .selectFrom('users')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('tenant_id', '=', tenant.id)
            .executeTakeFirstOrThrow(),
          db
            .selectFrom('oidc_payloads')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('tenant_id', '=', tenant.id)
            .where('model', '=', 'Session')
            .where('expires_at', '>', now)
            .executeTakeFirstOrThrow(),
          db
            .selectFrom('audit_events')
            .select([
              sql<number>`occurred_at / ${sql.lit(HOUR)}`.as('bucket'),
              'outcome',
              (eb) => eb.fn.countAll<number>().as('n'),
            ])
            .where('tenant_id', '=', tenant.id)
            .where('action', '=', 'login.password')
            .where('occurred_at', '>=', firstHour)
            .groupBy([sql`occurred_at / ${sql.lit(HOUR)}`, 'outcome'])
            .execute(),
        ]);
        const series = Array.from({ length: 24 }, (_, i) => ({
          hour: new Date(firstHour + i * HOUR).toISOString(),
          signIns: 0,
          failures: 0,
        }));
        for (const b of buckets) {
          const slot = series[Number(b.bucket) - firstHour / HOUR];
          if (!slot) continue;
          if (b.outcome === 'success') slot.signIns += Number(b.n);
          else slot.failures += Number(b.n);
        }
        return {
          users: Number(users.n),
          activeSessions: Number(sessions.n),
          signIns24h: series.reduce((a, s) => a + s.signIns, 0),
          failures24h: series.reduce((a, s) => a + s.failures, 0),
          series,
        };
      },
    );
  };
}
