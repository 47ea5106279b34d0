/**
 * oidc-provider's storage, in our database: one row per artifact (session, interaction,
 * authorization code, tokens, grant...) scoped to the tenant. Clients come from the
 * `clients` table. Single-use artifacts are consumed atomically; consuming one twice
 * revokes its whole grant and fails the request.
 *
 * Nothing stored redeems anything. oidc-provider keys each artifact by its value (`jti`: the
 * code, the token, the session cookie, the interaction uid) and puts that value in the
 * payload it saves; `find(id)` is handed the value, so the row keeps only its SHA-256 (the
 * key) and the payload is stored without it, and the value is put back on read
 * (`withoutValue`, `withValue`). Model by model (docs/oidc.md, "What is stored"):
 * - AuthorizationCode, RefreshToken, AccessToken and ClientCredentials (opaque ones; JWT
 *   access tokens are not stored at all), PushedAuthorizationRequest, ReplayDetection:
 *   SHA-256 of the value only.
 * - Session: SHA-256 of the cookie value only. Its `uid` (stored, found by `findByUid`)
 *   and its clients' `sid`s are names, not credentials: no endpoint takes them as proof.
 *   A session found by uid comes back without its id, which nothing needs there (oidc-
 *   provider only compares its account and grants). The logout form's token it keeps
 *   (`state.secret`) counts only beside the session cookie.
 * - Interaction: SHA-256 of the uid only, and neither the copy of the session cookie that
 *   oidc-provider adds (`session.cookie`) nor the uid at the end of `returnTo` is stored.
 *   (The uid is in the page URL anyway; what continues an interaction is its cookie,
 *   signed with a key derived from the instance secret, which the database does not hold.)
 *   `parJti` names a pushed request, which only starts a sign-in.
 * - Grant: stored with its id, which other rows refer to. A grant id is a name, not a
 *   credential: using a grant takes a session, a code or a refresh token.
 * - Other models (DeviceCode, BackchannelAuthenticationRequest, registration tokens...)
 *   belong to features that are off, and are refused: the device flow finds its code by
 *   user code and needs the value back, which a hash cannot give.
 * Our own tables keep the same rule (client secrets and API keys as SHA-256, passwords as
 * argon2id, private keys encrypted with the instance secret): the table in docs/oidc.md
 * covers them all. A node of the version before this rule reads the value from the payload,
 * so it cannot use what this version stores (docs/oidc.md says what that means for upgrades).
 */
import { hash } from 'node:crypto';
import { type Insertable, type Kysely, sql } from 'kysely';
import type { errors as OidcErrors } from 'oidc-provider';
import { prepared } from '../db/prepared.js';
import type { DB } from '../db/schema.js';
import { type Account, accountColumns, roleNamesOf, toAccount } from '../users/service.js';

/** What oidc-provider stores for a model (loosely typed: it is the library's format). */
export type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  accountId?: string;
  consumed?: number;
  clientId?: string;
  kind?: string;
};

export interface ClientSource {
  /** The client's oidc-provider metadata, or undefined. */
  clientMetadata(tenantId: string, clientId: string): Promise<Record<string, unknown> | undefined>;
}

/** The models this store keeps (see the header); others are refused. */
const storedModels = new Set([
  'Session',
  'Interaction',
  'AuthorizationCode',
  'AccessToken',
  'RefreshToken',
  'ClientCredentials',
  'Grant',
  'PushedAuthorizationRequest',
  'ReplayDetection',
]);

/**
 * Stored key of an artifact. Token, code and session ids are bearer secrets, so only their
 * SHA-256 is stored (a copy of the table grants nothing); grant ids are not secrets and
 * stay as they are, since other rows refer to them.
 */
function storedId(model: string, id: string): string {
  return model === 'Grant' ? id : hash('sha256', id, 'base64url');
}

/** What is stored of a payload: without the value it is keyed by (see the header). */
function withoutValue(model: string, id: string, payload: Payload): Payload {
  if (model === 'Grant') return payload;
  const { jti: _value, ...rest } = payload;
  if (model === 'Interaction') {
    const session = rest.session as Record<string, unknown> | undefined;
    if (session && 'cookie' in session) {
      const { cookie: _cookie, ...named } = session;
      rest.session = named;
    }
    // The resume URL ends in the uid: kept up to it, and completed on read.
    if (typeof rest.returnTo === 'string' && rest.returnTo.endsWith(`/${id}`)) {
      rest.returnTo = rest.returnTo.slice(0, -id.length);
    }
  }
  return rest;
}

/** A stored payload as oidc-provider saved it, given the value it was found by. */
function withValue(model: string, id: string, payload: Payload): Payload {
  if (model === 'Grant') return payload;
  payload.jti = id;
  if (model === 'Interaction' && typeof payload.returnTo === 'string' && payload.returnTo.endsWith('/')) {
    payload.returnTo += id;
  }
  return payload;
}

type Row = Insertable<DB['oidc_payloads']>;

/**
 * One provider request's work with the store (kept per oidc-provider request), so that it makes fewer round
 * trips: a code or refresh token is read with its grant and its user in one query, for the
 * `Grant.find` and `findAccount` that follow (each used once); and what the request saves
 * is written in one statement when it ends, before the answer leaves (`flushWrites`). Nobody
 * else can ask for an artifact before that answer names it; within the request, reads see
 * the unwritten rows, and anything else touching one writes them out first.
 */
interface RequestWork {
  grants: Map<string, Payload | undefined>;
  accounts: Map<string, Account | undefined>;
  /** Saves not yet written, by model and stored id. */
  pending: Map<string, Row>;
  /** The last write of pending saves, settled or not: what comes after waits for it. */
  flushing: Promise<void>;
}

/**
 * The provider request under way: oidc-provider's own async context (`Provider.ctx`, its Koa
 * context), set by provider.ts once the library is loaded. Keyed by it rather than by an async
 * context of our own: a second AsyncLocalStorage costs every promise of every request its
 * propagation (about 130 ns an await on this machine, some 0.25 ms a sign-in). Outside a
 * provider request (the interaction pages) there is none, and the adapter writes at once.
 */
let currentRequest: () => object | undefined = () => undefined;
const works = new WeakMap<object, RequestWork>();

export function useProviderContext(current: () => object | undefined): void {
  currentRequest = current;
}

/** The store work of the provider request under way (made on first use), if any. */
function requestWork(): RequestWork | undefined {
  const ctx = currentRequest();
  if (!ctx) return undefined;
  let work = works.get(ctx);
  if (!work) {
    work = { grants: new Map(), accounts: new Map(), pending: new Map(), flushing: Promise.resolve() };
    works.set(ctx, work);
  }
  return work;
}

/**
 * Writes what the request saved; call before its answer leaves (provider.ts, with the request's
 * Koa context, from a middleware outside oidc-provider's own async context). Settles once every
 * save of the request so far is written, also those another call began writing; undefined
 * when the request touched the store not at all (no promise to wait for).
 */
export function flushWrites(db: Kysely<DB>, ctx?: object): Promise<void> | undefined {
  const work = ctx ? works.get(ctx) : requestWork();
  if (!work) return undefined;
  if (work.pending.size > 0) {
    const rows = [...work.pending.values()];
    work.pending.clear();
    const before = work.flushing;
    const write = before.then(() => upsertRows(db, rows)).then(() => undefined);
    // Later calls wait for this write, but its failure is reported to this call only.
    work.flushing = write.catch(() => undefined);
    return write;
  }
  return work.flushing;
}

/** The user read with this request's code or refresh token, if it was. */
export function accountReadWithToken(accountId: string): { account: Account | undefined } | undefined {
  const accounts = requestWork()?.accounts;
  if (!accounts?.has(accountId)) return undefined;
  const account = accounts.get(accountId);
  accounts.delete(accountId);
  return { account };
}

/** Saves rows; a row of the same model and id in another tenant is left as it is. */
async function upsertRows(db: Kysely<DB>, rows: Row[]): Promise<void> {
  const insert = upserts[rows.length - 1];
  if (!insert) {
    await upsertQuery(db, rows).execute();
    return;
  }
  const values: Record<string, unknown> = {};
  rows.forEach((row, i) => {
    for (const column of rowColumns) values[`${i}.${column}`] = row[column];
  });
  await insert(db, values);
}

const rowColumns = [
  'model',
  'id',
  'tenant_id',
  'payload',
  'grant_id',
  'user_code',
  'uid',
  'account_id',
  'expires_at',
  'consumed_at',
] as const satisfies readonly (keyof Row)[];

function upsertQuery(db: Kysely<DB>, rows: Row[]) {
  return db
    .insertInto('oidc_payloads')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['model', 'id'])
        .doUpdateSet((eb) => ({
          payload: eb.ref('excluded.payload'),
          grant_id: eb.ref('excluded.grant_id'),
          user_code: eb.ref('excluded.user_code'),
          uid: eb.ref('excluded.uid'),
          account_id: eb.ref('excluded.account_id'),
          expires_at: eb.ref('excluded.expires_at'),
        }))
        .whereRef('oidc_payloads.tenant_id', '=', 'excluded.tenant_id'),
    );
}

/** The upsert of one to four rows, prepared (a request saves one to three). */
const upserts = [1, 2, 3, 4].map((n) =>
  prepared((db, p: Record<string, unknown>) =>
    upsertQuery(
      db,
      Array.from({ length: n }, (_, i) => Object.fromEntries(rowColumns.map((c) => [c, p[`${i}.${c}`]])) as Row),
    ),
  ),
);

const selectStored = prepared((db, p: { model: string; id: string }) =>
  db
    .selectFrom('oidc_payloads')
    .select(['tenant_id', 'payload', 'consumed_at', 'expires_at'])
    .where('model', '=', p.model)
    .where('id', '=', p.id),
);

const selectWithGrant = prepared((db, p: { model: string; id: string }, dialect) =>
  db
    .selectFrom('oidc_payloads as t')
    .leftJoin('oidc_payloads as g', (join) => join.on('g.model', '=', 'Grant').onRef('g.id', '=', 't.grant_id'))
    .leftJoin('users', (join) => join.onRef('users.id', '=', 't.account_id'))
    .select([
      't.tenant_id',
      't.payload',
      't.consumed_at',
      't.expires_at',
      't.grant_id',
      't.account_id',
      'g.tenant_id as grant_tenant_id',
      'g.payload as grant_payload',
      'g.consumed_at as grant_consumed_at',
      'g.expires_at as grant_expires_at',
      'users.id as user_id',
      'users.tenant_id as user_tenant_id',
      ...accountColumns.map((column) => `users.${column}` as const),
    ])
    .select(roleNamesOf(dialect))
    .where('t.model', '=', p.model)
    .where('t.id', '=', p.id),
);

const consumeStored = prepared((db, p: { now: number; model: string; id: string; tenantId: string }) =>
  db
    .updateTable('oidc_payloads')
    .set({ consumed_at: p.now })
    .where('model', '=', p.model)
    .where('id', '=', p.id)
    .where('consumed_at', 'is', null)
    .where(ownedBy(p.tenantId)),
);

const deleteStored = prepared((db, p: { model: string; id: string; tenantId: string }) =>
  db.deleteFrom('oidc_payloads').where('model', '=', p.model).where('id', '=', p.id).where(ownedBy(p.tenantId)),
);

/**
 * Keeps a statement to this tenant's rows without offering the planner another way in: a
 * plain `tenant_id = ?` beside a primary-key match can lead PostgreSQL's cached generic
 * plans to the tenant's index instead (see `toPayload`); an expression has no index.
 */
function ownedBy(tenantId: string) {
  return sql<boolean>`(tenant_id || '') = ${tenantId}`;
}

/** A grant this request changes is read afresh. */
function forgetGrant(grantId: string): void {
  requestWork()?.grants.delete(grantId);
}

/** Models whose rows name the grant and the user they were issued to, read with both. */
const readWithGrant = new Set(['AuthorizationCode', 'RefreshToken']);

export class DbAdapter {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly tenantId: string,
    private readonly model: string,
    private readonly clients: ClientSource,
    /** oidc-provider's error classes (the module is loaded lazily, on first use of OIDC). */
    private readonly errors: typeof OidcErrors,
  ) {}

  private key(storedId: string): string {
    return `${this.model}:${storedId}`;
  }

  /** Before anything but a read touches rows this request has not written yet. */
  private async settle(): Promise<void> {
    await flushWrites(this.db);
  }

  async upsert(id: string, payload: Payload, expiresIn: number): Promise<void> {
    if (this.model === 'Client') throw new Error('clients are managed through the admin API');
    if (!storedModels.has(this.model)) throw new Error(`${this.model} is not stored: its feature is off (adapter.ts)`);
    if (this.model === 'Grant') forgetGrant(id);
    const row: Row = {
      model: this.model,
      id: storedId(this.model, id),
      tenant_id: this.tenantId,
      payload: JSON.stringify(withoutValue(this.model, id, payload)),
      grant_id: this.model === 'Grant' ? id : (payload.grantId ?? null),
      user_code: payload.userCode ?? null,
      // Grants are indexed by client (in uid) so that deleting a client can find them.
      uid: this.model === 'Grant' ? (payload.clientId ?? null) : (payload.uid ?? null),
      account_id: payload.accountId ?? null,
      expires_at: expiresIn ? Date.now() + expiresIn * 1000 : null,
      consumed_at: null,
    };
    const work = requestWork();
    if (work) work.pending.set(this.key(row.id), row);
    else await upsertRows(this.db, [row]);
  }

  async find(id: string): Promise<Payload | undefined> {
    if (this.model === 'Client') {
      return (await this.clients.clientMetadata(this.tenantId, id)) as Payload | undefined;
    }
    const payload = await this.findStored(id);
    return payload && withValue(this.model, id, payload);
  }

  /** The stored payload of the artifact `id` names, as stored (without its value). */
  private async findStored(id: string): Promise<Payload | undefined> {
    const work = requestWork();
    const stored = storedId(this.model, id);
    const pending = work?.pending.get(this.key(stored));
    if (pending) return this.toPayload({ ...pending, consumed_at: null, expires_at: pending.expires_at ?? null });
    if (this.model === 'Grant' && work?.grants.has(id)) {
      const grant = work.grants.get(id);
      work.grants.delete(id);
      return grant;
    }
    if (work && readWithGrant.has(this.model)) return this.findWithGrant(stored, work);
    const [row] = (await selectStored(this.db, { model: this.model, id: stored })).rows;
    return row ? this.toPayload(row) : undefined;
  }

  /** The artifact and, into the request's work, the grant and the user it names. */
  private async findWithGrant(stored: string, work: RequestWork): Promise<Payload | undefined> {
    const [row] = (await selectWithGrant(this.db, { model: this.model, id: stored })).rows;
    if (row?.tenant_id !== this.tenantId) return undefined;
    if (row.grant_id) {
      work.grants.set(
        row.grant_id,
        row.grant_payload === null
          ? undefined
          : this.toPayload({
              tenant_id: row.grant_tenant_id as string,
              payload: row.grant_payload,
              consumed_at: row.grant_consumed_at,
              expires_at: row.grant_expires_at,
            }),
      );
    }
    if (row.account_id) {
      work.accounts.set(
        row.account_id,
        row.user_id === null || row.user_tenant_id !== this.tenantId
          ? undefined
          : // The left join leaves the columns nullable in type; the user is there.
            toAccount({ ...(row as typeof row & Account), id: row.user_id }),
      );
    }
    return this.toPayload(row);
  }

  /** A session by its uid, without its id (see the header): oidc-provider only reads it. */
  async findByUid(uid: string): Promise<Payload | undefined> {
    await this.settle();
    const row = await this.db
      .selectFrom('oidc_payloads')
      .select(['tenant_id', 'payload', 'consumed_at', 'expires_at'])
      .where('model', '=', this.model)
      .where('uid', '=', uid)
      .where(ownedBy(this.tenantId))
      .executeTakeFirst();
    return row ? this.toPayload(row) : undefined;
  }

  /** Part of oidc-provider's contract; nothing stored has a user code (the device flow is refused). */
  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    await this.settle();
    const row = await this.db
      .selectFrom('oidc_payloads')
      .select(['tenant_id', 'payload', 'consumed_at', 'expires_at'])
      .where('model', '=', this.model)
      .where('user_code', '=', userCode)
      .where(ownedBy(this.tenantId))
      .executeTakeFirst();
    return row ? this.toPayload(row) : undefined;
  }

  /**
   * Marks a single-use artifact used, exactly once: of several concurrent attempts one
   * updates the row; the others find it consumed, revoke the grant and fail.
   */
  async consume(id: string): Promise<void> {
    await this.settle();
    const res = await consumeStored(this.db, {
      now: Date.now(),
      model: this.model,
      id: storedId(this.model, id),
      tenantId: this.tenantId,
    });
    if (res.numAffectedRows === 0n) {
      const row = await this.db
        .selectFrom('oidc_payloads')
        .select('grant_id')
        .where('model', '=', this.model)
        .where('id', '=', storedId(this.model, id))
        .where(ownedBy(this.tenantId))
        .executeTakeFirst();
      if (row?.grant_id) await this.revokeWholeGrant(row.grant_id);
      throw new this.errors.InvalidGrant(`${this.model === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
    }
  }

  async destroy(id: string): Promise<void> {
    if (this.model === 'Grant') forgetGrant(id);
    await this.settle();
    await deleteStored(this.db, { model: this.model, id: storedId(this.model, id), tenantId: this.tenantId });
  }

  /** oidc-provider calls this once per model: remove this model's rows of the grant. */
  async revokeByGrantId(grantId: string): Promise<void> {
    forgetGrant(grantId);
    await this.settle();
    await this.db
      .deleteFrom('oidc_payloads')
      .where('model', '=', this.model)
      .where('grant_id', '=', grantId)
      .where(ownedBy(this.tenantId))
      .execute();
  }

  /** A replayed code or refresh token: everything issued under the grant goes, grant too. */
  private async revokeWholeGrant(grantId: string): Promise<void> {
    forgetGrant(grantId);
    await this.settle();
    await this.db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).where(ownedBy(this.tenantId)).execute();
  }

  /**
   * The stored payload, if it belongs to this tenant and has not expired. Rows are found by
   * their primary key alone (a filter on the tenant beside it can lead PostgreSQL's cached
   * generic plans to the tenant's index instead, scanning all of its rows), and the tenant
   * is checked here.
   */
  private toPayload(row: {
    tenant_id: string;
    payload: string;
    consumed_at: number | null;
    expires_at: number | null;
  }) {
    if (row.tenant_id !== this.tenantId) return undefined;
    if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as Payload;
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000);
    return payload;
  }
}

/** Deletes expired artifacts; run on a schedule. Returns how many went. */
export async function purgeExpired(db: Kysely<DB>): Promise<number> {
  const res = await db.deleteFrom('oidc_payloads').where('expires_at', '<=', Date.now()).executeTakeFirst();
  return Number(res.numDeletedRows);
}
