/**
 * Applications (OAuth clients) of a tenant. The kind sets the protocol defaults:
 * `web` is confidential with the authorization code grant, `spa` and `native` are public and
 * must use PKCE, `service` uses client credentials only and carries the roles it is granted.
 * Secrets are shown once and stored as SHA-256 digests. Whatever makes an application a
 * credential (its secret, roles, redirect URIs, scopes, first-party flag) is set only by a
 * caller who holds what the application could then obtain (`reachOf`, auth/grants.ts).
 */
import { hash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AuditActor, AuditService } from '../audit/service.js';
import { actingForAnyone, assertMayGrant, type Grant, NO_REACH, unionOf } from '../auth/grants.js';
import type { Principal } from '../auth/permissions.js';
import { TtlCache } from '../cache.js';
import { isUniqueViolation } from '../db/database.js';
import type { ClientRow, DB } from '../db/schema.js';
import { deleteAtVersion } from '../db/versions.js';
import { badRequest, conflict, notFound, preconditionFailed } from '../http/errors.js';
import { applyKeyset, cursorSchema, decodeCursor, limitSchema, parseSort, toPage } from '../http/pagination.js';
import { idPattern, newId } from '../ids.js';
import { isOidcScope } from '../oidc/scopes.js';
import { type Role, type RoleService, roleNameSchema } from '../roles/service.js';
import type { Tenant } from '../tenants/service.js';

export const ADMIN_CONSOLE_CLIENT_ID = 'admin-console';
/** The built-in client of the account page, /t/{slug}/account. */
export const ACCOUNT_CLIENT_ID = 'account';
export const clientKinds = ['web', 'spa', 'native', 'service'] as const;
export type ClientKind = (typeof clientKinds)[number];

/**
 * ID tokens are RS256 unless the application asks otherwise: OpenID Connect's registration
 * default, which certified relying parties assume. Stored on each client when it is made, so
 * a client made under the earlier ES256 default keeps it (its relying party works with it).
 */
export const DEFAULT_ID_TOKEN_ALG = 'RS256';

export const clientIdSchema = z
  .string()
  .max(100)
  .refine((v) => v === ADMIN_CONSOLE_CLIENT_ID || v === ACCOUNT_CLIENT_ID || idPattern('client').test(v), {
    message: 'must be a client id (cli_…)',
  });

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https anywhere; http only on loopback; no fragment, no credentials. */
export function isAllowedRedirectUri(value: string): boolean {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return false;
  }
  if (u.hash || value.includes('#') || u.username || u.password) return false;
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && loopbackHosts.has(u.hostname);
}

const redirectUriSchema = z
  .string()
  .max(2048)
  .refine(isAllowedRedirectUri, { message: 'must be https, or http on localhost/127.0.0.1, without a fragment' });

const scopeSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token');
const ttl = (min: number, max: number) => z.number().int().min(min).max(max);

const commonFields = {
  name: z.string().trim().min(1).max(200),
  redirectUris: z
    .array(redirectUriSchema)
    .max(50)
    .describe(
      'Where the authorization response may go; `redirect_uri` must match one exactly (a trailing slash counts)',
    ),
  postLogoutRedirectUris: z
    .array(redirectUriSchema)
    .max(50)
    .describe('Where sign-out may return; `post_logout_redirect_uri` must match one exactly (a trailing slash counts)'),
  scopes: z.array(scopeSchema).max(100).describe('Scopes the client may ask for'),
  firstParty: z.boolean().describe('First-party clients skip the consent screen'),
  defaultApi: z.string().max(2048).nullable().describe('Identifier of the API its access tokens are for by default'),
  accessTokenTtlSeconds: ttl(60, 86_400).nullable(),
  refreshTokenIdleSeconds: ttl(300, 365 * 86_400).nullable(),
  refreshTokenAbsoluteSeconds: ttl(300, 365 * 86_400).nullable(),
  idTokenSigningAlg: z
    .enum(['ES256', 'RS256'])
    .describe('How ID tokens are signed: RS256 (default; what certified libraries assume) or ES256'),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']),
  roles: z.array(roleNameSchema).max(50).describe('Roles a service client holds (service kind only)'),
};

/** Everything but the kind can be set at creation and changed later; all of it is optional. */
const optionalFields = Object.fromEntries(Object.entries(commonFields).map(([k, v]) => [k, v.optional()])) as {
  [K in keyof typeof commonFields]: z.ZodOptional<(typeof commonFields)[K]>;
};

export const createClientSchema = z.strictObject({
  kind: z.enum(clientKinds),
  ...optionalFields,
  name: commonFields.name,
});

export const updateClientSchema = z.strictObject(optionalFields);

export const listClientsQuerySchema = z.strictObject({
  kind: z.enum(clientKinds).optional(),
  sort: z.string().optional().describe('`name` or `createdAt`, `-` for descending'),
  limit: limitSchema,
  cursor: cursorSchema,
});

export const clientSchema = z
  .object({
    id: z.string(),
    clientId: z.string(),
    kind: z.enum(clientKinds),
    name: z.string(),
    confidential: z.boolean(),
    redirectUris: z.array(z.string()),
    postLogoutRedirectUris: z.array(z.string()),
    scopes: z.array(z.string()),
    firstParty: z.boolean(),
    defaultApi: z.string().nullable(),
    accessTokenTtlSeconds: z.number().int().nullable(),
    refreshTokenIdleSeconds: z.number().int().nullable(),
    refreshTokenAbsoluteSeconds: z.number().int().nullable(),
    idTokenSigningAlg: z.enum(['ES256', 'RS256']),
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']),
    roles: z.array(z.string()),
    builtin: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int(),
  })
  .meta({ id: 'Client' });

export const clientWithSecretSchema = clientSchema
  .extend({ clientSecret: z.string().describe('Shown this once; stored only as a hash') })
  .meta({ id: 'ClientWithSecret' });

export type ClientView = z.infer<typeof clientSchema>;

/** Settings kept in the `settings`-like columns, parsed. */
export interface Client extends ClientView {
  tenantId: string;
  secretHash: string | null;
}

const isConfidential = (kind: ClientKind) => kind === 'web' || kind === 'service';

export function hashClientSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

const sortFields = {
  name: { column: 'name', type: 'string' },
  createdAt: { column: 'created_at', type: 'number' },
} as const;

export function toClient(r: ClientRow, roles: string[], defaultApi: string | null): Client {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    clientId: r.client_id,
    kind: r.kind,
    name: r.name,
    confidential: isConfidential(r.kind),
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(r.post_logout_redirect_uris) as string[],
    scopes: JSON.parse(r.scopes) as string[],
    firstParty: r.first_party === 1,
    defaultApi,
    accessTokenTtlSeconds: r.access_token_ttl,
    refreshTokenIdleSeconds: r.refresh_token_idle_ttl,
    refreshTokenAbsoluteSeconds: r.refresh_token_absolute_ttl,
    idTokenSigningAlg: r.id_token_alg,
    tokenEndpointAuthMethod: r.token_endpoint_auth_method,
    roles,
    builtin: r.builtin === 1,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    version: r.version,
    secretHash: r.secret_hash,
  };
}

export function clientView(c: Client): ClientView {
  const { tenantId: _t, secretHash: _s, ...view } = c;
  return view;
}

/** Defaults by kind, then the request, then the rules each kind must follow. */
function resolveFields(kind: ClientKind, input: z.output<typeof updateClientSchema>, current?: Client) {
  const base = {
    redirectUris: current?.redirectUris ?? [],
    postLogoutRedirectUris: current?.postLogoutRedirectUris ?? [],
    scopes: current?.scopes ?? (kind === 'service' ? [] : ['openid', 'profile', 'email', 'offline_access']),
    firstParty: current?.firstParty ?? false,
    accessTokenTtlSeconds: current?.accessTokenTtlSeconds ?? null,
    refreshTokenIdleSeconds: current?.refreshTokenIdleSeconds ?? null,
    refreshTokenAbsoluteSeconds: current?.refreshTokenAbsoluteSeconds ?? null,
    idTokenSigningAlg: current?.idTokenSigningAlg ?? DEFAULT_ID_TOKEN_ALG,
    tokenEndpointAuthMethod:
      current?.tokenEndpointAuthMethod ?? (isConfidential(kind) ? 'client_secret_basic' : 'none'),
  };
  const merged = {
    ...base,
    ...Object.fromEntries(
      Object.entries(input).filter(([k, v]) => v !== undefined && k !== 'roles' && k !== 'defaultApi' && k !== 'name'),
    ),
  } as typeof base;
  if (!isConfidential(kind) && input.tokenEndpointAuthMethod !== undefined) {
    throw badRequest('invalid_client_settings', 'Public clients (spa, native) have no secret to authenticate with');
  }
  if (!isConfidential(kind)) merged.tokenEndpointAuthMethod = 'none';
  if (kind === 'service') {
    if (merged.redirectUris.length > 0 || merged.postLogoutRedirectUris.length > 0) {
      throw badRequest('invalid_client_settings', 'Service clients use client credentials: no redirect URIs');
    }
    if (merged.scopes.some(isOidcScope)) {
      throw badRequest('invalid_client_settings', 'Service clients sign in no user: no OpenID Connect scopes');
    }
  } else {
    if (merged.redirectUris.length === 0) {
      throw badRequest('invalid_client_settings', 'This kind of client needs at least one redirect URI', {
        field: 'redirectUris',
      });
    }
    if (input.roles !== undefined && input.roles.length > 0) {
      throw badRequest('invalid_client_settings', 'Only service clients hold roles');
    }
  }
  const rt = merged.refreshTokenIdleSeconds;
  const rta = merged.refreshTokenAbsoluteSeconds;
  if (rt !== null && rta !== null && rt > rta) {
    throw badRequest('invalid_client_settings', 'refreshTokenIdleSeconds must not exceed refreshTokenAbsoluteSeconds');
  }
  return merged;
}

/** The settings that decide what an application can obtain, so changing one is a grant. */
const credentialFields = [
  'roles',
  'redirectUris',
  'postLogoutRedirectUris',
  'scopes',
  'defaultApi',
  'firstParty',
  'tokenEndpointAuthMethod',
] as const;

/** Whether a setting sent equals the current one (role names in any order). */
function sameSetting(field: (typeof credentialFields)[number], given: unknown, current: unknown): boolean {
  const norm = (v: unknown) => (field === 'roles' && Array.isArray(v) ? [...new Set(v)].sort() : v);
  return JSON.stringify(norm(given)) === JSON.stringify(norm(current));
}

/**
 * What an application could obtain. A first-party one acts silently for any signed-in user:
 * everything in the tenant (everywhere, in the system tenant). A service client: what its roles grant. Any other application
 * gets only what each user consents to, so it hands out nothing of the caller's.
 */
export function reachOf(tenant: Tenant, firstParty: boolean, roles: readonly Role[]): Grant {
  return firstParty ? { roles, reach: actingForAnyone(tenant.slug) } : { roles };
}

export class ClientService {
  private readonly cache: TtlCache<string, Client | null>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly audit: AuditService,
    private readonly roles: RoleService,
    private readonly adminApiIdentifier: string,
    cacheTtlMs: number,
  ) {
    this.cache = new TtlCache(cacheTtlMs, 10_000);
  }

  /** A client by its OAuth client_id within a tenant (for the provider), briefly cached. */
  async findByClientId(tenantId: string, clientId: string): Promise<Client | undefined> {
    const key = `${tenantId}:${clientId}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const row = await this.db
      .selectFrom('clients')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    const client = row ? await this.hydrate(this.db, row) : null;
    this.cache.set(key, client);
    return client ?? undefined;
  }

  /** Forget cached clients: called after this node changes one (or a role they hold). */
  invalidate(): void {
    this.cache.clear();
  }

  async get(tenant: Tenant, id: string, executor: Kysely<DB> = this.db): Promise<Client> {
    const row = await executor
      .selectFrom('clients')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where((eb) => eb.or([eb('id', '=', id), eb('client_id', '=', id)]))
      .executeTakeFirst();
    if (!row) throw notFound('client_not_found', `No client ${id} in tenant "${tenant.slug}"`);
    return this.hydrate(executor, row);
  }

  async list(tenant: Tenant, query: z.output<typeof listClientsQuerySchema>) {
    const sort = parseSort(query.sort, sortFields, 'name');
    const cursor = decodeCursor(query.cursor, sort);
    let q = this.db.selectFrom('clients').selectAll().where('tenant_id', '=', tenant.id);
    if (query.kind) q = q.where('kind', '=', query.kind);
    const rows = await applyKeyset(q, sort, 'id', cursor)
      .limit(query.limit + 1)
      .execute();
    const hydrated = await this.hydrateAll(this.db, rows);
    const byId = new Map(hydrated.map((c) => [c.id, c]));
    return toPage(
      rows,
      query.limit,
      sort,
      (r) => (sort.column === 'name' ? r.name : r.created_at),
      (r) => r.id,
      (r) => clientView(byId.get(r.id) as Client),
    );
  }

  async create(tenant: Tenant, input: z.output<typeof createClientSchema>, principal: Principal, actor: AuditActor) {
    const fields = resolveFields(input.kind, input);
    try {
      const { client, secret } = await this.db.transaction().execute(async (trx) => {
        const roles = await this.checkRoles(trx, tenant, input.kind, input.roles ?? []);
        assertMayGrant(principal, tenant.id, 'Creating this application', reachOf(tenant, fields.firstParty, roles));
        const roleIds = roles.map((r) => r.id);
        await this.checkScopes(trx, tenant, fields.scopes);
        const defaultApiId = await this.apiId(trx, tenant, input.defaultApi);
        const secret = isConfidential(input.kind) ? generateSecret() : null;
        const id = newId('client');
        const now = Date.now();
        await trx
          .insertInto('clients')
          .values({
            id,
            tenant_id: tenant.id,
            client_id: id,
            kind: input.kind,
            name: input.name,
            secret_hash: secret ? hashClientSecret(secret) : null,
            redirect_uris: JSON.stringify(fields.redirectUris),
            post_logout_redirect_uris: JSON.stringify(fields.postLogoutRedirectUris),
            scopes: JSON.stringify(fields.scopes),
            first_party: fields.firstParty ? 1 : 0,
            id_token_alg: fields.idTokenSigningAlg,
            token_endpoint_auth_method: fields.tokenEndpointAuthMethod,
            default_api_id: defaultApiId,
            access_token_ttl: fields.accessTokenTtlSeconds,
            refresh_token_idle_ttl: fields.refreshTokenIdleSeconds,
            refresh_token_absolute_ttl: fields.refreshTokenAbsoluteSeconds,
            builtin: 0,
            created_at: now,
            updated_at: now,
          })
          .execute();
        if (roleIds.length > 0) {
          await trx
            .insertInto('client_roles')
            .values(roleIds.map((roleId) => ({ tenant_id: tenant.id, client_id: id, role_id: roleId })))
            .execute();
        }
        await this.audit.record(trx, actor, {
          tenantId: tenant.id,
          action: 'client.create',
          target: { type: 'client', id },
          details: { kind: input.kind, name: input.name },
        });
        const row = await trx.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        return { client: await this.hydrate(trx, row), secret };
      });
      this.invalidate();
      return { ...clientView(client), ...(secret ? { clientSecret: secret } : {}) };
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('client_exists', 'A client with this id exists');
      throw err;
    }
  }

  async update(
    tenant: Tenant,
    id: string,
    input: z.output<typeof updateClientSchema>,
    ifMatch: number[] | undefined,
    principal: Principal,
    actor: AuditActor,
  ): Promise<ClientView> {
    const updated = await this.db.transaction().execute(async (trx) => {
      const current = await this.get(tenant, id, trx);
      if (ifMatch && !ifMatch.includes(current.version)) throw preconditionFailed();
      const fields = resolveFields(current.kind, input, current);
      let roles: Role[] | undefined;
      if (input.roles !== undefined) roles = await this.checkRoles(trx, tenant, current.kind, input.roles);
      // A form that sends a setting back unchanged (the console does) changes no credential.
      const changing = credentialFields.filter((f) => input[f] !== undefined && !sameSetting(f, input[f], current[f]));
      if (changing.length > 0) {
        // What it could obtain before (the change takes that over) and after.
        const held = await this.roles.byNames(trx, tenant, current.roles);
        const before = reachOf(tenant, current.firstParty, held);
        const after = reachOf(tenant, fields.firstParty, roles ?? held);
        // A new redirect URI receives, silently, codes of every user who consented to the
        // application: it takes over those consents, what anyone may have given (issue 9).
        const consents = fields.redirectUris.some((uri) => !current.redirectUris.includes(uri))
          ? await this.consentsGiven(trx, tenant, current.clientId)
          : NO_REACH;
        assertMayGrant(principal, tenant.id, `Changing this application’s ${changing.join(', ')}`, {
          roles: [...(before.roles ?? []), ...(after.roles ?? [])],
          reach: unionOf(unionOf(before.reach ?? NO_REACH, after.reach ?? NO_REACH), consents),
        });
      }
      if (input.scopes !== undefined) await this.checkScopes(trx, tenant, fields.scopes);
      const changes: Record<string, unknown> = {
        redirect_uris: JSON.stringify(fields.redirectUris),
        post_logout_redirect_uris: JSON.stringify(fields.postLogoutRedirectUris),
        scopes: JSON.stringify(fields.scopes),
        first_party: fields.firstParty ? 1 : 0,
        id_token_alg: fields.idTokenSigningAlg,
        token_endpoint_auth_method: fields.tokenEndpointAuthMethod,
        access_token_ttl: fields.accessTokenTtlSeconds,
        refresh_token_idle_ttl: fields.refreshTokenIdleSeconds,
        refresh_token_absolute_ttl: fields.refreshTokenAbsoluteSeconds,
        version: current.version + 1,
        updated_at: Date.now(),
      };
      if (input.name !== undefined) changes.name = input.name;
      if (input.defaultApi !== undefined) changes.default_api_id = await this.apiId(trx, tenant, input.defaultApi);
      const res = await trx
        .updateTable('clients')
        .set(changes)
        .where('id', '=', current.id)
        .where('version', '=', current.version)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) throw preconditionFailed();
      if (roles !== undefined) {
        await trx.deleteFrom('client_roles').where('client_id', '=', current.id).execute();
        if (roles.length > 0) {
          await trx
            .insertInto('client_roles')
            .values(roles.map((r) => ({ tenant_id: tenant.id, client_id: current.id, role_id: r.id })))
            .execute();
        }
      }
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'client.update',
        target: { type: 'client', id: current.id },
        details: { fields: Object.keys(input) },
      });
      const row = await trx.selectFrom('clients').selectAll().where('id', '=', current.id).executeTakeFirstOrThrow();
      return clientView(await this.hydrate(trx, row));
    });
    this.invalidate();
    return updated;
  }

  /** A new secret hands over all the application could obtain: the caller must hold that. */
  async rotateSecret(tenant: Tenant, id: string, principal: Principal, actor: AuditActor) {
    const current = await this.get(tenant, id);
    if (!current.confidential) throw conflict('public_client', 'Public clients (spa, native) have no secret');
    const roles = await this.roles.byNames(this.db, tenant, current.roles);
    assertMayGrant(
      principal,
      tenant.id,
      'Rotating this application’s secret',
      reachOf(tenant, current.firstParty, roles),
    );
    const secret = generateSecret();
    const updated = await this.db.transaction().execute(async (trx) => {
      // Each rotation its own version, however many run at once, and its answer that version.
      await trx
        .updateTable('clients')
        .set((eb) => ({
          secret_hash: hashClientSecret(secret),
          version: eb('version', '+', 1),
          updated_at: Date.now(),
        }))
        .where('id', '=', current.id)
        .execute();
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'client.secret.rotate',
        target: { type: 'client', id: current.id },
      });
      const row = await trx.selectFrom('clients').selectAll().where('id', '=', current.id).executeTakeFirstOrThrow();
      return this.hydrate(trx, row);
    });
    this.invalidate();
    return { ...clientView(updated), clientSecret: secret };
  }

  async delete(tenant: Tenant, id: string, ifMatch: number[] | undefined, actor: AuditActor): Promise<string> {
    const current = await this.get(tenant, id);
    if (current.builtin)
      throw conflict('builtin_client', 'A built-in client (the admin console, the account page) cannot be deleted');
    if (ifMatch && !ifMatch.includes(current.version)) throw preconditionFailed();
    await this.db.transaction().execute(async (trx) => {
      // The version read is part of the delete: a change in between wins (412).
      await deleteAtVersion(trx, 'clients', current.id, current.version);
      // Tokens and grants issued to it go with it.
      await trx
        .deleteFrom('oidc_payloads')
        .where('tenant_id', '=', tenant.id)
        .where('grant_id', 'in', grantsOf(trx, tenant.id, current.clientId))
        .execute();
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'client.delete',
        target: { type: 'client', id: current.id },
        details: { name: current.name },
      });
    });
    this.invalidate();
    return current.clientId;
  }

  /**
   * What the application's users have consented to: anything a user may consent to, so
   * acting for anyone in the tenant, once one live consent exists; else nothing.
   */
  private async consentsGiven(trx: Kysely<DB>, tenant: Tenant, clientId: string) {
    const now = Date.now();
    const consent = await grantsOf(trx, tenant.id, clientId)
      .where((eb) => eb.or([eb('g.expires_at', 'is', null), eb('g.expires_at', '>', now)]))
      .limit(1)
      .executeTakeFirst();
    return consent ? actingForAnyone(tenant.slug) : NO_REACH;
  }

  private async checkRoles(trx: Kysely<DB>, tenant: Tenant, kind: ClientKind, names: string[]): Promise<Role[]> {
    if (names.length === 0) return [];
    if (kind !== 'service') throw badRequest('invalid_client_settings', 'Only service clients hold roles');
    return this.roles.byNames(trx, tenant, names);
  }

  /** An application may be given the OpenID Connect scopes and the scopes of the tenant's APIs. */
  private async checkScopes(trx: Kysely<DB>, tenant: Tenant, scopes: readonly string[]): Promise<void> {
    const others = scopes.filter((s) => !isOidcScope(s));
    if (others.length === 0) return;
    const rows = await trx.selectFrom('apis').select('scopes').where('tenant_id', '=', tenant.id).execute();
    const known = new Set(rows.flatMap((r) => (JSON.parse(r.scopes) as { name: string }[]).map((s) => s.name)));
    const unknown = [...new Set(others.filter((s) => !known.has(s)))];
    if (unknown.length > 0) {
      throw badRequest('unknown_scope', `No API of this tenant defines ${unknown.join(', ')}`, { scopes: unknown });
    }
  }

  private async apiId(trx: Kysely<DB>, tenant: Tenant, identifier: string | null | undefined): Promise<string | null> {
    if (identifier === null || identifier === undefined) return null;
    if (identifier === this.adminApiIdentifier) return null; // the built-in admin API is the service default
    const row = await trx
      .selectFrom('apis')
      .select('id')
      .where('tenant_id', '=', tenant.id)
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    if (!row) throw badRequest('unknown_api', `No API with identifier ${identifier} in this tenant`);
    return row.id;
  }

  private async hydrate(executor: Kysely<DB>, row: ClientRow): Promise<Client> {
    const [client] = await this.hydrateAll(executor, [row]);
    return client as Client;
  }

  /** Clients with their role names and default API: two queries for any number of rows. */
  private async hydrateAll(executor: Kysely<DB>, rows: ClientRow[]): Promise<Client[]> {
    if (rows.length === 0) return [];
    const roles = await executor
      .selectFrom('client_roles')
      .innerJoin('roles', 'roles.id', 'client_roles.role_id')
      .select(['client_roles.client_id', 'roles.name'])
      .where(
        'client_roles.client_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('roles.name')
      .execute();
    const apiIds = [...new Set(rows.flatMap((r) => (r.default_api_id ? [r.default_api_id] : [])))];
    const apis =
      apiIds.length === 0
        ? []
        : await executor.selectFrom('apis').select(['id', 'identifier']).where('id', 'in', apiIds).execute();
    return rows.map((row) => {
      const defaultApi = row.default_api_id
        ? (apis.find((a) => a.id === row.default_api_id)?.identifier ?? null)
        : row.kind === 'service'
          ? this.adminApiIdentifier
          : null;
      return toClient(
        row,
        roles.filter((r) => r.client_id === row.id).map((r) => r.name),
        defaultApi,
      );
    });
  }
}

/**
 * The built-in first-party public clients every tenant has: the admin console (a SPA) and the
 * account page (accounts/account-page.ts, which redeems its codes itself). Their redirect URIs
 * follow PUBLIC_URL.
 */
function builtInClients(publicUrl: string, slug: string) {
  const consoleBase = slug === 'system' ? `${publicUrl}/admin` : `${publicUrl}/admin/t/${slug}`;
  const accountBase = `${publicUrl}/t/${slug}/account`;
  return [
    {
      clientId: ADMIN_CONSOLE_CLIENT_ID,
      name: 'Latchkey admin console',
      redirectUris: [`${consoleBase}/callback`],
      postLogoutRedirectUris: [`${consoleBase}/`],
      scopes: ['openid', 'profile', 'email', 'offline_access'],
    },
    {
      clientId: ACCOUNT_CLIENT_ID,
      name: 'Your account',
      redirectUris: [`${accountBase}/callback`],
      postLogoutRedirectUris: [accountBase],
      scopes: ['openid'],
    },
  ];
}

/** Adds a tenant's built-in clients that it lacks. */
export async function insertBuiltInClients(trx: Kysely<DB>, tenantId: string, slug: string, publicUrl: string) {
  for (const client of builtInClients(publicUrl, slug)) await insertBuiltInClient(trx, tenantId, client);
}

async function insertBuiltInClient(
  trx: Kysely<DB>,
  tenantId: string,
  client: ReturnType<typeof builtInClients>[number],
) {
  const now = Date.now();
  await trx
    .insertInto('clients')
    .values({
      id: newId('client'),
      tenant_id: tenantId,
      client_id: client.clientId,
      kind: 'spa',
      name: client.name,
      secret_hash: null,
      redirect_uris: JSON.stringify(client.redirectUris),
      post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
      scopes: JSON.stringify(client.scopes),
      first_party: 1,
      id_token_alg: DEFAULT_ID_TOKEN_ALG,
      token_endpoint_auth_method: 'none',
      default_api_id: null,
      access_token_ttl: null,
      refresh_token_idle_ttl: null,
      refresh_token_absolute_ttl: null,
      builtin: 1,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(['tenant_id', 'client_id']).doNothing())
    .execute();
}

/**
 * Run at start: adds the built-in clients tenants lack (tenants made before one existed) and
 * fixes their URIs after PUBLIC_URL changed. Returns how many it changed.
 */
export async function syncBuiltInClients(db: Kysely<DB>, publicUrl: string): Promise<number> {
  const tenants = await db.selectFrom('tenants').select(['id', 'slug']).execute();
  const rows = await db
    .selectFrom('clients')
    .select(['id', 'tenant_id', 'client_id', 'redirect_uris'])
    .where('builtin', '=', 1)
    .execute();
  let changed = 0;
  for (const tenant of tenants) {
    for (const client of builtInClients(publicUrl, tenant.slug)) {
      const row = rows.find((r) => r.tenant_id === tenant.id && r.client_id === client.clientId);
      if (!row) {
        await insertBuiltInClient(db, tenant.id, client);
        changed++;
      } else if (row.redirect_uris !== JSON.stringify(client.redirectUris)) {
        await db
          .updateTable('clients')
          .set({
            redirect_uris: JSON.stringify(client.redirectUris),
            post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
            updated_at: Date.now(),
          })
          .where('id', '=', row.id)
          .execute();
        changed++;
      }
    }
  }
  return changed;
}

/** The consent grants given to the tenant's application `clientId` (oidc-provider `Grant`s, keyed by client in `uid`). */
function grantsOf(executor: Kysely<DB>, tenantId: string, clientId: string) {
  return executor
    .selectFrom('oidc_payloads as g')
    .select('g.id')
    .where('g.tenant_id', '=', tenantId)
    .where('g.model', '=', 'Grant')
    .where('g.uid', '=', clientId);
}
