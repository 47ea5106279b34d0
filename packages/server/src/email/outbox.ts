/**
 * The email outbox (issue 11). A flow that sends a message writes it here in its own
 * transaction (`queue`), so that the message exists exactly when what caused it does; after
 * the commit it calls `wake`, and the sender delivers it through SMTP (nodemailer), retrying
 * with backoff: a stopped or refusing server loses nothing, and a message that keeps failing
 * is marked failed after `EMAIL_MAX_ATTEMPTS` with the server's last answer.
 *
 * A message's content may hold a secret link: it is sealed with the instance secret (a copy
 * of the database alone redeems nothing) and erased once the message is sent or has failed.
 * Several nodes may share the outbox: a node takes a message by moving its next attempt past
 * a lease (one statement, which only one node's can match), and another node takes it again
 * only when that lease has passed (a node that died while sending).
 *
 * Without SMTP_URL (the embedded default) nothing is sent: each message stays queued, whole,
 * for system admins to read in the Emails list, and (but with NODE_ENV=production) the sender
 * writes it to the log as one line with its links, so that `npm start` alone lets a developer
 * click through every flow.
 */
import type { Kysely } from 'kysely';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { z } from 'zod';
import { BackgroundRounds } from '../background.js';
import type { Config } from '../config.js';
import type { DB, EmailRow } from '../db/schema.js';
import { applyKeyset, cursorSchema, decodeCursor, limitSchema, parseSort, toPage } from '../http/pagination.js';
import { newId } from '../ids.js';
import type { SecretBox } from '../keys/crypto.js';

/** A message as a flow gives it (rendered: email/messages.ts). */
export interface OutgoingEmail {
  to: string;
  template: string;
  subject: string;
  text: string;
  html: string;
  /** The tenant's sender name and reply-to address (settings), if set. */
  fromName?: string | null | undefined;
  replyTo?: string | null | undefined;
}

interface SealedContent {
  text: string;
  html: string;
  fromName: string | null;
  replyTo: string | null;
}

/** How long a node may take to send one message before another may take it. */
const LEASE_MS = 60_000;
/** Messages taken per round. */
const BATCH = 20;
/** The wait before attempt n+1 (n ≥ 1): a second, doubling, at most ten minutes. */
export const retryDelayMs = (attempts: number) => Math.min(1000 * 2 ** Math.max(0, attempts - 1), 600_000);
/** Messages per insert statement (13 values each: well within both databases' parameter limits). */
const INSERT_CHUNK = 500;
/** Without a wake-up, the sender still looks every this often (other nodes' messages, leases that ran out). */
const POLL_MS = 5000;

export const emailSchema = z
  .object({
    id: z.string(),
    to: z.string(),
    template: z.string().describe('Which message: `password_reset`, `password_changed`, …'),
    subject: z.string(),
    status: z.enum(['queued', 'sent', 'failed']),
    attempts: z.number().int(),
    lastError: z.string().nullable().describe("The mail server's last refusal, or why sending failed"),
    createdAt: z.string(),
    updatedAt: z.string(),
    sentAt: z.string().nullable(),
    nextAttemptAt: z.string().nullable().describe('When the sender tries again (queued messages)'),
    content: z
      .object({ text: z.string(), html: z.string() })
      .optional()
      .describe(
        'The whole message, links included: only for system admins, only while nothing is sent (no SMTP_URL), only while it is queued',
      ),
  })
  .meta({ id: 'Email' });

export type EmailView = z.infer<typeof emailSchema>;

export const emailQuerySchema = z.strictObject({
  status: z.enum(['queued', 'sent', 'failed']).optional(),
  to: z.string().max(320).optional().describe('Exact recipient address'),
  template: z.string().max(64).optional(),
  limit: limitSchema,
  cursor: cursorSchema,
});

const sortFields = { createdAt: { column: 'created_at', type: 'number' } } as const;

export class EmailOutbox {
  private readonly rounds: BackgroundRounds;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly box: SecretBox,
    private readonly config: Config['email'],
    private readonly log: Logger,
    /** The SMTP transport; undefined: the embedded outbox. */
    private readonly transport: Transporter | undefined,
    /** Whether the embedded outbox may log links (not with NODE_ENV=production). */
    private readonly logLinks: boolean,
  ) {
    this.rounds = new BackgroundRounds(
      {
        round: (stopped) => this.round(stopped),
        failure: 'the email sender could not read the outbox; it tries again shortly',
        pollMs: POLL_MS,
      },
      log,
    );
  }

  /** Whether messages are delivered (SMTP_URL set) rather than kept. */
  get delivers(): boolean {
    return this.transport !== undefined;
  }

  /** Writes `message` for `tenantId` into the outbox within `executor`; `wake` after the commit. */
  async queue(executor: Kysely<DB>, tenantId: string, message: OutgoingEmail): Promise<string> {
    const [id] = await this.queueMany(executor, tenantId, [message]);
    return id as string;
  }

  /**
   * Writes several messages (a batch of invitations) in a few multi-row statements within
   * `executor`; their ids, in order. `wake` after the commit.
   */
  async queueMany(executor: Kysely<DB>, tenantId: string, messages: readonly OutgoingEmail[]): Promise<string[]> {
    const now = Date.now();
    const rows = messages.map((message) => {
      const content: SealedContent = {
        text: message.text,
        html: message.html,
        fromName: message.fromName ?? null,
        replyTo: message.replyTo ?? null,
      };
      return {
        id: newId('email'),
        tenant_id: tenantId,
        to_address: message.to,
        template: message.template,
        subject: message.subject,
        sealed_content: this.box.seal(JSON.stringify(content)),
        status: 'queued' as const,
        attempts: 0,
        last_error: null,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
        sent_at: null,
      };
    });
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await executor
        .insertInto('emails')
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }
    return rows.map((r) => r.id);
  }

  /** Starts the sender (main.ts); it looks for due messages at once. */
  start(): void {
    this.rounds.start();
  }

  /** Stops the sender; resolves when a round under way has ended (its messages sent or left for later). */
  async stop(): Promise<void> {
    await this.rounds.stop();
    this.transport?.close();
  }

  /** Asks the sender to look for due messages now (after a commit that queued some). */
  wake(): void {
    this.rounds.wake();
  }

  /** Sends what is due, until nothing is; then waits for a wake-up, the next retry or the poll. */
  private async round(stopped: () => boolean): Promise<number | undefined> {
    while (!stopped() && (await this.sendDue()) === BATCH) {
      // a full batch: there may be more
    }
    return stopped() ? undefined : await this.nextDue().catch(() => undefined);
  }

  private async nextDue(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('emails')
      .select('next_attempt_at')
      .where('status', '=', 'queued')
      .where('next_attempt_at', 'is not', null)
      .orderBy('next_attempt_at')
      .limit(1)
      .executeTakeFirst();
    return row?.next_attempt_at ?? undefined;
  }

  /** One batch of due messages, each taken (leased) and then sent; how many were due. */
  private async sendDue(): Promise<number> {
    const now = Date.now();
    const due = await this.db
      .selectFrom('emails')
      .selectAll()
      .where('status', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(BATCH)
      .execute();
    await Promise.all(due.map((row) => this.take(row, now).then((taken) => (taken ? this.deliver(row) : undefined))));
    return due.length;
  }

  /** Takes a message for this node: only one node's statement moves its attempt time. */
  private async take(row: EmailRow, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('emails')
      .set({ next_attempt_at: this.transport ? now + LEASE_MS : null, updated_at: now })
      .where('id', '=', row.id)
      .where('status', '=', 'queued')
      .where('next_attempt_at', '=', row.next_attempt_at)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  private async deliver(row: EmailRow): Promise<void> {
    let content: SealedContent;
    try {
      content = JSON.parse(this.box.open(row.sealed_content ?? '')) as SealedContent;
    } catch {
      await this.finish(row, 'failed', row.attempts, 'the message could not be read (was LATCHKEY_SECRET changed?)');
      return;
    }
    if (!this.transport) {
      // The embedded outbox: kept whole for system admins; a line for the developer.
      const links = [...content.text.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]);
      if (this.logLinks) {
        this.log.info(
          { emailId: row.id, to: row.to_address, template: row.template, subject: row.subject, links },
          'email not sent (no SMTP_URL): kept in the outbox',
        );
      } else {
        this.log.warn({ emailId: row.id, template: row.template }, 'email not sent (no SMTP_URL): kept in the outbox');
      }
      return;
    }
    const attempts = row.attempts + 1;
    try {
      const sender = senderOf(this.config.from);
      await this.transport.sendMail({
        from: content.fromName ? { name: content.fromName, address: sender.address } : this.config.from,
        to: row.to_address,
        ...(content.replyTo ? { replyTo: content.replyTo } : {}),
        subject: row.subject,
        text: content.text,
        html: content.html,
        // The same id on every attempt: a receiver that saw one attempt land can drop the next.
        messageId: `<${row.id}@${sender.domain}>`,
      });
      await this.finish(row, 'sent', attempts, null);
    } catch (err) {
      const reason = describeFailure(err);
      if (attempts >= this.config.maxAttempts) {
        this.log.warn({ emailId: row.id, attempts, reason }, 'email failed: no more attempts');
        await this.finish(row, 'failed', attempts, reason);
      } else {
        await this.db
          .updateTable('emails')
          .set({
            attempts,
            last_error: reason,
            next_attempt_at: Date.now() + retryDelayMs(attempts),
            updated_at: Date.now(),
          })
          .where('id', '=', row.id)
          .execute();
      }
    }
  }

  /** Sent or failed for good: the content (and any link in it) is erased. */
  private async finish(row: EmailRow, status: 'sent' | 'failed', attempts: number, error: string | null) {
    const now = Date.now();
    await this.db
      .updateTable('emails')
      .set({
        status,
        attempts,
        last_error: error,
        sealed_content: null,
        next_attempt_at: null,
        updated_at: now,
        sent_at: status === 'sent' ? now : null,
      })
      .where('id', '=', row.id)
      .execute();
  }

  /** The tenant's messages, newest first; `whole`: with the content of those still kept (see emailSchema). */
  async list(tenantId: string, query: z.output<typeof emailQuerySchema>, whole: boolean) {
    const sort = parseSort('-createdAt', sortFields, '-createdAt');
    const cursor = decodeCursor(query.cursor, sort);
    let q = this.db.selectFrom('emails').selectAll().where('tenant_id', '=', tenantId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.to !== undefined) q = q.where('to_address', '=', query.to.toLowerCase());
    if (query.template !== undefined) q = q.where('template', '=', query.template);
    const rows = await applyKeyset(q, sort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    const showContent = whole && !this.transport;
    return toPage(
      rows,
      query.limit,
      sort,
      (r) => r.created_at,
      (r) => r.id,
      (r) => this.view(r, showContent),
    );
  }

  private view(r: EmailRow, showContent: boolean): EmailView {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    let content: EmailView['content'];
    if (showContent && r.sealed_content) {
      try {
        const c = JSON.parse(this.box.open(r.sealed_content)) as SealedContent;
        content = { text: c.text, html: c.html };
      } catch {
        content = undefined;
      }
    }
    return {
      id: r.id,
      to: r.to_address,
      template: r.template,
      subject: r.subject,
      status: r.status,
      attempts: r.attempts,
      lastError: r.last_error,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
      sentAt: iso(r.sent_at),
      nextAttemptAt: r.status === 'queued' ? iso(r.next_attempt_at) : null,
      ...(content ? { content } : {}),
    };
  }
}

/** The address and domain of EMAIL_FROM (`Name <a@b>` or `a@b`). */
function senderOf(from: string): { address: string; domain: string } {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
  return { address, domain: address.split('@')[1] ?? 'latchkey' };
}

/** What went wrong, for `lastError`: the server's answer or the error's message, one line, bounded. */
function describeFailure(err: unknown): string {
  const e = err as { response?: unknown; message?: unknown; code?: unknown };
  const text = typeof e.response === 'string' ? e.response : typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e.code === 'string' ? `${e.code}: ` : '';
  return `${code}${text}`.replace(/\s+/g, ' ').slice(0, 500);
}

/** Deletes message records created before `before` (ms), with expired links of users; how many went. */
export async function purgeEmails(db: Kysely<DB>, before: number): Promise<number> {
  const emails = await db.deleteFrom('emails').where('created_at', '<', before).executeTakeFirst();
  // A link is useless once expired; a day later nobody needs to be told it was.
  await db
    .deleteFrom('user_links')
    .where('expires_at', '<', Date.now() - 86_400_000)
    .execute();
  return Number(emails.numDeletedRows);
}
