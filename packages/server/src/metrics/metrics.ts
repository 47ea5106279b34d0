/**
 * What one running node tells Prometheus (prom-client): HTTP requests by route template,
 * OIDC grants, sign-ins, lockouts, the provider pool, database queries and pool, and
 * prom-client's default process and event-loop metrics. One `Metrics` per app instance, with
 * a registry of its own (never prom-client's global one), so that two servers in one process
 * (tests) count apart. Built by main.ts only when METRICS_PORT or METRICS_TOKEN is set: off,
 * nothing here runs. Every label value comes from a fixed set (labels.ts): no tenant, user,
 * email, id or raw path is ever a label.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import {
  type DbOperation,
  type FederatedSignInOutcome,
  grantOutcomeOf,
  grantTypeOf,
  type HttpMethod,
  type LockoutSubject,
  type SignInOutcome,
} from './labels.js';

/** Seconds: from a cached discovery document (well under a millisecond) to a slow sign-in (argon2id, queued). */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: a primary-key lookup in SQLite (tens of microseconds) to a slow PostgreSQL statement. */
const DB_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** The database's connections now (db/database.ts `connections`). */
export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** A histogram's child for one set of label values, made once and kept. */
type Observer = ReturnType<Histogram['labels']>;

export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly grants: Counter<'grant_type' | 'outcome'>;
  private readonly signIns: Counter<'outcome'>;
  private readonly federatedSignIns: Counter<'kind' | 'outcome'>;
  private readonly lockouts: Counter<'subject'>;
  private readonly poolHits: Counter;
  private readonly poolMisses: Counter;
  private readonly poolBuilds: Counter<'outcome'>;
  private readonly dbDuration: Histogram<'operation' | 'outcome'>;
  /** HTTP children by method, route template and status: a request allocates no label object. */
  private readonly httpChildren = new Map<string, Map<string, Map<number, Observer>>>();
  private readonly dbChildren = new Map<string, Observer>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'latchkey_http_request_duration_seconds',
      help: 'HTTP requests by method, route template (unmatched for no route) and status, and their duration in seconds',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.grants = new Counter({
      name: 'latchkey_oidc_grants_total',
      help: 'Token endpoint grants by grant type and outcome (success, or the OAuth error code)',
      labelNames: ['grant_type', 'outcome'],
      registers,
    });
    this.signIns = new Counter({
      name: 'latchkey_sign_ins_total',
      help: 'Password sign-ins on the sign-in form by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.federatedSignIns = new Counter({
      name: 'latchkey_federated_sign_ins_total',
      help: 'Sign-ins through an identity provider by its kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.lockouts = new Counter({
      name: 'latchkey_lockouts_total',
      help: 'Accounts and client addresses locked after too many failed sign-ins',
      labelNames: ['subject'],
      registers,
    });
    this.poolHits = new Counter({
      name: 'latchkey_oidc_provider_pool_hits_total',
      help: "Requests that found their tenant's OIDC provider built",
      registers,
    });
    this.poolMisses = new Counter({
      name: 'latchkey_oidc_provider_pool_misses_total',
      help: "Requests that found their tenant's OIDC provider not built (or stale), and waited for a build",
      registers,
    });
    this.poolBuilds = new Counter({
      name: 'latchkey_oidc_provider_builds_total',
      help: 'OIDC provider instances built, by outcome (ok, error)',
      labelNames: ['outcome'],
      registers,
    });
    this.dbDuration = new Histogram({
      name: 'latchkey_db_query_duration_seconds',
      help: 'Database statements by operation and outcome, and their duration in seconds',
      labelNames: ['operation', 'outcome'],
      buckets: DB_BUCKETS,
      registers,
    });
  }

  /** One answered HTTP request; `route` is a template (`/api/v1/tenants/:slug`) or `unmatched`. */
  httpRequest(method: HttpMethod, route: string, status: number, seconds: number): void {
    let byRoute = this.httpChildren.get(method);
    if (!byRoute) {
      byRoute = new Map();
      this.httpChildren.set(method, byRoute);
    }
    let byStatus = byRoute.get(route);
    if (!byStatus) {
      byStatus = new Map();
      byRoute.set(route, byStatus);
    }
    let child = byStatus.get(status);
    if (!child) {
      child = this.httpDuration.labels(method, route, String(status));
      byStatus.set(status, child);
    }
    child.observe(seconds);
  }

  /** A token endpoint answer: `grantType` as the client sent it (any other than ours is `other`). */
  grant(grantType: unknown, error?: unknown): void {
    this.grants.inc({ grant_type: grantTypeOf(grantType), outcome: grantOutcomeOf(error) });
  }

  signIn(outcome: SignInOutcome): void {
    this.signIns.inc({ outcome });
  }

  /** `kind`: the provider's kind (a bounded set). */
  federatedSignIn(kind: string, outcome: FederatedSignInOutcome): void {
    this.federatedSignIns.inc({ kind, outcome });
  }

  lockout(subject: LockoutSubject): void {
    this.lockouts.inc({ subject });
  }

  providerHit(): void {
    this.poolHits.inc();
  }

  providerMiss(): void {
    this.poolMisses.inc();
  }

  providerBuilt(ok: boolean): void {
    this.poolBuilds.inc({ outcome: ok ? 'ok' : 'error' });
  }

  /** The provider pool's size, read at each scrape. */
  watchProviderPool(size: () => number): void {
    new Gauge({
      name: 'latchkey_oidc_provider_pool_size',
      help: 'OIDC provider instances built and kept (one per recently used tenant, bounded)',
      registers: [this.registry],
      collect() {
        this.set(size());
      },
    });
  }

  /** One database statement, as Kysely's `log` reports it. */
  query(operation: DbOperation, ok: boolean, milliseconds: number): void {
    const key = ok ? operation : `${operation}:error`;
    let child = this.dbChildren.get(key);
    if (!child) {
      child = this.dbDuration.labels(operation, ok ? 'ok' : 'error');
      this.dbChildren.set(key, child);
    }
    child.observe(milliseconds / 1000);
  }

  /** The database's connections, read at each scrape. */
  watchDatabasePool(use: () => PoolUse): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, field: keyof PoolUse) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(use()[field]);
        },
      });
    gauge('latchkey_db_pool_connections', 'Database connections open (SQLite: its one connection)', 'total');
    gauge('latchkey_db_pool_idle_connections', 'Database connections open and idle (SQLite: 0)', 'idle');
    gauge('latchkey_db_pool_waiting', 'Queries waiting for a database connection (SQLite: 0)', 'waiting');
    gauge(
      'latchkey_db_pool_max_connections',
      'The most database connections the pool opens (DATABASE_POOL_SIZE)',
      'max',
    );
  }

  /** The Prometheus text exposition of everything above. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
