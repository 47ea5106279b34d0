/**
 * Display names for the actors and targets of a page of audit events: a user's email, an API
 * key's, application's, API's, role's, ticket type's or identity provider's name, a tenant's display name, and the slug of the
 * tenant each lives in (for links). One query per page (a UNION ALL over the kinds the page
 * names, each a lookup by primary key), not one per row.
 *
 * An actor id comes from an authenticated principal, so it is resolved wherever it lives (a
 * `system` admin acting in a tenant). A target id may come from a refused request's URL, so it
 * is resolved only when the row belongs to the event's tenant: a caller cannot learn another
 * tenant's emails by naming its ids in a refused change. A tenant target is the tenant itself
 * (or, in the `system` log, one that a system admin created), which its reader may see.
 */
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';

export interface ResolvedName {
  name: string;
  /** Slug of the tenant the thing lives in (a tenant's own slug for a tenant). */
  tenant: string;
  tenantId: string;
}

interface Ref {
  type: string;
  id: string | null;
}

/** What each kind is looked up in, and which column names it. */
const kinds = {
  user: { table: 'users', name: 'email' },
  api_key: { table: 'api_keys', name: 'name' },
  client: { table: 'clients', name: 'name' },
  api: { table: 'apis', name: 'name' },
  role: { table: 'roles', name: 'name' },
  ticket_type: { table: 'ticket_types', name: 'name' },
  identity_provider: { table: 'identity_providers', name: 'display_name' },
} as const;

type Kind = keyof typeof kinds | 'tenant';

interface NameRow {
  type: string;
  id: string;
  alias: string;
  name: string;
  tenant: string;
  tenant_id: string;
}

const isKind = (type: string): type is Kind => type === 'tenant' || Object.hasOwn(kinds, type);
const keyOf = (type: string, id: string) => `${type}:${id}`;

export class AuditNames {
  constructor(
    private readonly actors: Map<string, ResolvedName>,
    private readonly targets: Map<string, ResolvedName>,
  ) {}

  actor(ref: Ref): ResolvedName | undefined {
    return ref.id === null ? undefined : this.actors.get(keyOf(ref.type, ref.id));
  }

  target(ref: Ref): ResolvedName | undefined {
    return ref.id === null ? undefined : this.targets.get(keyOf(ref.type, ref.id));
  }
}

/** Resolves the names of `actors` (anywhere) and `targets` (in tenant `tenantId`) in one query. */
export async function resolveNames(
  db: Kysely<DB>,
  tenantId: string,
  actors: readonly Ref[],
  targets: readonly Ref[],
): Promise<AuditNames> {
  const wanted = new Map<Kind, Set<string>>();
  for (const ref of [...actors, ...targets]) {
    if (ref.id === null || !isKind(ref.type)) continue;
    const ids = wanted.get(ref.type) ?? new Set<string>();
    wanted.set(ref.type, ids.add(ref.id));
  }
  const branches = [...wanted].map(([type, set]) => {
    const ids = sql.join([...set]);
    if (type === 'tenant') {
      return sql`select 'tenant' as type, id, id as alias, display_name as name, slug as tenant, id as tenant_id
        from tenants where id in (${ids})`;
    }
    const { table, name } = kinds[type];
    // Consent names an application by its OAuth client_id, unique only within a tenant (every
    // tenant has an `admin-console`).
    const alias = sql.ref(type === 'client' ? 'r.client_id' : 'r.id');
    const match =
      type === 'client'
        ? sql`r.id in (${ids}) or (r.client_id in (${ids}) and r.tenant_id = ${tenantId})`
        : sql`r.id in (${ids})`;
    return sql`select ${sql.lit(type)} as type, r.id, ${alias} as alias, ${sql.ref(`r.${name}`)} as name,
        t.slug as tenant, t.id as tenant_id
      from ${sql.table(table)} r join tenants t on t.id = r.tenant_id where ${match}`;
  });
  const found = new Map<string, ResolvedName>();
  if (branches.length > 0) {
    const { rows } = await sql<NameRow>`${sql.join(branches, sql` union all `)}`.execute(db);
    for (const r of rows) {
      const resolved = { name: r.name, tenant: r.tenant, tenantId: r.tenant_id };
      found.set(keyOf(r.type, r.id), resolved);
      found.set(keyOf(r.type, r.alias), resolved);
    }
  }
  const actorNames = new Map<string, ResolvedName>();
  const targetNames = new Map<string, ResolvedName>();
  for (const ref of actors) {
    const hit = ref.id === null ? undefined : found.get(keyOf(ref.type, ref.id));
    if (hit && ref.id !== null) actorNames.set(keyOf(ref.type, ref.id), hit);
  }
  for (const ref of targets) {
    const hit = ref.id === null ? undefined : found.get(keyOf(ref.type, ref.id));
    if (hit && ref.id !== null && (ref.type === 'tenant' || hit.tenantId === tenantId)) {
      targetNames.set(keyOf(ref.type, ref.id), hit);
    }
  }
  return new AuditNames(actorNames, targetNames);
}
