/**
 * Moving users in and out (service.ts): upload a file of JSON lines as an import job, follow
 * its progress, and export a tenant's users as the same lines. The upload's body is a stream
 * the service reads line by line, after the route's permission is checked: its content-type
 * parser only hands the stream on.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../audit/service.js';
import { can } from '../auth/permissions.js';
import type { AppContext } from '../context.js';
import { AppError, errorResponses, forbidden } from '../http/errors.js';
import { principalOf, requireTenant, tenantOf } from '../http/guard.js';
import { pageSchema } from '../http/pagination.js';
import { slugSchema } from '../tenants/service.js';
import {
  exportQuerySchema,
  importIdSchema,
  importQuerySchema,
  importSchema,
  listImportsQuerySchema,
} from './service.js';

const tags = ['Users'];
const tenantParams = z.strictObject({ slug: slugSchema });
const importParams = z.strictObject({ slug: slugSchema, id: importIdSchema });
/** Media types of JSON lines. */
export const jsonLinesTypes = ['application/x-ndjson', 'application/jsonl', 'application/jsonlines'];
/** How long an upload may send nothing before it is given up. */
const IDLE_MS = 60_000;

/** The request body as chunks, dropped when it sends nothing for `IDLE_MS`. */
async function* chunksOf(req: IncomingMessage): AsyncGenerator<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => req.destroy(new AppError(408, 'upload_idle', 'The upload sent nothing for a minute')),
      IDLE_MS,
    );
    timer.unref();
  };
  arm();
  try {
    try {
      for await (const chunk of req) {
        arm();
        yield chunk as Buffer;
      }
    } catch (err) {
      // The sender went away (or went silent): no fault of ours, and nothing to log as one.
      if (err instanceof AppError) throw err;
      throw new AppError(400, 'upload_incomplete', 'The upload ended before its last line');
    }
    if (!req.complete) throw new AppError(400, 'upload_incomplete', 'The upload ended before its last line');
  } finally {
    clearTimeout(timer);
  }
}

export function userImportRoutes(ctx: AppContext): FastifyPluginAsyncZod {
  return async (app) => {
    // The body goes to the handler as the stream it is (read there, after authorization).
    app.addContentTypeParser(jsonLinesTypes, (_req, _payload, done) => done(null, undefined));

    app.post(
      '/tenants/:slug/users/import',
      {
        config: { audit: 'user.import', streamedBody: true },
        preHandler: requireTenant(ctx, 'users:write'),
        schema: {
          tags,
          summary: 'Import users from JSON lines (application/x-ndjson); applied in the background',
          description:
            'One user per line (docs/import.md): `email`, `emailVerified`, `displayName`, `status`, `attributes`, `roles`, an `id` to keep, and a `passwordHash` (docs/import-formats.md). Users whose email or id exists are left as they are. The answer comes once every line is stored; follow the job at `GET …/users/imports/{id}`.',
          params: tenantParams,
          querystring: importQuerySchema,
          response: { 202: importSchema, ...errorResponses(400, 401, 403, 404, 408, 413, 415) },
        },
      },
      async (req, reply) => {
        const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
        if (!jsonLinesTypes.includes(type)) {
          throw new AppError(415, 'unsupported_media_type', `Send the users as ${jsonLinesTypes[0]}`);
        }
        const job = await ctx.imports.upload(
          tenantOf(req),
          principalOf(req),
          actorOf(req),
          chunksOf(req.raw),
          req.query.dryRun === 'true',
        );
        ctx.importWorker.wake();
        reply.header('location', `/api/v1/tenants/${tenantOf(req).slug}/users/imports/${job.id}`);
        return reply.code(202).send(job);
      },
    );

    app.get(
      '/tenants/:slug/users/imports',
      {
        preHandler: requireTenant(ctx, 'users:read'),
        schema: {
          tags,
          summary: 'The tenant’s user imports, newest first',
          params: tenantParams,
          querystring: listImportsQuerySchema,
          response: { 200: pageSchema(importSchema), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.imports.list(tenantOf(req), req.query),
    );

    app.get(
      '/tenants/:slug/users/imports/:id',
      {
        preHandler: requireTenant(ctx, 'users:read'),
        schema: {
          tags,
          summary: 'An import job: its status, counts and refused lines',
          params: importParams,
          response: { 200: importSchema, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (req) => ctx.imports.get(tenantOf(req), req.params.id),
    );

    app.get(
      '/tenants/:slug/users/export',
      {
        config: { audit: 'user.export' },
        preHandler: requireTenant(ctx, 'users:read'),
        schema: {
          tags,
          summary: 'Export the users as JSON lines (the import format), streamed',
          params: tenantParams,
          querystring: exportQuerySchema,
          response: {
            200: z.string().describe('One user per line, as the import reads them (application/x-ndjson)'),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (req, reply) => {
        const tenant = tenantOf(req);
        const principal = principalOf(req);
        const includeHashes = req.query.includeHashes === 'true';
        if (includeHashes && !can(principal, tenant.id, 'users:export_hashes')) {
          throw forbidden('Exporting password hashes needs users:export_hashes', { permission: 'users:export_hashes' });
        }
        await ctx.audit.record(ctx.database.db, actorOf(req), {
          tenantId: tenant.id,
          action: 'user.export',
          details: { includeHashes },
        });
        reply.header('content-type', 'application/x-ndjson; charset=utf-8');
        reply.header('content-disposition', `attachment; filename="${tenant.slug}-users.jsonl"`);
        // A stream is sent as it is (no serializer): typed as the text it is.
        return reply.send(ctx.imports.exportStream(tenant, includeHashes) as unknown as string);
      },
    );
  };
}
