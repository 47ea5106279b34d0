/** Routes of roles and of granting them to users; the rules live in the service. */
import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { ifMatchVersions, setEtag } from '../http/concurrency.js';
import { errorResponses } from '../http/errors.js';
import { principalOf, requireTenant, tenantOf } from '../http/guard.js';
import { pageSchema } from '../http/pagination.js';
import { slugSchema } from '../tenants/service.js';
import { userIdSchema } from '../users/service.js';
import {
  createRoleSchema,
  listRolesQuerySchema,
  roleNameSchema,
  roleSchema,
  roleView,
  updateRoleSchema,
} from './service.js';

const tags = ['Roles'];
const tenantParams = z.strictObject({ slug: slugSchema });
const roleParams = z.strictObject({ slug: slugSchema, name: roleNameSchema });
const grantParams = z.strictObject({ slug: slugSchema, id: userIdSchema, name: roleNameSchema });

export function roleRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/tenants/:slug/roles',
      {
        config: { audit: 'role.create' },
        preHandler: requireTenant(ctx, 'roles:write'),
        schema: {
          tags,
          summary: 'Create a role; needs every right it carries',
          params: tenantParams,
          body: createRoleSchema,
          response: { 201: roleSchema, ...errorResponses(400, 401, 403, 404, 409, 413) },
        },
      },
      async (req, reply) => {
        const role = await ctx.roles.create(tenantOf(req), req.body, principalOf(req), actorOf(req));
        setEtag(reply, role.version);
        return reply.code(201).send(roleView(role));
      },
    );

    app.get(
      '/tenants/:slug/roles',
      {
        preHandler: requireTenant(ctx, 'roles:read'),
        schema: {
          tags,
          summary: 'List roles',
          params: tenantParams,
          querystring: listRolesQuerySchema,
          response: { 200: pageSchema(roleSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.roles.list(tenantOf(req), req.query),
    );

    app.get(
      '/tenants/:slug/roles/:name',
      {
        preHandler: requireTenant(ctx, 'roles:read'),
        schema: {
          tags,
          summary: 'Get a role',
          params: roleParams,
          response: { 200: roleSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        const role = await ctx.roles.get(tenantOf(req), req.params.name);
        setEtag(reply, role.version);
        return roleView(role);
      },
    );

    app.patch(
      '/tenants/:slug/roles/:name',
      {
        config: { audit: 'role.update' },
        preHandler: requireTenant(ctx, 'roles:write'),
        schema: {
          tags,
          summary:
            'Change a role’s description and rights (not its name); needs its rights before and after; honours If-Match',
          params: roleParams,
          body: updateRoleSchema,
          response: { 200: roleSchema, ...errorResponses(400, 401, 403, 404, 409, 412, 413) },
        },
      },
      async (req, reply) => {
        const role = await ctx.roles.update(
          tenantOf(req),
          req.params.name,
          req.body,
          ifMatchVersions(req),
          principalOf(req),
          actorOf(req),
        );
        setEtag(reply, role.version);
        return roleView(role);
      },
    );

    app.delete(
      '/tenants/:slug/roles/:name',
      {
        config: { audit: 'role.delete' },
        preHandler: requireTenant(ctx, 'roles:write'),
        schema: {
          tags,
          summary: 'Delete a role (not a built-in one); holders lose it',
          params: roleParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req, reply) => {
        await ctx.roles.delete(tenantOf(req), req.params.name, actorOf(req));
        return reply.code(204).send(null);
      },
    );

    app.put(
      '/tenants/:slug/users/:id/roles/:name',
      {
        config: { audit: 'user.role.grant' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Grant a role to a user (idempotent); needs every permission the role carries',
          params: grantParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        await ctx.roles.grant(tenantOf(req), req.params.id, req.params.name, principalOf(req), actorOf(req));
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/tenants/:slug/users/:id/roles/:name',
      {
        config: { audit: 'user.role.revoke' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Remove a role from a user',
          params: grantParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req, reply) => {
        await ctx.roles.revoke(tenantOf(req), req.params.id, req.params.name, principalOf(req), actorOf(req));
        return reply.code(204).send(null);
      },
    );
  };
}
