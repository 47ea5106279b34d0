/**
 * Invitation tickets (issue 11): issued in batches per ticket type, one per foreign key (an
 * email or any external id). A ticket's secret (32 random bytes) is in its URL, shown once in
 * the answer that issued it and in the invitation sent to an email key; only its SHA-256 is
 * stored. At most one live ticket per key and type (the unique `live_key`, migration 0010).
 *
 * States: `usable` (live, not expired), `expired` (live, past its time), `reissue_requested`
 * (expired, its holder asked for a new one), `used`, `disabled`, `reissued` (replaced by a
 * newer ticket). Tickets are never deleted one by one; deleting their type deletes them.
 *
 * The ticket page (`{PUBLIC_URL}/t/{slug}/tickets/{secret}`) calls `open`, `redeem` and
 * `requestReissue`; the admin API the rest.
 */
import { hash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { type AuditActor, type AuditService, systemActor } from '../audit/service.js';
import { assertMayGrant } from '../auth/grants.js';
import type { Principal } from '../auth/permissions.js';
import { isForeignKeyViolation } from '../db/database.js';
import type { DB, TicketRow, TicketTypeRow } from '../db/schema.js';
import { renderEmail } from '../email/messages.js';
import type { EmailOutbox } from '../email/outbox.js';
import { conflict, notFound } from '../http/errors.js';
import { applyKeyset, cursorSchema, decodeCursor, limitSchema, parseSort, toPage } from '../http/pagination.js';
import { idPattern, newId } from '../ids.js';
import type { Tenant } from '../tenants/service.js';
import { asEmailAddress } from '../users/service.js';
import type { TicketTypeService, TicketTypeView } from './types.js';

/** Keys per issuing call (and ids or keys per disabling call). */
export const MAX_BATCH = 10_000;
/** Rows per statement: 16 values each, well within both databases' parameter limits. */
const CHUNK = 500;

export const ticketIdSchema = z.string().regex(idPattern('ticket'), 'must be a ticket id (tkt_…)');

export const foreignKeySchema = z
  .string()
  .trim()
  .min(1)
  .max(320)
  .refine((v) => !/\p{Cc}/u.test(v), { message: 'must hold no control characters' })
  // One person, one key: an email address counts in its stored form (NFKC, lower case).
  .transform((v) => asEmailAddress(v) ?? v)
  .describe('An email address (it is sent the invitation; taken in its normalised form) or any external id; trimmed');

export const issueTicketsSchema = z.strictObject({
  foreignKeys: z
    .array(foreignKeySchema)
    .min(1)
    .max(MAX_BATCH)
    .describe(`1 to ${MAX_BATCH.toLocaleString('en-US')} keys; a key given twice counts once`),
  onDuplicate: z
    .enum(['skip', 'reissue'])
    .default('skip')
    .describe(
      '`skip`: a key with a usable ticket keeps it; `reissue`: it gets a new one, the old one `reissued`. An expired ticket is replaced either way',
    ),
});

export const issuedTicketSchema = z
  .object({
    foreignKey: z.string(),
    ticketId: z.string().describe('The new ticket, or the one the key keeps (skipped)'),
    url: z.string().nullable().describe('The ticket’s link with its secret: shown this once; null when skipped'),
    result: z.enum(['issued', 'reissued', 'skipped']),
  })
  .meta({ id: 'IssuedTicket' });

export const issueResultSchema = z
  .object({
    items: z.array(issuedTicketSchema).describe('One per distinct key, in the order given'),
    issued: z.number().int(),
    reissued: z.number().int(),
    skipped: z.number().int(),
  })
  .meta({ id: 'IssuedTickets' });

export type IssuedTicket = z.infer<typeof issuedTicketSchema>;

export const ticketStates = ['usable', 'used', 'expired', 'disabled', 'reissued', 'reissue_requested'] as const;
export type TicketState = (typeof ticketStates)[number];

export const ticketSchema = z
  .object({
    id: z.string(),
    typeId: z.string(),
    foreignKey: z.string(),
    email: z.string().nullable().describe('The normalised address when the foreign key is an email'),
    state: z.enum(ticketStates),
    createdAt: z.string(),
    expiresAt: z.string(),
    usedAt: z.string().nullable(),
    usedBy: z.string().nullable().describe('The user who used it'),
    disabledAt: z.string().nullable(),
    reissuedAt: z.string().nullable(),
    replacedBy: z.string().nullable().describe('The ticket that replaced it'),
    reissueRequestedAt: z.string().nullable(),
  })
  .meta({ id: 'Ticket' });

export type TicketView = z.infer<typeof ticketSchema>;

export const listTicketsQuerySchema = z.strictObject({
  state: z.enum(ticketStates).optional(),
  foreignKey: foreignKeySchema.optional().describe('Exact foreign key (an email address in its normalised form)'),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const reissueQueueQuerySchema = z.strictObject({ limit: limitSchema, cursor: cursorSchema });

export const disableTicketsSchema = z
  .strictObject({
    ids: z.array(ticketIdSchema).min(1).max(MAX_BATCH).optional(),
    foreignKeys: z.array(foreignKeySchema).min(1).max(MAX_BATCH).optional(),
  })
  .refine((v) => (v.ids === undefined) !== (v.foreignKeys === undefined), {
    message: 'give either ids or foreignKeys',
  });

/** Why a ticket's page cannot use it. */
export type TicketRefusal = 'expired' | 'used' | 'disabled' | 'reissued' | 'invalid';

/** What `open` finds: the live ticket and its type, or why not (with the type, but for `invalid`). */
export type OpenedTicket =
  | { ok: true; ticket: TicketView; type: TicketTypeView }
  | { ok: false; reason: 'invalid' }
  | {
      ok: false;
      reason: Exclude<TicketRefusal, 'invalid'>;
      ticket: TicketView;
      type: TicketTypeView;
      /** For `expired`: its holder has asked for a new one already. */
      reissueRequested: boolean;
    };

/** A ticket secret's syntax: 32 bytes in base64url. Anything else is not looked up. */
const secretPattern = /^[A-Za-z0-9_-]{43}$/;
const digest = (secret: string) => hash('sha256', secret, 'hex');
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function stateOf(r: TicketRow, now: number): TicketState {
  if (r.status !== 'live') return r.status;
  if (r.reissue_requested_at !== null) return 'reissue_requested';
  return r.expires_at > now ? 'usable' : 'expired';
}

export function ticketView(r: TicketRow, now = Date.now()): TicketView {
  return {
    id: r.id,
    typeId: r.type_id,
    foreignKey: r.foreign_key,
    email: r.email,
    state: stateOf(r, now),
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(),
    usedAt: iso(r.used_at),
    usedBy: r.used_by,
    disabledAt: iso(r.disabled_at),
    reissuedAt: iso(r.reissued_at),
    replacedBy: r.replaced_by,
    reissueRequestedAt: iso(r.reissue_requested_at),
  };
}

function* chunks<T>(list: readonly T[], size = CHUNK): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

const listSort = parseSort('-createdAt', { createdAt: { column: 'created_at', type: 'number' } }, '-createdAt');
const queueSort = parseSort(
  'requestedAt',
  { requestedAt: { column: 'reissue_requested_at', type: 'number' } },
  'requestedAt',
);

export class TicketService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly audit: AuditService,
    private readonly types: TicketTypeService,
    private readonly outbox: EmailOutbox,
    private readonly publicUrl: string,
  ) {}

  /** Where a ticket's page is: the secret in the path. */
  url(tenant: Tenant, secret: string): string {
    return `${this.publicUrl}/t/${tenant.slug}/tickets/${secret}`;
  }

  /**
   * Issues a batch: one transaction of a few statements per 500 keys, the invitations to email
   * keys queued in it. The caller must hold every role the type grants; a disabled type is a
   * 409 `ticket_type_disabled`.
   */
  async issue(
    tenant: Tenant,
    typeId: string,
    input: z.output<typeof issueTicketsSchema>,
    principal: Principal,
    actor: AuditActor,
  ) {
    const type = await this.issuable(tenant, typeId, principal, 'Issuing tickets of this type');
    const keys = [...new Set(input.foreignKeys)];
    const items = await this.within(tenant, async (trx) => {
      const issued = await this.issueKeys(trx, tenant, type, keys, input.onDuplicate);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'ticket.issue',
        target: { type: 'ticket_type', id: type.id },
        details: { onDuplicate: input.onDuplicate, ...count(issued) },
      });
      return issued;
    });
    return { items, ...count(items) };
  }

  /** Answers a reissue request (or replaces any live ticket): a new ticket for its key. */
  async reissue(tenant: Tenant, typeId: string, ticketId: string, principal: Principal, actor: AuditActor) {
    const type = await this.issuable(tenant, typeId, principal, 'Reissuing a ticket of this type');
    return this.within(tenant, async (trx) => {
      const old = await trx.selectFrom('tickets').selectAll().where('id', '=', ticketId).executeTakeFirst();
      if (old?.tenant_id !== tenant.id || old.type_id !== type.id) {
        throw notFound('ticket_not_found', `No ticket ${ticketId} of ticket type ${typeId}`);
      }
      const [item] = old.status === 'live' ? await this.issueKeys(trx, tenant, type, [old.foreign_key], 'reissue') : [];
      if (item?.result !== 'reissued') {
        throw conflict('ticket_not_live', 'The ticket was used, disabled or replaced already', {
          state: stateOf(old, Date.now()),
        });
      }
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'ticket.reissue',
        target: { type: 'ticket_type', id: type.id },
        details: { ticketId: old.id, newTicketId: item.ticketId, requested: old.reissue_requested_at !== null },
      });
      return item;
    });
  }

  /** The tenant's type, enabled, whose roles the principal holds. */
  private async issuable(tenant: Tenant, typeId: string, principal: Principal, what: string): Promise<TicketTypeRow> {
    const type = await this.types.row(this.db, tenant, typeId);
    // Whoever uses a ticket gets the type's roles: nobody hands out more than they hold.
    assertMayGrant(principal, tenant.id, what, { roles: await this.types.rolesOf(this.db, tenant, type.id) });
    if (type.enabled !== 1) throw conflict('ticket_type_disabled', 'The ticket type is disabled: enable it first');
    return type;
  }

  /** `work` in a transaction, its invitations sent after the commit; a type deleted meanwhile is a 404. */
  private async within<T>(tenant: Tenant, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
    try {
      const out = await this.db.transaction().execute(work);
      this.outbox.wake();
      return out;
    } catch (err) {
      if (isForeignKeyViolation(err))
        throw notFound('ticket_type_not_found', `No such ticket type in "${tenant.slug}"`);
      throw err;
    }
  }

  /**
   * New tickets for `keys` (distinct) within `trx`: a key whose live ticket is usable keeps it
   * under `skip`; any other live ticket of the key is marked `reissued`. The insert skips a key
   * that another batch gave a live ticket meanwhile (the unique live_key), which counts as
   * skipped: whichever batch commits first issues it, the other skips it.
   */
  private async issueKeys(
    trx: Kysely<DB>,
    tenant: Tenant,
    type: TicketTypeRow,
    keys: readonly string[],
    onDuplicate: 'skip' | 'reissue',
  ): Promise<IssuedTicket[]> {
    const now = Date.now();
    const live = new Map<string, { id: string; expires_at: number }>();
    await liveTickets(trx, type.id, keys, live);
    const keeps = (key: string) => {
      const old = live.get(key);
      return old !== undefined && old.expires_at > now && onDuplicate === 'skip';
    };
    const replacing = keys.flatMap((k) => (live.has(k) && !keeps(k) ? [live.get(k)?.id as string] : []));
    // The tickets this batch ended (another may have ended some meanwhile), by key.
    const replaced = new Map<string, string>();
    for (const part of chunks(replacing)) {
      const rows = await trx
        .updateTable('tickets')
        .set({ status: 'reissued', reissued_at: now, live_key: null })
        .where('id', 'in', part)
        .where('status', '=', 'live')
        .returning(['id', 'foreign_key'])
        .execute();
      for (const r of rows) replaced.set(r.foreign_key, r.id);
    }
    // Inserted in one order for every batch: two batches waiting on each other's keys in
    // opposite orders would deadlock (PostgreSQL waits on a key another transaction inserted).
    const fresh = keys.filter((k) => !keeps(k)).sort();
    const secrets = randomBytes(32 * fresh.length);
    const rows = fresh.map((key, i) => {
      const secret = secrets.subarray(i * 32, i * 32 + 32).toString('base64url');
      return {
        secret,
        row: {
          id: newId('ticket'),
          tenant_id: tenant.id,
          type_id: type.id,
          foreign_key: key,
          email: asEmailAddress(key) ?? null,
          secret_hash: digest(secret),
          status: 'live' as const,
          live_key: key,
          created_at: now,
          expires_at: now + type.validity_hours * 3_600_000,
          used_at: null,
          used_by: null,
          disabled_at: null,
          reissued_at: null,
          replaced_by: null,
          reissue_requested_at: null,
        },
      };
    });
    const inserted = new Set<string>();
    for (const part of chunks(rows)) {
      const done = await trx
        .insertInto('tickets')
        .values(part.map((r) => r.row))
        .onConflict((oc) => oc.columns(['type_id', 'live_key']).doNothing())
        .returning('id')
        .execute();
      for (const r of done) inserted.add(r.id);
    }
    for (const part of chunks([...replaced.values()])) {
      await trx
        .updateTable('tickets')
        .set((eb) => ({
          replaced_by: eb
            .selectFrom('tickets as n')
            .select('n.id')
            .where('n.type_id', '=', type.id)
            .whereRef('n.live_key', '=', 'tickets.foreign_key'),
        }))
        .where('id', 'in', part)
        .execute();
    }
    // The keys another batch issued meanwhile keep that batch's ticket.
    const lost = rows.filter((r) => !inserted.has(r.row.id)).map((r) => r.row.foreign_key);
    await liveTickets(trx, type.id, lost, live);
    const issuedBy = new Map(rows.filter((r) => inserted.has(r.row.id)).map((r) => [r.row.foreign_key, r]));
    await this.invite(
      trx,
      tenant,
      type,
      [...issuedBy.values()].flatMap((r) => (r.row.email ? [{ email: r.row.email, secret: r.secret }] : [])),
    );
    return keys.map((key) => {
      const mine = issuedBy.get(key);
      if (mine) {
        const result = replaced.has(key) ? 'reissued' : 'issued';
        return { foreignKey: key, ticketId: mine.row.id, url: this.url(tenant, mine.secret), result };
      }
      return { foreignKey: key, ticketId: live.get(key)?.id ?? '', url: null, result: 'skipped' };
    });
  }

  /** Queues the invitations of new tickets to email keys, in the transaction that issued them. */
  private async invite(
    trx: Kysely<DB>,
    tenant: Tenant,
    type: TicketTypeRow,
    to: readonly { email: string; secret: string }[],
  ): Promise<void> {
    if (to.length === 0) return;
    const { title } = JSON.parse(type.welcome) as { title: string };
    const minutes = type.validity_hours * 60;
    const messages = to.map(({ email, secret }) =>
      renderEmail(tenant, 'invitation', email, { link: this.url(tenant, secret), minutes, detail: title }),
    );
    await this.outbox.queueMany(trx, tenant.id, messages);
  }

  /** A type's tickets, newest first, by state and foreign key; never a secret. */
  async list(tenant: Tenant, typeId: string, query: z.output<typeof listTicketsQuerySchema>) {
    const type = await this.types.row(this.db, tenant, typeId);
    const cursor = decodeCursor(query.cursor, listSort);
    const now = Date.now();
    let q = this.db.selectFrom('tickets').selectAll().where('type_id', '=', type.id);
    switch (query.state) {
      case undefined:
        break;
      case 'used':
      case 'disabled':
      case 'reissued':
        q = q.where('status', '=', query.state);
        break;
      case 'usable':
        q = q.where('status', '=', 'live').where('expires_at', '>', now).where('reissue_requested_at', 'is', null);
        break;
      case 'expired':
        q = q.where('status', '=', 'live').where('expires_at', '<=', now).where('reissue_requested_at', 'is', null);
        break;
      case 'reissue_requested':
        q = q.where('status', '=', 'live').where('reissue_requested_at', 'is not', null);
        break;
    }
    if (query.foreignKey !== undefined) q = q.where('foreign_key', '=', query.foreignKey);
    const rows = await applyKeyset(q, listSort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    return toPage(
      rows,
      query.limit,
      listSort,
      (r) => r.created_at,
      (r) => r.id,
      (r) => ticketView(r, now),
    );
  }

  /** The tenant's tickets whose holders asked for a new one (every type), oldest request first. */
  async reissueQueue(tenant: Tenant, query: z.output<typeof reissueQueueQuerySchema>) {
    const cursor = decodeCursor(query.cursor, queueSort);
    const q = this.db
      .selectFrom('tickets')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('reissue_requested_at', 'is not', null)
      .where('status', '=', 'live');
    const rows = await applyKeyset(q, queueSort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    const now = Date.now();
    return toPage(
      rows,
      query.limit,
      queueSort,
      (r) => r.reissue_requested_at,
      (r) => r.id,
      (r) => ticketView(r, now),
    );
  }

  /** Disables a type's live tickets, named by id or by foreign key; how many it disabled. */
  async disable(
    tenant: Tenant,
    typeId: string,
    input: z.output<typeof disableTicketsSchema>,
    actor: AuditActor,
  ): Promise<number> {
    const type = await this.types.row(this.db, tenant, typeId);
    const byId = input.ids !== undefined;
    const names = [...new Set(input.ids ?? input.foreignKeys ?? [])];
    return this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      let disabled = 0;
      for (const part of chunks(names)) {
        const res = await trx
          .updateTable('tickets')
          .set({ status: 'disabled', disabled_at: now, live_key: null })
          .where('type_id', '=', type.id)
          .where('status', '=', 'live')
          .where(byId ? 'id' : 'live_key', 'in', part)
          .executeTakeFirst();
        disabled += Number(res.numUpdatedRows);
      }
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'ticket.disable',
        target: { type: 'ticket_type', id: type.id },
        details: { by: byId ? 'ids' : 'foreignKeys', asked: names.length, disabled },
      });
      return disabled;
    });
  }

  /**
   * The ticket whose secret this is, in this tenant: live and usable with its type, or why
   * not (`used`, `disabled` (the ticket or its type), `reissued`, `expired`, `invalid`: no such
   * ticket here). Uses nothing.
   */
  async open(tenant: Tenant, secret: string): Promise<OpenedTicket> {
    if (!secretPattern.test(secret)) return { ok: false, reason: 'invalid' };
    const row = await this.db
      .selectFrom('tickets')
      .selectAll()
      .where('secret_hash', '=', digest(secret))
      .executeTakeFirst();
    if (row?.tenant_id !== tenant.id) return { ok: false, reason: 'invalid' };
    const type = await this.types.get(tenant, row.type_id);
    const ticket = ticketView(row);
    const reissueRequested = ticket.state === 'reissue_requested';
    const refused = (reason: Exclude<TicketRefusal, 'invalid'>) =>
      ({ ok: false, reason, ticket, type, reissueRequested }) as const;
    switch (ticket.state) {
      case 'used':
      case 'disabled':
      case 'reissued':
        return refused(ticket.state);
      default:
        if (!type.enabled) return refused('disabled');
        if (ticket.state !== 'usable') return refused('expired');
        return { ok: true, ticket, type };
    }
  }

  /**
   * Uses ticket `ticketId` for user `userId` within `trx` (the page's transaction, which may
   * have just created the user): one conditional UPDATE that only one caller's can match, so
   * that exactly one of any number of concurrent calls wins, while the ticket is live, unexpired
   * and its type enabled; then the type's roles granted to the user (those held already stay)
   * and audit events. True for the one caller that used it; false otherwise (nothing changed).
   */
  async redeem(
    trx: Kysely<DB>,
    tenant: Tenant,
    ticketId: string,
    userId: string,
    actor: AuditActor = { ...systemActor, type: 'user', id: userId },
  ): Promise<boolean> {
    const ticket = await trx
      .selectFrom('tickets')
      .select(['id', 'tenant_id', 'type_id'])
      .where('id', '=', ticketId)
      .executeTakeFirst();
    if (ticket?.tenant_id !== tenant.id) return false;
    const user = await trx
      .selectFrom('users')
      .select(['tenant_id', 'status', 'pending_verification'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (user?.tenant_id !== tenant.id) return false;
    // An active user, or one registering with it (pending until its address is confirmed).
    if (user.status !== 'active' && user.pending_verification !== 1) return false;
    const type = await this.types.row(trx, tenant, ticket.type_id);
    if (type.enabled !== 1) return false;
    const now = Date.now();
    const used = await trx
      .updateTable('tickets')
      .set({ status: 'used', used_at: now, used_by: userId, live_key: null })
      .where('id', '=', ticket.id)
      .where('status', '=', 'live')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (used.numUpdatedRows === 0n) return false;
    const granted = await trx
      .insertInto('user_roles')
      .columns(['tenant_id', 'user_id', 'role_id', 'created_at'])
      .expression((eb) =>
        eb
          .selectFrom('ticket_type_roles')
          .select((s) => [
            s.val(tenant.id).as('tenant_id'),
            s.val(userId).as('user_id'),
            'role_id',
            s.val(now).as('created_at'),
          ])
          .where('type_id', '=', type.id),
      )
      .onConflict((oc) => oc.columns(['user_id', 'role_id']).doNothing())
      .returning('role_id')
      .execute();
    const names = granted.length
      ? (
          await trx
            .selectFrom('roles')
            .select('name')
            .where(
              'id',
              'in',
              granted.map((g) => g.role_id),
            )
            .execute()
        )
          .map((r) => r.name)
          .sort()
      : [];
    for (const role of names) {
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'user.role.grant',
        target: { type: 'user', id: userId },
        details: { role, ticketId: ticket.id },
      });
    }
    await this.audit.record(trx, actor, {
      tenantId: tenant.id,
      action: 'ticket.redeem',
      target: { type: 'ticket_type', id: type.id },
      details: { ticketId: ticket.id, userId, rolesGranted: names },
    });
    return true;
  }

  /**
   * Puts an expired ticket in the reissue queue (the page's "Request a new invitation").
   * Idempotent: asking again changes nothing (`alreadyRequested`). A ticket that is not
   * expired is refused with the reason `open` gives (`usable` for one that still works).
   */
  async requestReissue(
    tenant: Tenant,
    secret: string,
    actor: AuditActor = systemActor,
  ): Promise<{ ok: true; alreadyRequested: boolean } | { ok: false; reason: TicketRefusal | 'usable' }> {
    const opened = await this.open(tenant, secret);
    if (opened.ok) return { ok: false, reason: 'usable' };
    if (opened.reason !== 'expired') return { ok: false, reason: opened.reason };
    const { ticket } = opened;
    const requested = await this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      const res = await trx
        .updateTable('tickets')
        .set({ reissue_requested_at: now })
        .where('id', '=', ticket.id)
        .where('status', '=', 'live')
        .where('reissue_requested_at', 'is', null)
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) return false;
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'ticket.reissue.request',
        target: { type: 'ticket_type', id: ticket.typeId },
        details: { ticketId: ticket.id },
      });
      return true;
    });
    return { ok: true, alreadyRequested: !requested };
  }
}

/** The live tickets of these keys of a type, into `into` by key. */
async function liveTickets(
  trx: Kysely<DB>,
  typeId: string,
  keys: readonly string[],
  into: Map<string, { id: string; expires_at: number }>,
): Promise<void> {
  for (const part of chunks(keys)) {
    const rows = await trx
      .selectFrom('tickets')
      .select(['id', 'foreign_key', 'expires_at'])
      .where('type_id', '=', typeId)
      .where('live_key', 'in', part)
      .execute();
    for (const r of rows) into.set(r.foreign_key, r);
  }
}

function count(items: readonly IssuedTicket[]) {
  const n = (result: IssuedTicket['result']) => items.filter((i) => i.result === result).length;
  return { issued: n('issued'), reissued: n('reissued'), skipped: n('skipped') };
}
