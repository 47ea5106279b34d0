/**
 * The one place that reads the environment. Every variable is validated here, with its
 * default documented beside it and in docs/configuration.md; `loadConfig` fails with one
 * line naming the variable when a value is wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalString = z
  .string()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** A whole number; unlike `z.coerce.number()`, an empty or blank value is an error, not 0. */
const wholeNumber = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

export const envSchema = z.object({
  /** `development` (default) or `production`; production refuses insecure defaults. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** TCP port to listen on. */
  PORT: wholeNumber(0, 65535).default(3000),
  /** Interface to bind; `0.0.0.0` to accept connections from other machines. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The URL clients reach this service at; issuers and links are built from it. */
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  /** `sqlite:<path>` or `postgres://…` / `postgresql://…`. */
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/latchkey.db')
    .refine((v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v), {
      message: 'must be sqlite:<path> or postgres://…',
    }),
  /** Largest number of PostgreSQL connections per process. */
  DATABASE_POOL_SIZE: wholeNumber(1, 1000).default(10),
  /** Instance secret (at least 32 characters); encrypts private keys at rest. */
  LATCHKEY_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  /** Directory for the embedded database's key file when LATCHKEY_SECRET is not set. */
  LATCHKEY_DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  /** Redis for counters shared by all nodes (sign-in lockout); unset: kept in the database. */
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\/.+/, 'must be redis://… or rediss://…')
      .optional(),
  ),
  /** Seconds between purges of expired tokens, sessions and codes (and of old audit events). */
  PURGE_INTERVAL_SECONDS: wholeNumber(10, 86_400).default(300),
  /** Days an audit event is kept; older ones go with the purge. */
  AUDIT_RETENTION_DAYS: wholeNumber(1, 36_500).default(400),
  /** Sign-in attempts (and other password hashes) that may wait for a hash, in all; more get 429. */
  HASH_QUEUE_MAX_WAITING: wholeNumber(1, 100_000).default(128),
  /** Of those, how many may be one tenant's. */
  HASH_QUEUE_MAX_WAITING_PER_TENANT: wholeNumber(1, 100_000).default(64),
  /** Of those, how many may come from one client IP. */
  HASH_QUEUE_MAX_WAITING_PER_SOURCE: wholeNumber(1, 100_000).default(8),
  /** First start only: the system admin's email. */
  LATCHKEY_BOOTSTRAP_ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
  /** First start only: the system admin's password; generated and printed when unset. */
  LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: optionalString,
  /** First start only: the system API key's value (`lk_` + 43 or more base64url characters). */
  LATCHKEY_BOOTSTRAP_API_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^lk_[A-Za-z0-9_-]{43,}$/, 'must be lk_ followed by at least 43 base64url characters')
      .optional(),
  ),
  /** Largest request body accepted, in bytes. */
  BODY_LIMIT: wholeNumber(1024, 50_000_000).default(1_048_576),
  /** Seconds that in-process caches (tenants, API keys) may serve a stale entry. */
  CACHE_TTL_SECONDS: wholeNumber(0, 3600).default(5),
  /** Seconds to let in-flight requests finish on SIGTERM/SIGINT. */
  SHUTDOWN_TIMEOUT_SECONDS: wholeNumber(1, 600).default(10),
  /** Trust X-Forwarded-For from this many proxy hops (0: use the socket address). */
  TRUST_PROXY_HOPS: wholeNumber(0, 10).default(0),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  publicUrl: string;
  database: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; poolSize: number };
  secret: string | undefined;
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  redisUrl: string | undefined;
  purgeIntervalMs: number;
  auditRetentionMs: number;
  /** Bounds of the password hash queue (passwords/hash.ts). */
  hashQueue: { maxWaiting: number; maxWaitingPerTenant: number; maxWaitingPerSource: number };
  bootstrap: { adminEmail: string; adminPassword: string | undefined; apiKey: string | undefined };
  bodyLimit: number;
  cacheTtlMs: number;
  shutdownTimeoutMs: number;
  trustProxyHops: number;
  /** Problems worth a loud warning at start (insecure defaults). */
  warnings: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads `.env` (if present) without overriding variables already set. */
export function readDotEnv(path = '.env'): Record<string, string> {
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  for (const raw of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const value = m[2] ?? '';
    // A quoted value is taken as is; elsewhere ` #` starts a comment, as in dotenv.
    const quoted = /^(['"])(.*)\1(?:\s+#.*)?$/.exec(value);
    out[m[1]] = quoted ? (quoted[2] ?? '') : value.replace(/\s+#.*$/, '');
  }
  return out;
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    const value = source[name];
    // Database URLs may carry a password: show them without their user info.
    const shown =
      name === 'LATCHKEY_SECRET' || name.includes('PASSWORD') || name.endsWith('API_KEY')
        ? ''
        : ` (got ${JSON.stringify(name.endsWith('_URL') ? value?.replace(/\/\/[^/]*@/, '//…@') : value)})`;
    throw new ConfigError(`${name}: ${issue?.message ?? 'invalid value'}${shown}`);
  }
  const e = parsed.data;
  const warnings: string[] = [];
  const database: Config['database'] = e.DATABASE_URL.startsWith('sqlite:')
    ? { kind: 'sqlite', path: e.DATABASE_URL.slice('sqlite:'.length) }
    : { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE };
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT}`;
  if (e.NODE_ENV === 'production') {
    if (!e.LATCHKEY_SECRET) {
      throw new ConfigError('LATCHKEY_SECRET: required when NODE_ENV=production');
    }
    if (!e.PUBLIC_URL) throw new ConfigError('PUBLIC_URL: required when NODE_ENV=production');
    if (!publicUrl.startsWith('https://')) {
      warnings.push('PUBLIC_URL is not https: tokens and cookies travel in clear text');
    }
  } else if (!e.LATCHKEY_SECRET) {
    warnings.push(
      `LATCHKEY_SECRET is not set: using a key file in ${e.LATCHKEY_DATA_DIR}; set it before running more than one node`,
    );
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    database,
    secret: e.LATCHKEY_SECRET,
    dataDir: e.LATCHKEY_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    redisUrl: e.REDIS_URL,
    purgeIntervalMs: e.PURGE_INTERVAL_SECONDS * 1000,
    auditRetentionMs: e.AUDIT_RETENTION_DAYS * 86_400_000,
    hashQueue: {
      maxWaiting: e.HASH_QUEUE_MAX_WAITING,
      maxWaitingPerTenant: e.HASH_QUEUE_MAX_WAITING_PER_TENANT,
      maxWaitingPerSource: e.HASH_QUEUE_MAX_WAITING_PER_SOURCE,
    },
    bootstrap: {
      adminEmail: e.LATCHKEY_BOOTSTRAP_ADMIN_EMAIL ?? 'admin@localhost',
      adminPassword: e.LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD,
      apiKey: e.LATCHKEY_BOOTSTRAP_API_KEY,
    },
    bodyLimit: e.BODY_LIMIT,
    cacheTtlMs: e.CACHE_TTL_SECONDS * 1000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    warnings,
  };
}
