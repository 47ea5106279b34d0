import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { prepared } from '../db/prepared.js';
import type { AuditEventRow, DB } from '../db/schema.js';
import { lowerLikePrefix } from '../db/sql.js';
import { badRequest } from '../http/errors.js';
import { applyKeyset, cursorSchema, decodeCursor, limitSchema, parseSort, toPage } from '../http/pagination.js';
import { newId } from '../ids.js';
import { type AuditNames, resolveNames } from './names.js';

/** Who did something, from where: taken from the request, or `system` for the server itself. */
export interface AuditActor {
  type: 'api_key' | 'user' | 'client' | 'system';
  id: string | null;
  ip: string | null;
  requestId: string | null;
}

export interface AuditEntry {
  tenantId: string;
  action: string;
  outcome?: 'success' | 'failure';
  target?: { type: string; id: string } | undefined;
  details?: Record<string, unknown> | undefined;
}

export const systemActor: AuditActor = { type: 'system', id: null, ip: null, requestId: null };

export function actorOf(req: FastifyRequest): AuditActor {
  return {
    type: req.principal?.kind ?? 'system',
    id: req.principal?.id ?? null,
    ip: req.ip ?? null,
    requestId: req.id,
  };
}

const displayFields = {
  name: z
    .string()
    .nullable()
    .describe(
      "A user's email; an API key's, application's, API's or role's name; a tenant's display name. Null when it no longer exists (or is not the event tenant's)",
    ),
  tenantSlug: z.string().nullable().describe('Slug of the tenant it lives in (for a tenant, its own), when known'),
};

export const auditEventSchema = z
  .object({
    id: z.string(),
    occurredAt: z.string().describe('ISO 8601 time'),
    tenant: z.string().describe('Slug of the tenant the event belongs to'),
    actor: z.object({ type: z.string(), id: z.string().nullable(), ...displayFields }),
    action: z.string().describe('What was done, like `user.create`'),
    target: z
      .object({ type: z.string(), id: z.string(), ...displayFields })
      .nullable()
      .describe('What it was done to; for a refused change, what its URL named'),
    outcome: z.enum(['success', 'failure']),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEvent' });

export type AuditEvent = z.infer<typeof auditEventSchema>;

const isoTime = z.iso.datetime({ offset: true }).transform((v) => Date.parse(v));

export const auditQuerySchema = z.strictObject({
  action: z.string().max(100).optional().describe('Exact action, or a prefix ending in `*` (like `user.*`)'),
  actor: z.string().max(100).optional().describe('Actor id (a user or API key id)'),
  outcome: z.enum(['success', 'failure']).optional(),
  target: z.string().max(100).optional().describe('Target id'),
  since: isoTime.optional().describe('Earliest time (inclusive), ISO 8601'),
  until: isoTime.optional().describe('Latest time (exclusive), ISO 8601'),
  limit: limitSchema,
  cursor: cursorSchema,
});

export type AuditQuery = z.output<typeof auditQuerySchema>;

const sortFields = { occurredAt: { column: 'occurred_at', type: 'number' } } as const;

/** An event's columns, written by the statement every audited request runs (prepared: db/prepared.ts). */
const eventColumns = [
  'id',
  'tenant_id',
  'occurred_at',
  'actor_type',
  'actor_id',
  'action',
  'target_type',
  'target_id',
  'ip',
  'outcome',
  'request_id',
  'details',
] as const satisfies readonly (keyof AuditEventRow)[];
const insertEvent = prepared((db, p: AuditEventRow) =>
  db.insertInto('audit_events').values(Object.fromEntries(eventColumns.map((c) => [c, p[c]])) as AuditEventRow),
);

export class AuditService {
  constructor(private readonly db: Kysely<DB>) {}

  /** Writes one event; pass the transaction that made the change so both land or neither. */
  async record(executor: Kysely<DB>, actor: AuditActor, entry: AuditEntry): Promise<void> {
    await insertEvent(executor, {
      id: newId('auditEvent'),
      tenant_id: entry.tenantId,
      occurred_at: Date.now(),
      actor_type: actor.type,
      actor_id: actor.id,
      action: entry.action,
      target_type: entry.target?.type ?? null,
      target_id: entry.target?.id ?? null,
      ip: actor.ip,
      outcome: entry.outcome ?? 'success',
      request_id: actor.requestId,
      details: entry.details ? JSON.stringify(entry.details) : null,
    });
  }

  async list(tenant: { id: string; slug: string }, query: AuditQuery) {
    if (query.since !== undefined && query.until !== undefined && query.since >= query.until) {
      throw badRequest('invalid_time_range', '`since` must be earlier than `until`');
    }
    const sort = parseSort('-occurredAt', sortFields, '-occurredAt');
    const cursor = decodeCursor(query.cursor, sort);
    let q = this.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenant.id);
    if (query.action !== undefined) {
      q = query.action.endsWith('*')
        ? q.where(lowerLikePrefix('action', query.action.slice(0, -1)))
        : q.where('action', '=', query.action);
    }
    if (query.actor !== undefined) q = q.where('actor_id', '=', query.actor);
    if (query.target !== undefined) q = q.where('target_id', '=', query.target);
    if (query.outcome !== undefined) q = q.where('outcome', '=', query.outcome);
    if (query.since !== undefined) q = q.where('occurred_at', '>=', query.since);
    if (query.until !== undefined) q = q.where('occurred_at', '<', query.until);
    const rows = await applyKeyset(q, sort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    const shown = rows.slice(0, query.limit);
    const names = await resolveNames(
      this.db,
      tenant.id,
      shown.map((r) => ({ type: r.actor_type, id: r.actor_id })),
      shown.map((r) => ({ type: r.target_type ?? '', id: r.target_id })),
    );
    return toPage(
      rows,
      query.limit,
      sort,
      (r) => r.occurred_at,
      (r) => r.id,
      (r) => toAuditEvent(r, tenant.slug, names),
    );
  }
}

/** Rows one purge statement deletes at most: a long backlog goes in several short statements. */
const PURGE_BATCH = 5000;

/**
 * Deletes audit events that occurred before `before` (ms), in batches, oldest first; run on
 * the purge schedule with `AUDIT_RETENTION_DAYS`. Returns how many went.
 */
export async function purgeAuditEvents(db: Kysely<DB>, before: number): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = db
      .selectFrom('audit_events')
      .select('id')
      .where('occurred_at', '<', before)
      .orderBy('occurred_at')
      .limit(PURGE_BATCH);
    const res = await db.deleteFrom('audit_events').where('id', 'in', batch).executeTakeFirst();
    const n = Number(res.numDeletedRows);
    total += n;
    if (n < PURGE_BATCH) return total;
  }
}

function toAuditEvent(r: AuditEventRow, slug: string, names: AuditNames): AuditEvent {
  const actor = { type: r.actor_type, id: r.actor_id };
  const actorName = names.actor(actor);
  const target = r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null;
  const targetName = target ? names.target(target) : undefined;
  return {
    id: r.id,
    occurredAt: new Date(r.occurred_at).toISOString(),
    tenant: slug,
    actor: { ...actor, name: actorName?.name ?? null, tenantSlug: actorName?.tenant ?? null },
    action: r.action,
    target: target && { ...target, name: targetName?.name ?? null, tenantSlug: targetName?.tenant ?? null },
    outcome: r.outcome,
    ip: r.ip,
    requestId: r.request_id,
    details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
  };
}
