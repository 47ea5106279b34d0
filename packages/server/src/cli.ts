#!/usr/bin/env node
/**
 * `latchkey` command: serve (default), migrate, bootstrap, admin reset, openapi, smoke, users import/export.
 */
import { type Config, ConfigError, loadConfig, readDotEnv } from './config.js';
import type { Database } from './db/database.js';
import { serverVersion } from './version.js';

const help = `latchkey: multi-tenant security and login service

Usage: latchkey [command]

Commands:
  serve       Migrate, bootstrap on first start, and serve HTTP (default)
  migrate     Apply pending database migrations and exit
  bootstrap   Migrate and create the system tenant, admin and API key if missing
  admin reset --email <email>
              Lost the admin credentials: print a new password for that system:admin
              user of the system tenant (or create one), end their sessions; audited
  openapi     Print the admin API's OpenAPI document
  smoke --url <url> [--api-key <key>]
              Check a running deployment end to end in a throwaway tenant (the key may
              come from LATCHKEY_SMOKE_API_KEY); see latchkey smoke --help, docs/smoke.md
  users import <file> --tenant <slug> --url <url> [--dry-run]
  users export --tenant <slug> --url <url> [--include-hashes] [--out <file>]
              Move users in (JSON lines, with a progress bar) and out, through a running
              deployment's admin API (the key in LATCHKEY_API_KEY); docs/import.md
  --help      Show this help
  --version   Show the version

Configuration comes from environment variables (and ./.env); see docs/configuration.md.
`;

/*
 * Everything beyond the configuration is imported by the command that needs it: `--version`,
 * `--help` and `smoke` load no server code, and a bad configuration is reported before any.
 * main.js and context.js load oidc-provider, which writes a warning to stderr at import on
 * some Node versions: they are imported only once the configuration has been read, so that a
 * bad value costs exactly one line.
 */

function fail(message: string): never {
  process.stderr.write(`latchkey: ${message}\n`);
  process.exit(1);
}

function config(): Config {
  try {
    return loadConfig({ ...readDotEnv(), ...process.env });
  } catch (err) {
    if (err instanceof ConfigError) fail(`configuration error: ${err.message}`);
    throw err;
  }
}

async function serve(): Promise<void> {
  const cfg = config();
  const { startServer } = await import('./main.js');
  const server = await startServer(cfg);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      server.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, cfg.shutdownTimeoutMs);
    timer.unref();
    server.close().then(
      () => {
        server.log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        server.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Opens the configured database, applies pending migrations, and runs `work` on it. */
async function withMigratedDatabase(
  work: (cfg: Config, database: Database, applied: string[]) => Promise<void>,
): Promise<void> {
  const cfg = config();
  const { openDatabase } = await import('./db/database.js');
  const { migrateToLatest } = await import('./db/migrate.js');
  const database = openDatabase(cfg.database);
  try {
    const applied = await migrateToLatest(database.db, { dialect: database.dialect });
    await database.whenDurable?.();
    await work(cfg, database, applied);
  } finally {
    await database.close();
  }
}

function migrate(andBootstrap: boolean): Promise<void> {
  return withMigratedDatabase(async (cfg, database, applied) => {
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    if (andBootstrap) {
      const { createContext } = await import('./context.js');
      const { createLogger } = await import('./logger.js');
      const { resolveSecret } = await import('./secret.js');
      const { bootstrap, bootstrapMessage } = await import('./bootstrap/bootstrap.js');
      const ctx = createContext(cfg, database, createLogger(cfg), { instanceSecret: resolveSecret(cfg) });
      const created = await bootstrap(database, cfg, ctx.audit);
      await database.whenDurable?.();
      process.stdout.write(created ? `${bootstrapMessage(created, cfg.publicUrl)}\n` : 'already bootstrapped\n');
    }
  });
}

/** `admin reset --email <email>` (or `--email=<email>`). */
async function admin(args: string[]): Promise<void> {
  const [sub, ...options] = args;
  if (sub !== 'reset') fail(`unknown admin command "${sub ?? ''}"; usage: latchkey admin reset --email <email>`);
  let email: string | undefined;
  for (let i = 0; i < options.length; i++) {
    const option = options[i] ?? '';
    if (option === '--email' && i + 1 < options.length) email = options[++i];
    else if (option.startsWith('--email=')) email = option.slice('--email='.length);
    else fail(`unexpected argument "${option}"; usage: latchkey admin reset --email <email>`);
  }
  if (email === undefined) fail('admin reset needs --email <email>');
  const given = email;
  // A refusal (AdminResetError) is one line on stderr and exit code 1, as every failure here.
  await withMigratedDatabase(async (cfg, database) => {
    // The failure counters live where the server keeps them: Redis when configured.
    const { connectRedis } = await import('./main.js');
    const { DbLockoutStore, RedisLockoutStore } = await import('./login/lockout.js');
    const { AuditService } = await import('./audit/service.js');
    const { adminResetMessage, resetAdmin } = await import('./bootstrap/admin-reset.js');
    const redis = cfg.redisUrl ? await connectRedis(cfg.redisUrl) : undefined;
    // A Redis that cannot be reached is reported once, with the result (admin-reset.ts).
    redis?.on('error', () => undefined);
    try {
      const lockout = redis ? new RedisLockoutStore(redis) : new DbLockoutStore(database.db);
      const result = await resetAdmin(database, new AuditService(database.db), lockout, given);
      await database.whenDurable?.();
      process.stdout.write(adminResetMessage(result, cfg.publicUrl));
    } finally {
      await redis?.quit().catch(() => redis.disconnect());
    }
  });
}

async function openapi(): Promise<void> {
  const cfg = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: 'sqlite::memory:' });
  const { openDatabase } = await import('./db/database.js');
  const database = openDatabase(cfg.database);
  const { createContext } = await import('./context.js');
  const { createLogger } = await import('./logger.js');
  const { buildApp } = await import('./http/app.js');
  const app = await buildApp(
    createContext(cfg, database, createLogger(cfg), { instanceSecret: 'openapi-document-only' }),
  );
  await app.ready();
  process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
  await app.close();
  await database.close();
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === 'admin') return admin(rest);
  if (command === 'smoke') {
    // A client of the deployment: reads no configuration, opens no database.
    const { smoke } = await import('./smoke/index.js');
    process.exitCode = await smoke(rest, process.env, process.stdout, process.stderr);
    return;
  }
  if (command === 'users') {
    const { users } = await import('./user-imports/cli.js');
    process.exitCode = await users(rest, process.env, process.stdout, process.stderr);
    return;
  }
  if (rest.length > 0) fail(`unexpected argument "${rest[0]}"; see latchkey --help`);
  switch (command) {
    case 'serve':
      return serve();
    case 'migrate':
      return migrate(false);
    case 'bootstrap':
      return migrate(true);
    case 'openapi':
      return openapi();
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(help);
      return;
    case '--version':
    case '-v':
      process.stdout.write(`${serverVersion}\n`);
      return;
    default:
      fail(`unknown command "${command}"; see latchkey --help`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  fail(err instanceof Error ? err.message : String(err));
});
