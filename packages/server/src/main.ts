/**
 * The composition root: read config once, make the metrics (when configured), open the
 * database (and Redis when configured), migrate, bootstrap, build the app, listen (and on the
 * metrics port), and run the background jobs (purge of expired OIDC artifacts and of audit
 * events past their retention, scheduled key rotation). Tests call `startServer` with their
 * own config; the CLI adds signals.
 */
import type { Redis } from 'ioredis';
import type { DestinationStream, Logger } from 'pino';
import { purgeStaleRegistrations } from './accounts/verification.js';
import { purgeAuditEvents, systemActor } from './audit/service.js';
import { bootstrap, bootstrapMessage } from './bootstrap/bootstrap.js';
import { syncBuiltInClients } from './clients/service.js';
import type { Config } from './config.js';
import { type AppContext, createContext } from './context.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { purgeEmails } from './email/outbox.js';
import { type App, buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { purgeLoginFailures } from './login/lockout.js';
import { listenForMetrics, type MetricsListener } from './metrics/endpoint.js';
import { operationOf } from './metrics/labels.js';
import { Metrics } from './metrics/metrics.js';
import type { ChangeNotices } from './notices.js';
import { purgeExpired } from './oidc/adapter.js';
import { IdleHasher } from './passwords/idle-hasher.js';
import { resolveSecret } from './secret.js';
import { toTenant } from './tenants/service.js';

export interface RunningServer {
  app: App;
  ctx: AppContext;
  /** Base URL the server listens on, like http://127.0.0.1:41234 */
  url: string;
  /** Base URL of the metrics port (METRICS_PORT), when there is one. */
  metricsUrl: string | undefined;
  log: Logger;
  /** Stops accepting, lets in-flight requests finish, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where the one-time bootstrap message goes (stdout by default). */
  print?: (text: string) => void;
  logger?: Logger;
  /** Where the logger made from `config` writes its JSON lines (stdout by default). */
  logDestination?: DestinationStream;
}

/** ioredis is loaded only when REDIS_URL is set. */
export async function connectRedis(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(config, options.logDestination);
  for (const warning of config.warnings) log.warn(warning);
  const instanceSecret = resolveSecret(config);
  // Off unless configured: then nothing below counts or times anything.
  const metrics = config.metrics ? new Metrics() : undefined;
  const database = openDatabase(config.database, {
    onQuery: metrics && ((text, ok, ms) => metrics.query(operationOf(text), ok, ms)),
  });
  metrics?.watchDatabasePool(() => database.connections());
  const redis = config.redisUrl ? await connectRedis(config.redisUrl) : undefined;
  redis?.on('error', (err) => log.warn({ err }, 'redis error'));
  const timers: NodeJS.Timeout[] = [];
  let notices: ChangeNotices | undefined;
  let metricsListener: MetricsListener | undefined;
  // The idle-priority hash thread starts beside the rest of start-up, not before it: until it
  // runs, every hash runs in libuv's pool as before.
  let idle: Promise<IdleHasher | undefined> | undefined;
  try {
    const applied = await migrateToLatest(database.db, { dialect: database.dialect });
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    const ctx = createContext(config, database, log, { instanceSecret, redis, metrics });
    notices = ctx.notices;
    idle = IdleHasher.start(log).then(
      (thread) => {
        ctx.hasher.useIdleThread(thread);
        return thread;
      },
      (err: unknown) => {
        log.warn({ err }, 'the idle-priority hash thread did not start: every hash runs at normal priority');
        return undefined;
      },
    );
    await ctx.notices.start();
    await ctx.keys.assertSecretMatches();
    const created = await bootstrap(database, config, ctx.audit);
    // What is printed is acknowledged: the credentials it names must be on disk first.
    await database.whenDurable?.();
    if (created)
      (options.print ?? ((t) => process.stdout.write(`${t}\n`)))(bootstrapMessage(created, config.publicUrl));
    const synced = await syncBuiltInClients(database.db, config.publicUrl);
    if (synced > 0) log.info({ clients: synced }, 'admin-console clients brought up to date');
    const app = await buildApp(ctx);
    // The metrics port first: should it be taken, the main port was never opened.
    const metricsPort = config.metrics?.port;
    if (metrics && config.metrics && metricsPort !== undefined) {
      metricsListener = await listenForMetrics(metrics, { ...config.metrics, port: metricsPort });
    }
    const address = await app.listen({ port: config.port, host: config.host });
    const url = address.replace('[::1]', 'localhost');
    const metricsAt = metricsListener ? `${metricsListener.url}/metrics` : metrics ? `${url}/metrics` : undefined;
    log.info(
      { url, publicUrl: config.publicUrl, database: database.dialect, redis: Boolean(redis), metrics: metricsAt },
      'listening',
    );
    // The email sender: what is queued goes out now, and what was left when a node stopped.
    ctx.emails.start();
    // The user import worker: jobs queued here or elsewhere, and those a stopped node left.
    ctx.importWorker.start();
    timers.push(
      every(config.purgeIntervalMs, log, 'purge', async () => {
        const purged = await purgeExpired(database.db);
        const counters = await purgeLoginFailures(database.db);
        const auditEvents = await purgeAuditEvents(database.db, Date.now() - config.auditRetentionMs);
        const emails = await purgeEmails(database.db, Date.now() - config.email.retentionMs);
        if (emails > 0) log.info({ emails }, 'purged email records older than EMAIL_RETENTION_DAYS');
        const registrations = await purgeStaleRegistrations(database.db);
        if (registrations > 0) log.info({ registrations }, 'purged self-registrations never verified');
        await database.optimize();
        if (purged > 0) log.info({ purged }, 'purged expired OIDC artifacts');
        if (counters > 0) log.info({ counters }, 'purged ended sign-in failure counters');
        if (auditEvents > 0) log.info({ auditEvents }, 'purged audit events older than AUDIT_RETENTION_DAYS');
      }),
    );
    timers.push(every(60_000, log, 'key rotation', () => rotateDueKeys(ctx)));
    let closing: Promise<void> | undefined;
    return {
      app,
      ctx,
      url,
      metricsUrl: metricsListener?.url,
      log,
      close() {
        closing ??= (async () => {
          for (const t of timers) clearInterval(t);
          await app.close();
          await metricsListener?.close();
          await ctx.emails.stop();
          await ctx.importWorker.stop();
          await (await idle)?.close();
          await ctx.notices.close();
          await database.close();
          if (redis) await redis.quit().catch(() => redis.disconnect());
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const t of timers) clearInterval(t);
    await metricsListener?.close();
    await notices?.close();
    await (await idle)?.close();
    await database.close().catch(() => {});
    redis?.disconnect();
    throw err;
  }
}

/** A background job on an interval that neither overlaps itself nor keeps the process alive. */
function every(ms: number, log: Logger, name: string, job: () => Promise<void>): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    job()
      .catch((err: unknown) => log.error({ err }, `${name} failed`))
      .finally(() => {
        running = false;
      });
  }, ms);
  timer.unref();
  return timer;
}

/** Rotates the keys of tenants whose settings ask for scheduled rotation and are due. */
async function rotateDueKeys(ctx: AppContext): Promise<void> {
  // One read of all tenants; settings are parsed here rather than looked up one by one.
  const rows = await ctx.database.db.selectFrom('tenants').selectAll().execute();
  for (const tenant of rows.map(toTenant)) {
    const days = tenant.settings.keyRotationDays;
    if (!days) continue;
    const since = await ctx.keys.currentSince(tenant.id);
    if (since !== null && Date.now() - since >= days * 86_400_000) {
      await ctx.keys.rotate(tenant, systemActor);
      ctx.notices.changed({ slug: tenant.slug, tenantId: tenant.id, oidc: true });
      ctx.log.info({ tenant: tenant.slug }, 'signing keys rotated on schedule');
    }
  }
}
