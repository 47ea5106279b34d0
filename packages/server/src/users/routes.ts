import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import { assertMayGrant } from '../auth/grants.js';
import type { AppContext } from '../context.js';
import { ifMatchVersions, setEtag } from '../http/concurrency.js';
import { errorResponses } from '../http/errors.js';
import { principalOf, requireTenant, tenantOf } from '../http/guard.js';
import { pageSchema } from '../http/pagination.js';
import { slugSchema } from '../tenants/service.js';
import {
  createUserSchema,
  listUsersQuerySchema,
  setPasswordSchema,
  updateUserSchema,
  userIdSchema,
  userSchema,
} from './service.js';

const tags = ['Users'];
const tenantParams = z.strictObject({ slug: slugSchema });
const userParams = z.strictObject({ slug: slugSchema, id: userIdSchema });

/**
 * Acting on a user in a way that hands the caller their sign-in (setting the password or
 * email) or that acts against them (deleting, disabling or re-enabling them) needs every
 * right the user holds, as granting the user's roles would: else a `users:write` credential
 * could take over an admin, or lock out or delete one.
 */
export async function assertMayActOn(
  ctx: AppContext,
  req: FastifyRequest,
  userId: string,
  what: string,
): Promise<void> {
  const principal = principalOf(req);
  const tenant = tenantOf(req);
  const roles = await ctx.roles.grantsOf(ctx.database.db, tenant.id, { userId });
  assertMayGrant(principal, tenant.id, what, { roles });
}

/** What a PATCH changes that needs the user's rights: a new email, a new status (not the same value sent back). */
async function guardedChanges(
  ctx: AppContext,
  req: FastifyRequest,
  userId: string,
  body: { email?: string | undefined; status?: string | undefined },
): Promise<string | undefined> {
  if (body.email === undefined && body.status === undefined) return undefined;
  const current = await ctx.users.get(tenantOf(req), userId);
  if (body.email !== undefined && body.email !== current.email) return 'Setting this user’s email';
  if (body.status !== undefined && body.status !== current.status) {
    return body.status === 'disabled' ? 'Disabling this user' : 'Changing this user’s status';
  }
  return undefined;
}

export function userRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/tenants/:slug/users',
      {
        config: { audit: 'user.create' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Create a user, with or without a password',
          params: tenantParams,
          body: createUserSchema,
          response: { 201: userSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 429) },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        // With sendVerification, the verification message is queued in the user's transaction.
        const verify = req.body.sendVerification && !req.body.emailVerified;
        const user = await ctx.users.create(tenant, req.body, actorOf(req), 'user.create', {
          ...(verify ? { within: async (trx, row) => void (await ctx.verifications.queue(trx, tenant, row)) } : {}),
        });
        if (verify) ctx.emails.wake();
        setEtag(reply, user.version);
        reply.header('location', `/api/v1/tenants/${tenant.slug}/users/${user.id}`);
        return reply.code(201).send(user);
      },
    );

    app.get(
      '/tenants/:slug/users',
      {
        preHandler: requireTenant(ctx, 'users:read'),
        schema: {
          tags,
          summary: 'List users: search, filter, sort, page',
          params: tenantParams,
          querystring: listUsersQuerySchema,
          response: { 200: pageSchema(userSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.users.list(tenantOf(req), req.query),
    );

    app.get(
      '/tenants/:slug/users/:id',
      {
        preHandler: requireTenant(ctx, 'users:read'),
        schema: {
          tags,
          summary: 'Get a user',
          params: userParams,
          response: { 200: userSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        const user = await ctx.users.get(tenantOf(req), req.params.id);
        setEtag(reply, user.version);
        return user;
      },
    );

    app.patch(
      '/tenants/:slug/users/:id',
      {
        config: { audit: 'user.update' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Change a user (profile, status, attributes); honours If-Match',
          params: userParams,
          body: updateUserSchema,
          response: { 200: userSchema, ...errorResponses(400, 401, 403, 404, 409, 412, 413) },
        },
      },
      async (req, reply) => {
        const guarded = await guardedChanges(ctx, req, req.params.id, req.body);
        if (guarded) await assertMayActOn(ctx, req, req.params.id, guarded);
        const user = await ctx.users.update(
          tenantOf(req),
          req.params.id,
          req.body,
          ifMatchVersions(req),
          principalOf(req),
          actorOf(req),
        );
        setEtag(reply, user.version);
        return user;
      },
    );

    app.delete(
      '/tenants/:slug/users/:id',
      {
        config: { audit: 'user.delete' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Delete a user; honours If-Match',
          params: userParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409, 412) },
        },
      },
      async (req, reply) => {
        await assertMayActOn(ctx, req, req.params.id, 'Deleting this user');
        await ctx.users.delete(tenantOf(req), req.params.id, ifMatchVersions(req), principalOf(req), actorOf(req));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/tenants/:slug/users/:id/password',
      {
        config: { audit: 'user.password.set' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Set a user’s password (checked against the tenant’s policy)',
          params: userParams,
          body: setPasswordSchema,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 413, 429) },
        },
      },
      async (req, reply) => {
        await assertMayActOn(ctx, req, req.params.id, 'Setting this user’s password');
        await ctx.users.setPassword(tenantOf(req), req.params.id, req.body.password, actorOf(req));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/tenants/:slug/users/:id/verification',
      {
        config: { audit: 'user.verification.send' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Send a user a message that verifies their email',
          description:
            'A link to the user’s own address (the outbox: `GET …/emails`), never returned; using it sets `emailVerified` (and activates a `pending` account).',
          params: userParams,
          response: {
            202: z.object({ emailId: z.string().describe('The message in the outbox') }),
            ...errorResponses(401, 403, 404, 409),
          },
        },
      },
      async (req, reply) => {
        const emailId = await ctx.verifications.send(tenantOf(req), req.params.id, actorOf(req));
        return reply.code(202).send({ emailId });
      },
    );

    app.post(
      '/tenants/:slug/users/:id/password-reset',
      {
        config: { audit: 'user.password_reset.send' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Send a user a password reset link',
          description:
            'The link goes to the user’s own address (the outbox: `GET …/emails`) and is never returned: the caller learns only that it was queued.',
          params: userParams,
          response: {
            202: z.object({ emailId: z.string().describe('The message in the outbox') }),
            ...errorResponses(401, 403, 404, 409),
          },
        },
      },
      async (req, reply) => {
        const emailId = await ctx.resets.sendByAdmin(tenantOf(req), req.params.id, actorOf(req));
        return reply.code(202).send({ emailId });
      },
    );
  };
}
