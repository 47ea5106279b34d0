/** Routes of ticket types and their tickets (issue 11); the rules live in the services. */
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
  disableTicketsSchema,
  issuedTicketSchema,
  issueResultSchema,
  issueTicketsSchema,
  listTicketsQuerySchema,
  MAX_BATCH,
  reissueQueueQuerySchema,
  ticketIdSchema,
  ticketSchema,
} from './service.js';
import {
  createTicketTypeSchema,
  listTicketTypesQuerySchema,
  ticketTypeIdSchema,
  ticketTypeSchema,
  updateTicketTypeSchema,
} from './types.js';

const tags = ['Tickets'];
const tenantParams = z.strictObject({ slug: slugSchema });
const typeParams = z.strictObject({ slug: slugSchema, id: ticketTypeIdSchema });
const ticketParams = z.strictObject({ slug: slugSchema, id: ticketTypeIdSchema, ticketId: ticketIdSchema });

/** A batch's body: room for MAX_BATCH keys of up to 400 bytes each (BODY_LIMIT, if larger, holds). */
const BATCH_BODY_LIMIT = 4 * 1024 * 1024;

export function ticketRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  const batch = { bodyLimit: Math.max(ctx.config.bodyLimit, BATCH_BODY_LIMIT) };
  return async (app) => {
    app.post(
      '/tenants/:slug/ticket-types',
      {
        config: { audit: 'ticket_type.create' },
        preHandler: requireTenant(ctx, 'tickets:write'),
        schema: {
          tags,
          summary: 'Create a ticket type; needs every role it grants',
          params: tenantParams,
          body: createTicketTypeSchema,
          response: { 201: ticketTypeSchema, ...errorResponses(400, 401, 403, 404, 409, 413) },
        },
      },
      async (req, reply) => {
        const type = await ctx.ticketTypes.create(tenantOf(req), req.body, principalOf(req), actorOf(req));
        setEtag(reply, type.version);
        return reply.code(201).send(type);
      },
    );

    app.get(
      '/tenants/:slug/ticket-types',
      {
        preHandler: requireTenant(ctx, 'tickets:read'),
        schema: {
          tags,
          summary: 'List ticket types',
          params: tenantParams,
          querystring: listTicketTypesQuerySchema,
          response: { 200: pageSchema(ticketTypeSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.ticketTypes.list(tenantOf(req), req.query),
    );

    app.get(
      '/tenants/:slug/ticket-types/:id',
      {
        preHandler: requireTenant(ctx, 'tickets:read'),
        schema: {
          tags,
          summary: 'Get a ticket type',
          params: typeParams,
          response: { 200: ticketTypeSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        const type = await ctx.ticketTypes.get(tenantOf(req), req.params.id);
        setEtag(reply, type.version);
        return type;
      },
    );

    app.patch(
      '/tenants/:slug/ticket-types/:id',
      {
        config: { audit: 'ticket_type.update' },
        preHandler: requireTenant(ctx, 'tickets:write'),
        schema: {
          tags,
          summary: 'Change a ticket type; honours If-Match; new roles, or enabling it, need the roles',
          params: typeParams,
          body: updateTicketTypeSchema,
          response: { 200: ticketTypeSchema, ...errorResponses(400, 401, 403, 404, 409, 412, 413) },
        },
      },
      async (req, reply) => {
        const type = await ctx.ticketTypes.update(
          tenantOf(req),
          req.params.id,
          req.body,
          ifMatchVersions(req),
          principalOf(req),
          actorOf(req),
        );
        setEtag(reply, type.version);
        return type;
      },
    );

    app.delete(
      '/tenants/:slug/ticket-types/:id',
      {
        config: { audit: 'ticket_type.delete' },
        preHandler: requireTenant(ctx, 'tickets:write'),
        schema: {
          tags,
          summary: 'Delete a ticket type and all its tickets; honours If-Match',
          params: typeParams,
          response: { 204: z.null(), ...errorResponses(400, 401, 403, 404, 412) },
        },
      },
      async (req, reply) => {
        await ctx.ticketTypes.delete(tenantOf(req), req.params.id, ifMatchVersions(req), actorOf(req));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/tenants/:slug/ticket-types/:id/tickets',
      {
        ...batch,
        config: { audit: 'ticket.issue', jsonMaxMembers: MAX_BATCH },
        preHandler: requireTenant(ctx, 'tickets:write'),
        schema: {
          tags,
          summary: 'Issue tickets, one per foreign key; needs every role the type grants',
          description:
            'Each new ticket’s `url` holds its secret and is shown only in this answer; a key that is an email address is sent the invitation. At most one live ticket per key and type.',
          params: typeParams,
          body: issueTicketsSchema,
          response: { 200: issueResultSchema, ...errorResponses(400, 401, 403, 404, 409, 413) },
        },
      },
      async (req) => ctx.tickets.issue(tenantOf(req), req.params.id, req.body, principalOf(req), actorOf(req)),
    );

    app.get(
      '/tenants/:slug/ticket-types/:id/tickets',
      {
        preHandler: requireTenant(ctx, 'tickets:read'),
        schema: {
          tags,
          summary: 'List a type’s tickets, newest first, by state and foreign key (never their secrets)',
          params: typeParams,
          querystring: listTicketsQuerySchema,
          response: { 200: pageSchema(ticketSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.tickets.list(tenantOf(req), req.params.id, req.query),
    );

    app.post(
      '/tenants/:slug/ticket-types/:id/tickets/disable',
      {
        ...batch,
        config: { audit: 'ticket.disable', jsonMaxMembers: MAX_BATCH },
        preHandler: requireTenant(ctx, 'tickets:write'),
        schema: {
          tags,
          summary: 'Disable live tickets of a type, by id or by foreign key',
          params: typeParams,
          body: disableTicketsSchema,
          response: {
            200: z.object({ disabled: z.number().int().describe('How many live tickets it disabled') }),
            ...errorResponses(400, 401, 403, 404, 413),
          },
        },
      },
      async (req) => ({ disabled: await ctx.tickets.disable(tenantOf(req), req.params.id, req.body, actorOf(req)) }),
    );

    app.post(
      '/tenants/:slug/ticket-types/:id/tickets/:ticketId/reissue',
      {
        config: { audit: 'ticket.reissue' },
        preHandler: requireTenant(ctx, 'tickets:write'),
        schema: {
          tags,
          summary: 'Replace a live ticket (a reissue request, say) with a new one; needs the type’s roles',
          description:
            'The old ticket becomes `reissued`; the new one’s `url` is shown only here, and sent to an email key.',
          params: ticketParams,
          response: { 200: issuedTicketSchema, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) =>
        ctx.tickets.reissue(tenantOf(req), req.params.id, req.params.ticketId, principalOf(req), actorOf(req)),
    );

    app.get(
      '/tenants/:slug/ticket-reissue-requests',
      {
        preHandler: requireTenant(ctx, 'tickets:read'),
        schema: {
          tags,
          summary: 'Expired tickets whose holders asked for a new one, every type, oldest request first',
          params: tenantParams,
          querystring: reissueQueueQuerySchema,
          response: { 200: pageSchema(ticketSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.tickets.reissueQueue(tenantOf(req), req.query),
    );
  };
}
