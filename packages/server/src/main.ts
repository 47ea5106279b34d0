/**
 * The composition root: read config once, open the database, migrate, bootstrap, build the
 * app, listen. Tests call `startServer` with their own config; the CLI adds signals.
 */
import type { Logger } from 'pino';
import { bootstrap, bootstrapMessage } from './bootstrap/bootstrap.js';
import type { Config } from './config.js';
import { createContext } from './context.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { type App, buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { resolveSecret } from './secret.js';

export interface RunningServer {
  app: App;
  /** Base URL the server listens on, like http://127.0.0.1:41234 */
  url: string;
  log: Logger;
  /** Stops accepting, lets in-flight requests finish, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where the one-time bootstrap message goes (stdout by default). */
  print?: (text: string) => void;
  logger?: Logger;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(config);
  for (const warning of config.warnings) log.warn(warning);
  resolveSecret(config);
  const database = openDatabase(config.database);
  try {
    const applied = await migrateToLatest(database.db, { dialect: database.dialect });
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    const ctx = createContext(config, database, log);
    const created = await bootstrap(database, config, ctx.audit);
    if (created)
      (options.print ?? ((t) => process.stdout.write(`${t}\n`)))(bootstrapMessage(created, config.publicUrl));
    const app = await buildApp(ctx);
    const address = await app.listen({ port: config.port, host: config.host });
    const url = address.replace('[::1]', 'localhost');
    log.info({ url, publicUrl: config.publicUrl, database: database.dialect }, 'listening');
    let closing: Promise<void> | undefined;
    return {
      app,
      url,
      log,
      close() {
        closing ??= (async () => {
          await app.close();
          await database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}
