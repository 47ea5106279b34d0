/**
 * Routes of a tenant's identity providers and of users' identities at them (issue 13); the
 * rules (the grant rule, domains, secrets sealed, the last way to sign in) live in store.ts.
 */
import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { ifMatchVersions, setEtag } from '../http/concurrency.js';
import { errorResponses } from '../http/errors.js';
import { principalOf, requireTenant, tenantOf } from '../http/guard.js';
import { slugSchema } from '../tenants/service.js';
import { assertMayActOn } from '../users/routes.js';
import { userIdSchema } from '../users/service.js';
import {
  createIdentityProviderSchema,
  identityIdSchema,
  identityProviderIdSchema,
  identityProviderSchema,
  updateIdentityProviderSchema,
  userIdentitySchema,
} from './schemas.js';

const tags = ['Identity providers'];
const tenantParams = z.strictObject({ slug: slugSchema });
const providerParams = z.strictObject({ slug: slugSchema, id: identityProviderIdSchema });
const userParams = z.strictObject({ slug: slugSchema, id: userIdSchema });
const identityParams = z.strictObject({ slug: slugSchema, id: userIdSchema, identityId: identityIdSchema });

const grantNote =
  'Setting `trustEmails` or `allowLink` (they let the provider sign in as the tenant’s users) needs tenant-wide reach (`tenant:admin`); each role in `roleMappings` needs the caller to hold it.';

export function federationRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/tenants/:slug/identity-providers',
      {
        config: { audit: 'identity_provider.create' },
        preHandler: requireTenant(ctx, 'identity_providers:write'),
        schema: {
          tags,
          summary:
            'Add an upstream identity provider (OpenID Connect; google, microsoft, apple; github, facebook; another tenant: latchkey)',
          description: `\`clientSecret\`, \`privateKeyJwk\` and Apple's \`appleTeamId\`, \`appleKeyId\`, \`applePrivateKey\` are write-only: sealed with the instance secret, never returned. ${grantNote} A \`latchkey\` provider registers a first-party client in the tenant it names, which needs tenant-wide reach there (403 otherwise, whether or not it exists); deleting the provider deletes that client.`,
          params: tenantParams,
          body: createIdentityProviderSchema,
          response: { 201: identityProviderSchema, ...errorResponses(400, 401, 403, 404, 409, 413) },
        },
      },
      async (req, reply) => {
        const idp = await ctx.identityProviders.create(tenantOf(req), req.body, principalOf(req), actorOf(req));
        setEtag(reply, idp.version);
        return reply.code(201).send(idp);
      },
    );

    app.get(
      '/tenants/:slug/identity-providers',
      {
        preHandler: requireTenant(ctx, 'identity_providers:read'),
        schema: {
          tags,
          summary: 'List identity providers by slug (at most 50: no further pages)',
          params: tenantParams,
          querystring: z.strictObject({}),
          response: {
            200: z.object({ items: z.array(identityProviderSchema), nextCursor: z.null() }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (req) => ({ items: await ctx.identityProviders.list(tenantOf(req)), nextCursor: null }),
    );

    app.get(
      '/tenants/:slug/identity-providers/:id',
      {
        preHandler: requireTenant(ctx, 'identity_providers:read'),
        schema: {
          tags,
          summary: 'Get an identity provider',
          params: providerParams,
          response: { 200: identityProviderSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        const idp = await ctx.identityProviders.get(tenantOf(req), req.params.id);
        setEtag(reply, idp.version);
        return idp;
      },
    );

    app.patch(
      '/tenants/:slug/identity-providers/:id',
      {
        config: { audit: 'identity_provider.update' },
        preHandler: requireTenant(ctx, 'identity_providers:write'),
        schema: {
          tags,
          summary: 'Change an identity provider; honours If-Match',
          description: `Omitted fields keep their value; \`clientSecret\` or \`privateKeyJwk\` null removes it. ${grantNote} Changing the issuer, client or its credentials, or enabling the provider, hands its settings out anew.`,
          params: providerParams,
          body: updateIdentityProviderSchema,
          response: { 200: identityProviderSchema, ...errorResponses(400, 401, 403, 404, 409, 412, 413) },
        },
      },
      async (req, reply) => {
        const idp = await ctx.identityProviders.update(
          tenantOf(req),
          req.params.id,
          req.body,
          ifMatchVersions(req),
          principalOf(req),
          actorOf(req),
        );
        setEtag(reply, idp.version);
        return idp;
      },
    );

    app.delete(
      '/tenants/:slug/identity-providers/:id',
      {
        config: { audit: 'identity_provider.delete' },
        preHandler: requireTenant(ctx, 'identity_providers:write'),
        schema: {
          tags,
          summary: 'Delete an identity provider and every identity at it; honours If-Match',
          params: providerParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 412) },
        },
      },
      async (req, reply) => {
        await ctx.identityProviders.delete(tenantOf(req), req.params.id, ifMatchVersions(req), actorOf(req));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/tenants/:slug/users/:id/identities',
      {
        preHandler: requireTenant(ctx, 'users:read'),
        schema: {
          tags: ['Users'],
          summary: 'List a user’s identities at upstream providers, oldest first',
          params: userParams,
          response: {
            200: z.object({ items: z.array(userIdentitySchema), nextCursor: z.null() }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (req) => {
        const tenant = tenantOf(req);
        await ctx.users.get(tenant, req.params.id);
        return { items: await ctx.identities.listForUser(tenant, req.params.id), nextCursor: null };
      },
    );

    app.delete(
      '/tenants/:slug/users/:id/identities/:identityId',
      {
        config: { audit: 'user.identity.unlink' },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags: ['Users'],
          summary: 'Unlink one of a user’s identities; never the last way they can sign in',
          description:
            '409 `last_sign_in_method` when the user has no password and no other identity. An admin may unlink where the provider does not let users (allowUnlink). Needs every right the user holds, as acting against a user does.',
          params: identityParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req, reply) => {
        await ctx.users.get(tenantOf(req), req.params.id);
        await assertMayActOn(ctx, req, req.params.id, 'Unlinking this user’s identity');
        await ctx.identities.unlink(tenantOf(req), req.params.id, req.params.identityId, actorOf(req), {
          admin: true,
        });
        return reply.code(204).send(null);
      },
    );
  };
}
