import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { ifMatchVersions, setEtag } from '../http/concurrency.js';
import { errorResponses } from '../http/errors.js';
import { principalOf, requireTenant, tenantOf } from '../http/guard.js';
import { pageSchema } from '../http/pagination.js';
import { slugSchema } from '../tenants/service.js';
import {
  clientIdSchema,
  clientSchema,
  clientView,
  clientWithSecretSchema,
  createClientSchema,
  listClientsQuerySchema,
  updateClientSchema,
} from './service.js';

const tags = ['Applications'];
const tenantParams = z.strictObject({ slug: slugSchema });
const clientParams = z.strictObject({ slug: slugSchema, id: clientIdSchema });
const created = z.union([clientWithSecretSchema, clientSchema]);

export function clientRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/tenants/:slug/clients',
      {
        config: { audit: 'client.create' },
        preHandler: requireTenant(ctx, 'clients:write'),
        schema: {
          tags,
          summary: 'Register an application; confidential kinds get a clientSecret, shown this once',
          params: tenantParams,
          body: createClientSchema,
          response: { 201: created, ...errorResponses(400, 401, 403, 404, 409, 413) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        const client = await ctx.clients.create(tenant, req.body, principalOf(req), actorOf(req));
        setEtag(reply, client.version);
        reply.header('cache-control', 'no-store');
        reply.header('location', `/api/v1/tenants/${tenant.slug}/clients/${client.id}`);
        return reply.code(201).send(client);
      },
    );

    app.get(
      '/tenants/:slug/clients',
      {
        preHandler: requireTenant(ctx, 'clients:read'),
        schema: {
          tags,
          summary: 'List applications',
          params: tenantParams,
          querystring: listClientsQuerySchema,
          response: { 200: pageSchema(clientSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.clients.list(tenantOf(req), req.query),
    );

    app.get(
      '/tenants/:slug/clients/:id',
      {
        preHandler: requireTenant(ctx, 'clients:read'),
        schema: {
          tags,
          summary: 'Get an application (never its secret)',
          params: clientParams,
          response: { 200: clientSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        const client = await ctx.clients.get(tenantOf(req), req.params.id);
        setEtag(reply, client.version);
        return clientView(client);
      },
    );

    app.patch(
      '/tenants/:slug/clients/:id',
      {
        config: { audit: 'client.update' },
        preHandler: requireTenant(ctx, 'clients:write'),
        schema: {
          tags,
          summary: 'Change an application; honours If-Match',
          params: clientParams,
          body: updateClientSchema,
          response: { 200: clientSchema, ...errorResponses(400, 401, 403, 404, 412, 413) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        const client = await ctx.clients.update(
          tenant,
          req.params.id,
          req.body,
          ifMatchVersions(req),
          principalOf(req),
          actorOf(req),
        );
        setEtag(reply, client.version);
        return client;
      },
    );

    app.post(
      '/tenants/:slug/clients/:id/secret',
      {
        config: { audit: 'client.secret.rotate' },
        preHandler: requireTenant(ctx, 'clients:write'),
        schema: {
          tags,
          summary:
            'Replace a confidential application’s secret (needs all it could obtain); the new one is shown this once',
          params: clientParams,
          response: { 200: clientWithSecretSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        const client = await ctx.clients.rotateSecret(tenant, req.params.id, principalOf(req), actorOf(req));
        reply.header('cache-control', 'no-store');
        return client;
      },
    );

    app.delete(
      '/tenants/:slug/clients/:id',
      {
        config: { audit: 'client.delete' },
        preHandler: requireTenant(ctx, 'clients:write'),
        schema: {
          tags,
          summary: 'Delete an application and the grants and tokens it holds',
          params: clientParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        await ctx.clients.delete(tenant, req.params.id, ifMatchVersions(req), actorOf(req));
        return reply.code(204).send(null);
      },
    );
  };
}
