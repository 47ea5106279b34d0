/**
 * `loadConfig` and `readDotEnv`: the defaults an operator gets with no environment at all,
 * one clear error naming the variable for every bad value, and no secret ever echoed back.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, MIN_SECRET_BITS, readDotEnv, secretStrengthBits } from '../src/config.js';

const goodSecret = 'a-perfectly-fine-instance-secret-0123456789';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('serves on 127.0.0.1:3000 with SQLite in ./data and info logs when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/latchkey.db' });
    expect(config.logLevel).toBe('info');
    expect(config.env).toBe('development');
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.dataDir).toBe('./data');
    expect(config.secret).toBeUndefined();
    expect(config.bootstrap).toEqual({ adminEmail: 'admin@localhost', adminPassword: undefined, apiKey: undefined });
    expect(config.registrationLimit).toEqual({ max: 10, windowSeconds: 3600 });
  });

  it('warns loudly when no instance secret is set outside production', () => {
    const config = loadConfig({});
    expect(config.warnings.some((w) => w.includes('LATCHKEY_SECRET'))).toBe(true);
    expect(loadConfig({ LATCHKEY_SECRET: goodSecret }).warnings).toEqual([]);
  });

  it('does not read process.env when given a source', () => {
    const saved = process.env.PORT;
    process.env.PORT = '4321';
    try {
      expect(loadConfig({}).port).toBe(3000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it('reads PostgreSQL URLs, the pool size, and a public URL without its trailing slash', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db.internal:5432/latchkey',
      DATABASE_POOL_SIZE: '25',
      PUBLIC_URL: 'https://id.example.com/',
      PORT: '8080',
      HOST: '0.0.0.0',
    });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgresql://u:p@db.internal:5432/latchkey',
      poolSize: 25,
    });
    expect(config.publicUrl).toBe('https://id.example.com');
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
  });

  it('derives the public URL from the port when PUBLIC_URL is unset', () => {
    expect(loadConfig({ PORT: '8081' }).publicUrl).toBe('http://localhost:8081');
  });

  it('takes the bootstrap values and normalises nothing away', () => {
    const apiKey = `lk_${'A'.repeat(43)}`;
    const config = loadConfig({
      LATCHKEY_BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com',
      LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: 'correct horse battery staple',
      LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
    });
    expect(config.bootstrap).toEqual({
      adminEmail: 'ops@example.com',
      adminPassword: 'correct horse battery staple',
      apiKey,
    });
  });

  it('keeps audit events 400 days and bounds the password hash queue (128 in all, 64 a tenant, 8 an address)', () => {
    const config = loadConfig({});
    expect(config.auditRetentionMs).toBe(400 * 86_400_000);
    expect(config.hashQueue).toEqual({
      maxWaiting: 128,
      maxWaitingPerTenant: 64,
      maxWaitingPerSource: 8,
      maxWaitingSignInsPerSource: 2,
    });
    const set = loadConfig({ AUDIT_RETENTION_DAYS: '30', HASH_QUEUE_MAX_WAITING_PER_SOURCE: '2' });
    expect(set.auditRetentionMs).toBe(30 * 86_400_000);
    expect(set.hashQueue.maxWaitingPerSource).toBe(2);
    expect(configError({ AUDIT_RETENTION_DAYS: '0' }).message).toMatch(/^AUDIT_RETENTION_DAYS: /);
    expect(configError({ HASH_QUEUE_MAX_WAITING: 'lots' }).message).toMatch(
      /^HASH_QUEUE_MAX_WAITING: must be a whole number/,
    );
  });

  it('treats empty optional values as unset', () => {
    const config = loadConfig({
      LATCHKEY_SECRET: '',
      LATCHKEY_BOOTSTRAP_ADMIN_EMAIL: '',
      LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: '',
      LATCHKEY_BOOTSTRAP_API_KEY: '',
    });
    expect(config.secret).toBeUndefined();
    expect(config.bootstrap).toEqual({ adminEmail: 'admin@localhost', adminPassword: undefined, apiKey: undefined });
  });
});

describe('loadConfig refuses bad values with one line naming the variable', () => {
  const invalid: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '3000.5'],
    // An empty or blank PORT must not silently become port 0 (a random port).
    ['PORT', ''],
    ['PORT', '  '],
    ['HOST', ''],
    ['PUBLIC_URL', 'not a url'],
    ['PUBLIC_URL', 'ftp://files.example.com'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'sqlite:'],
    ['DATABASE_URL', ''],
    ['DATABASE_URL', './data/latchkey.db'],
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_POOL_SIZE', 'many'],
    ['LATCHKEY_SECRET', 'too-short'],
    ['LATCHKEY_DATA_DIR', ''],
    ['LOG_LEVEL', 'loud'],
    ['LOG_LEVEL', 'INFO '],
    ['NODE_ENV', 'staging'],
    ['LATCHKEY_BOOTSTRAP_ADMIN_EMAIL', 'not-an-email'],
    ['LATCHKEY_BOOTSTRAP_API_KEY', 'short'],
    ['LATCHKEY_BOOTSTRAP_API_KEY', `lk_${'a'.repeat(42)}`],
    ['LATCHKEY_BOOTSTRAP_API_KEY', `xx_${'a'.repeat(43)}`],
    ['LATCHKEY_BOOTSTRAP_API_KEY', `lk_${'a'.repeat(42)}+`],
    ['BODY_LIMIT', '10'],
    ['CACHE_TTL_SECONDS', '-1'],
    ['SHUTDOWN_TIMEOUT_SECONDS', '0'],
    ['TRUST_PROXY_HOPS', '11'],
    ['REGISTRATION_LIMIT', '0'],
    ['REGISTRATION_LIMIT', 'lots'],
    ['REGISTRATION_WINDOW_SECONDS', '86401'],
  ];

  it.each(invalid)('%s=%j', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.name).toBe('ConfigError');
    expect(err.message.startsWith(`${name}: `)).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  it('names the first bad variable when several are wrong', () => {
    const err = configError({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(err.message).toMatch(/^(PORT|LOG_LEVEL): /);
  });

  it('shows a non-secret bad value so the operator sees the typo', () => {
    expect(configError({ LOG_LEVEL: 'loud' }).message).toContain('"loud"');
    expect(configError({ PORT: 'abc' }).message).toContain('"abc"');
  });
});

describe('production', () => {
  it('requires LATCHKEY_SECRET', () => {
    const err = configError({ NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com' });
    expect(err.message.startsWith('LATCHKEY_SECRET: ')).toBe(true);
  });

  it('requires PUBLIC_URL', () => {
    const err = configError({ NODE_ENV: 'production', LATCHKEY_SECRET: goodSecret });
    expect(err.message.startsWith('PUBLIC_URL: ')).toBe(true);
  });

  it('starts with both, and warns when the public URL is not https', () => {
    const https = loadConfig({
      NODE_ENV: 'production',
      LATCHKEY_SECRET: goodSecret,
      PUBLIC_URL: 'https://id.example.com',
      TRUST_PROXY_HOPS: '1',
      SMTP_URL: 'smtp://mailer:secret@smtp.example.com:587',
    });
    expect(https.env).toBe('production');
    expect(https.warnings).toEqual([]);
    expect(https.email).toMatchObject({
      smtpUrl: 'smtp://mailer:secret@smtp.example.com:587',
      from: 'Latchkey <no-reply@id.example.com>',
    });
    const http = loadConfig({
      NODE_ENV: 'production',
      LATCHKEY_SECRET: goodSecret,
      PUBLIC_URL: 'http://id.example.com',
    });
    expect(http.warnings.some((w) => w.includes('PUBLIC_URL'))).toBe(true);
  });

  it('warns loudly that no email is sent without SMTP_URL, and refuses a malformed one', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      LATCHKEY_SECRET: goodSecret,
      PUBLIC_URL: 'https://id.example.com',
      TRUST_PROXY_HOPS: '1',
    });
    expect(config.warnings).toEqual([expect.stringMatching(/^SMTP_URL is not set: NO EMAIL IS SENT/)]);
    expect(() => loadConfig({ SMTP_URL: 'http://smtp.example.com' })).toThrow(/SMTP_URL/);
  });
});

describe('a predictable LATCHKEY_SECRET', () => {
  const production = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://id.example.com',
    TRUST_PROXY_HOPS: '1',
    SMTP_URL: 'smtps://smtp.example.com',
  };
  /** @see issue 9, item 12 */
  const weak: [string, string][] = [
    ['32 repeated characters', 'a'.repeat(32)],
    ['a long run of one character', 'x'.repeat(64)],
    ['two characters alternating', 'ab'.repeat(16)],
    ['a short pattern repeated', 'abc123'.repeat(6)],
    ['a word repeated', 'test-secret-test-secret-test-secret-0123'],
    ['a phrase repeated', 'change-me-change-me-change-me-change-me'],
    ['hex digits counted twice', '0123456789abcdef0123456789abcdef'],
    ['the alphabet', 'abcdefghijklmnopqrstuvwxyzABCDEF'],
    ['digits counting down and up', '98765432109876543210012345678901'],
  ];

  it.each(weak)(
    'refuses %s in production, with one line that names the variable and not the value',
    (_label, secret) => {
      const err = configError({ ...production, LATCHKEY_SECRET: secret });
      expect(err.message.startsWith('LATCHKEY_SECRET: too predictable')).toBe(true);
      expect(err.message).toContain('openssl rand');
      expect(err.message).not.toContain('\n');
      expect(err.message).not.toContain(secret);
      expect(String(err.stack)).not.toContain(secret);
    },
  );

  it.each(weak)('warns about %s outside production', (_label, secret) => {
    const config = loadConfig({ LATCHKEY_SECRET: secret });
    expect(config.warnings.filter((w) => w.startsWith('LATCHKEY_SECRET is too predictable'))).toHaveLength(1);
    expect(config.warnings.join(' ')).not.toContain(secret);
  });

  const generators: [string, () => string][] = [
    ['openssl rand -hex 16 (32 hex characters)', () => randomBytes(16).toString('hex')],
    ['upper-case hex', () => randomBytes(16).toString('hex').toUpperCase()],
    ['openssl rand -hex 32', () => randomBytes(32).toString('hex')],
    ['base64 of 24 bytes (32 characters)', () => randomBytes(24).toString('base64')],
    ['openssl rand -base64 32', () => randomBytes(32).toString('base64')],
    ['openssl rand -base64 48', () => randomBytes(48).toString('base64')],
    ['base64url of 32 bytes', () => randomBytes(32).toString('base64url')],
    ['a UUID', () => randomUUID()],
  ];

  it.each(generators)('accepts random secrets: %s', (_label, generate) => {
    for (let i = 0; i < 2000; i++) {
      const secret = generate();
      expect(secretStrengthBits(secret), secret).toBeGreaterThanOrEqual(MIN_SECRET_BITS);
    }
    const config = loadConfig({ ...production, LATCHKEY_SECRET: generate() });
    expect(config.warnings).toEqual([]);
  });

  it('accepts a long secret quickly, judging its first 1024 characters', () => {
    const started = performance.now();
    expect(secretStrengthBits(randomBytes(60_000).toString('base64'))).toBeGreaterThan(MIN_SECRET_BITS);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('a predictable LATCHKEY_BOOTSTRAP_API_KEY', () => {
  const production = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://id.example.com',
    TRUST_PROXY_HOPS: '1',
    LATCHKEY_SECRET: goodSecret,
    SMTP_URL: 'smtps://smtp.example.com',
  };

  it('is refused in production, naming the variable and not the value, and a warning elsewhere', () => {
    const apiKey = `lk_${'A'.repeat(43)}`;
    const err = configError({ ...production, LATCHKEY_BOOTSTRAP_API_KEY: apiKey });
    expect(err.message.startsWith('LATCHKEY_BOOTSTRAP_API_KEY: too predictable')).toBe(true);
    expect(err.message).not.toContain('A'.repeat(43));
    const dev = loadConfig({ LATCHKEY_SECRET: goodSecret, LATCHKEY_BOOTSTRAP_API_KEY: apiKey });
    expect(dev.warnings).toHaveLength(1);
    expect(dev.warnings[0]).toMatch(/^LATCHKEY_BOOTSTRAP_API_KEY is too predictable/);
  });

  it('accepts a random key', () => {
    const apiKey = `lk_${randomBytes(32).toString('base64url')}`;
    expect(loadConfig({ ...production, LATCHKEY_BOOTSTRAP_API_KEY: apiKey }).warnings).toEqual([]);
  });
});

describe('an https PUBLIC_URL', () => {
  it('warns, naming TRUST_PROXY_HOPS, when no proxy hop is trusted (TLS ends at a proxy)', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://id.example.com', LATCHKEY_SECRET: goodSecret });
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toMatch(/^TRUST_PROXY_HOPS is 0 while PUBLIC_URL is https/);
    expect(
      loadConfig({ PUBLIC_URL: 'https://id.example.com', LATCHKEY_SECRET: goodSecret, TRUST_PROXY_HOPS: '2' }).warnings,
    ).toEqual([]);
  });
});

describe('secrets are never echoed in error messages', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['a short LATCHKEY_SECRET', { LATCHKEY_SECRET: 'SuperSecretButShort' }, 'SuperSecretButShort'],
    [
      'a malformed bootstrap API key',
      { LATCHKEY_BOOTSTRAP_API_KEY: 'lk_ThisIsMyPrivateKeyValue' },
      'ThisIsMyPrivateKeyValue',
    ],
    [
      'a bootstrap API key with a bad character',
      { LATCHKEY_BOOTSTRAP_API_KEY: `lk_${'S'.repeat(43)}!` },
      'S'.repeat(43),
    ],
    [
      'a database URL of an unsupported kind carrying a password',
      { DATABASE_URL: 'mysql://root:hunter2-db-password@db.internal/latchkey' },
      'hunter2-db-password',
    ],
    ['a production start without PUBLIC_URL', { NODE_ENV: 'production', LATCHKEY_SECRET: goodSecret }, goodSecret],
    [
      'a bad value elsewhere while secrets are set',
      {
        LATCHKEY_SECRET: goodSecret,
        LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: 'bootstrap-password-value',
        LOG_LEVEL: 'loud',
      },
      'bootstrap-password-value',
    ],
  ];

  it.each(cases)('%s', (_label, env, secret) => {
    const err = configError(env);
    expect(err.message).not.toContain(secret);
    expect(String(err.stack)).not.toContain(secret);
  });

  it('still names the variable of a database URL it hides', () => {
    const err = configError({ DATABASE_URL: 'mysql://root:hunter2@db.internal/latchkey' });
    expect(err.message.startsWith('DATABASE_URL: ')).toBe(true);
    expect(err.message).toContain('db.internal');
  });
});

describe('readDotEnv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-dotenv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function parse(text: string): Record<string, string> {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.env`);
    writeFileSync(file, text);
    return readDotEnv(file);
  }

  it('returns nothing when the file does not exist', () => {
    expect(readDotEnv(join(dir, 'missing.env'))).toEqual({});
  });

  it('parses plain, quoted and exported values, and skips comments and blank lines', () => {
    const values = parse(
      [
        '# Latchkey settings',
        '',
        'PORT=8080',
        'export HOST=0.0.0.0',
        '  LOG_LEVEL = debug  ',
        'PUBLIC_URL="https://id.example.com"',
        "LATCHKEY_SECRET='with spaces and # hash'",
        'DATABASE_URL=postgres://u:p@h:5432/db?sslmode=require&x=1',
        '   # an indented comment',
        'EMPTY=',
        'not a valid line',
        '1BAD=starts with a digit',
      ].join('\n'),
    );
    expect(values).toEqual({
      PORT: '8080',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      PUBLIC_URL: 'https://id.example.com',
      LATCHKEY_SECRET: 'with spaces and # hash',
      DATABASE_URL: 'postgres://u:p@h:5432/db?sslmode=require&x=1',
      EMPTY: '',
    });
  });

  it('reads Windows line endings', () => {
    expect(parse('A=1\r\nB="two"\r\n')).toEqual({ A: '1', B: 'two' });
  });

  it('drops a trailing comment after an unquoted or quoted value, as dotenv does', () => {
    expect(parse('PORT=8080 # the HTTP port\nPUBLIC_URL="https://x.example" # public\nKEEP=a#b\n')).toEqual({
      PORT: '8080',
      PUBLIC_URL: 'https://x.example',
      KEEP: 'a#b',
    });
  });

  it('keeps mismatched quotes as they are', () => {
    expect(parse(`A="unterminated\nB='mixed"\n`)).toEqual({ A: '"unterminated', B: `'mixed"` });
  });

  it('feeds loadConfig, with the process environment taking precedence as the CLI does', () => {
    const fromFile = parse('PORT=8080\nLOG_LEVEL=debug\n');
    const config = loadConfig({ ...fromFile, ...{ LOG_LEVEL: 'warn' } });
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('warn');
  });
});
