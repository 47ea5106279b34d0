/**
 * The one place that reads the environment. Every variable is validated here, with its
 * default documented beside it and in docs/configuration.md; `loadConfig` fails with one
 * line naming the variable when a value is wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { privateNetworksOf } from './federation/outbound.js';

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
  /**
   * Instance secret (at least 32 characters); encrypts private keys at rest. Production refuses
   * one that `secretStrengthBits` finds too predictable; elsewhere that is a warning.
   */
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
  /** Of one client IP's, how many may be sign-in form attempts: a person signs in once, not 8 times at once. */
  HASH_QUEUE_MAX_WAITING_SIGN_INS_PER_SOURCE: wholeNumber(1, 100_000).default(2),
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
  /** Seconds a client has to send a whole request (headers and body); a slower one is dropped (408). */
  REQUEST_TIMEOUT_SECONDS: wholeNumber(1, 3600).default(30),
  /** Seconds that in-process caches (tenants, API keys) may serve a stale entry. */
  CACHE_TTL_SECONDS: wholeNumber(0, 3600).default(5),
  /** Seconds to let in-flight requests finish on SIGTERM/SIGINT. */
  SHUTDOWN_TIMEOUT_SECONDS: wholeNumber(1, 600).default(10),
  /** Trust X-Forwarded-For from this many proxy hops (0: use the socket address). */
  TRUST_PROXY_HOPS: wholeNumber(0, 10).default(0),
  /** Self-registrations one client address may attempt per tenant within the window below. */
  REGISTRATION_LIMIT: wholeNumber(1, 1_000_000).default(10),
  /** The window of REGISTRATION_LIMIT, in seconds; past the limit the address waits it out. */
  REGISTRATION_WINDOW_SECONDS: wholeNumber(1, 86_400).default(3600),
  /**
   * Where email goes: `smtp://user:pass@host:587` (STARTTLS when the server offers it) or
   * `smtps://…:465`. Unset: nothing is sent; each message stays in the outbox, shown to system
   * admins, and (but with NODE_ENV=production) logged with its links, for development.
   */
  SMTP_URL: optionalString.pipe(
    z
      .string()
      .regex(/^smtps?:\/\/[^/\s]+/, 'must be smtp://… or smtps://…')
      .optional(),
  ),
  /** The sender of every message: `Name <address>` or an address (default no-reply@ PUBLIC_URL's host). */
  EMAIL_FROM: optionalString,
  /** Attempts to deliver one message before it is marked failed (the first retry a second later, then doubling, up to 10 minutes apart). */
  EMAIL_MAX_ATTEMPTS: wholeNumber(1, 100).default(12),
  /** Days a message's record (never its content, erased when sent) stays in the outbox. */
  EMAIL_RETENTION_DAYS: wholeNumber(1, 3650).default(30),
  /** Messages one recipient may be sent per hour by requests anyone can make (forgot password). */
  EMAIL_RECIPIENT_LIMIT: wholeNumber(1, 1_000_000).default(5),
  /** Such messages one client address may cause per hour and tenant. */
  EMAIL_ADDRESS_LIMIT: wholeNumber(1, 1_000_000).default(20),
  /**
   * A port of its own for Prometheus metrics (`GET /metrics`, docs/metrics.md); unset: none.
   * Metrics are off unless this or METRICS_TOKEN is set.
   */
  METRICS_PORT: optionalString.pipe(wholeNumber(1, 65535).optional()),
  /** Interface the metrics port binds (`0.0.0.0` for a scraper on another machine or pod). */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * A bearer token (at least 32 characters) that `/metrics` then requires. Without
   * METRICS_PORT, `/metrics` is served on the main port, with this token only.
   */
  METRICS_TOKEN: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  /**
   * `true`: federated sign-in may reach identity providers whose issuer is plain http on
   * localhost or 127.0.0.1 (a stand-in provider for local tests). Refused with NODE_ENV=production.
   */
  FEDERATION_ALLOW_HTTP_ISSUERS: z.enum(['true', 'false']).default('false'),
  /**
   * Private networks (CIDRs, comma-separated: `10.0.0.0/8,fd00::/8`) that identity providers
   * may be on: by default the server reaches only public addresses for them (federation/outbound.ts).
   */
  FEDERATION_PRIVATE_NETWORKS: optionalString,
});

export type Env = z.infer<typeof envSchema>;

/** The least estimated strength (`secretStrengthBits`) production accepts for LATCHKEY_SECRET. */
export const MIN_SECRET_BITS = 64;

/**
 * A rough estimate of a secret's strength in bits, to catch the plainly weak (`aaaa…`,
 * `abab…`, `secret-secret-secret…`, `abcdef…`), not to grade good ones: the Shannon entropy
 * of the secret's characters (bits per character, from their frequencies in it) times the
 * number of characters that are not predictable. A character is predictable when it lies in a
 * run of four that occurs earlier in the secret, or continues a run of four whose characters
 * step by -1, 0 or +1 (`dcba`, `1111`, `wxyz`). Random secrets score far above the minimum in
 * every common encoding: 32 hex characters about 115 (below 75 once in millions), 32 base64
 * about 145, 43 base64url about 210.
 */
export function secretStrengthBits(secret: string): number {
  // A prefix's estimate is a lower bound of the whole's; 1024 characters are plenty.
  const chars = [...secret].slice(0, 1024);
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / chars.length) * Math.log2(n / chars.length);
  const predictable = new Set<number>();
  for (let i = 0; i + 4 <= chars.length; i++) {
    const run = chars.slice(i, i + 4);
    if (
      chars
        .slice(0, i + 3)
        .join('')
        .includes(run.join(''))
    ) {
      for (let j = i; j < i + 4; j++) predictable.add(j);
    }
    const points = run.map((c) => c.codePointAt(0) ?? 0);
    const [a = 0, b = 0, c = 0, d = 0] = points;
    if (Math.abs(b - a) <= 1 && c - b === b - a && d - c === b - a) {
      for (let j = i + 1; j < i + 4; j++) predictable.add(j);
    }
  }
  return perChar * (chars.length - predictable.size);
}

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
  hashQueue: {
    maxWaiting: number;
    maxWaitingPerTenant: number;
    maxWaitingPerSource: number;
    maxWaitingSignInsPerSource: number;
  };
  bootstrap: { adminEmail: string; adminPassword: string | undefined; apiKey: string | undefined };
  bodyLimit: number;
  requestTimeoutMs: number;
  cacheTtlMs: number;
  shutdownTimeoutMs: number;
  trustProxyHops: number;
  /** Self-registration attempts per client address and tenant, per window. */
  registrationLimit: { max: number; windowSeconds: number };
  email: {
    /** Unset: the embedded outbox (nothing sent). */
    smtpUrl: string | undefined;
    from: string;
    maxAttempts: number;
    retentionMs: number;
    /** Per hour: messages to one recipient, and caused from one client address, by unauthenticated requests. */
    recipientLimit: number;
    addressLimit: number;
  };
  /**
   * Prometheus metrics (metrics/), or undefined when they are off: served on `port` when
   * set, else on the main port behind `token`; `token`, when set, is required either way.
   */
  metrics: { port: number | undefined; host: string; token: string | undefined } | undefined;
  /**
   * Federated sign-in: whether http issuers on localhost/127.0.0.1 may be reached (local tests
   * only), and the private networks identity providers may be on (CIDRs).
   */
  federation: { allowHttpIssuers: boolean; privateNetworks: string[] };
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
      name === 'LATCHKEY_SECRET' || name.includes('PASSWORD') || name.endsWith('API_KEY') || name.endsWith('_TOKEN')
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
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT === e.PORT) {
    throw new ConfigError(`METRICS_PORT: must differ from PORT (got ${JSON.stringify(String(e.METRICS_PORT))})`);
  }
  const privateNetworks = (e.FEDERATION_PRIVATE_NETWORKS ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  try {
    privateNetworksOf(privateNetworks);
  } catch (err) {
    throw new ConfigError(`FEDERATION_PRIVATE_NETWORKS: ${(err as Error).message}`);
  }
  // Secrets an operator chose: refused in production when plainly predictable, else a warning.
  const predictable = (
    [
      ['LATCHKEY_SECRET', e.LATCHKEY_SECRET, 'openssl rand -base64 48'],
      [
        'LATCHKEY_BOOTSTRAP_API_KEY',
        e.LATCHKEY_BOOTSTRAP_API_KEY?.slice('lk_'.length),
        'lk_$(openssl rand -base64 32 | tr "+/" "-_" | tr -d "=")',
      ],
    ] as const
  ).flatMap(([name, value, example]) => {
    const bits = value === undefined ? MIN_SECRET_BITS : Math.floor(secretStrengthBits(value));
    return bits < MIN_SECRET_BITS
      ? [
          {
            name,
            problem: `too predictable (about ${bits} bits estimated, at least ${MIN_SECRET_BITS} needed): use a random value, such as \`${example}\``,
          },
        ]
      : [];
  });
  if (e.NODE_ENV === 'production') {
    if (!e.LATCHKEY_SECRET) {
      throw new ConfigError('LATCHKEY_SECRET: required when NODE_ENV=production');
    }
    const [weak] = predictable;
    if (weak) throw new ConfigError(`${weak.name}: ${weak.problem}`);
    if (!e.PUBLIC_URL) throw new ConfigError('PUBLIC_URL: required when NODE_ENV=production');
    if (e.FEDERATION_ALLOW_HTTP_ISSUERS === 'true') {
      throw new ConfigError('FEDERATION_ALLOW_HTTP_ISSUERS: must not be true when NODE_ENV=production');
    }
    if (!publicUrl.startsWith('https://')) {
      warnings.push('PUBLIC_URL is not https: tokens and cookies travel in clear text');
    }
    if (!e.SMTP_URL) {
      warnings.push(
        'SMTP_URL is not set: NO EMAIL IS SENT (password resets, verifications and invitations stay in the outbox, where only system admins see them); set SMTP_URL',
      );
    }
  } else {
    if (!e.LATCHKEY_SECRET) {
      warnings.push(
        `LATCHKEY_SECRET is not set: using a key file in ${e.LATCHKEY_DATA_DIR}; set it before running more than one node`,
      );
    }
    for (const weak of predictable) warnings.push(`${weak.name} is ${weak.problem}; NODE_ENV=production refuses it`);
  }
  // Latchkey serves plain HTTP: an https PUBLIC_URL means TLS ends at a proxy, whose address
  // every request then has unless its X-Forwarded-For is trusted.
  if (publicUrl.startsWith('https://') && e.TRUST_PROXY_HOPS === 0) {
    warnings.push(
      'TRUST_PROXY_HOPS is 0 while PUBLIC_URL is https: every request has the address of the proxy in front, so per-address sign-in limits and the audit log count all users as one; set TRUST_PROXY_HOPS to the number of proxies',
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
      maxWaitingSignInsPerSource: e.HASH_QUEUE_MAX_WAITING_SIGN_INS_PER_SOURCE,
    },
    bootstrap: {
      adminEmail: e.LATCHKEY_BOOTSTRAP_ADMIN_EMAIL ?? 'admin@localhost',
      adminPassword: e.LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD,
      apiKey: e.LATCHKEY_BOOTSTRAP_API_KEY,
    },
    bodyLimit: e.BODY_LIMIT,
    requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
    cacheTtlMs: e.CACHE_TTL_SECONDS * 1000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    registrationLimit: { max: e.REGISTRATION_LIMIT, windowSeconds: e.REGISTRATION_WINDOW_SECONDS },
    email: {
      smtpUrl: e.SMTP_URL,
      from: e.EMAIL_FROM ?? `Latchkey <no-reply@${new URL(publicUrl).hostname.replace(/^\[|\]$/g, '') || 'localhost'}>`,
      maxAttempts: e.EMAIL_MAX_ATTEMPTS,
      retentionMs: e.EMAIL_RETENTION_DAYS * 86_400_000,
      recipientLimit: e.EMAIL_RECIPIENT_LIMIT,
      addressLimit: e.EMAIL_ADDRESS_LIMIT,
    },
    metrics:
      e.METRICS_PORT === undefined && e.METRICS_TOKEN === undefined
        ? undefined
        : { port: e.METRICS_PORT, host: e.METRICS_HOST, token: e.METRICS_TOKEN },
    federation: { allowHttpIssuers: e.FEDERATION_ALLOW_HTTP_ISSUERS === 'true', privateNetworks },
    warnings,
  };
}
