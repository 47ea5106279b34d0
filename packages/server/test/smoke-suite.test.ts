/**
 * `latchkey smoke` (docs/smoke.md), the built CLI run as a child process the way users and CI
 * run it, against a real server on each database: every step passes on a good deployment;
 * a wrong API key or a deployment whose PUBLIC_URL is not the URL fails with a line that says
 * so; no run leaves its tenant behind; bad usage exits 2.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleDistDir } from '../src/console/routes.js';
import { apiHeaderProblems, pageHeaderProblems } from '../src/smoke/headers.js';
import { parseSmokeArgs, UsageError } from '../src/smoke/options.js';
import { serverVersion } from '../src/version.js';
import { dialects } from './helpers/databases.js';
import { assertCliBuilt, type CliRun, cleanUp, runCli } from './helpers/process.js';
import { randomApiKey, startTestServer, type TestServer } from './helpers/server.js';

/** Every step the suite prints, in order. */
const steps = [
  'health (/healthz)',
  'readiness (/readyz)',
  'system tenant discovery',
  'system tenant JWKS',
  'create tenant smoke-',
  'tenant discovery and JWKS',
  'service application',
  'client-credentials token',
  'user with a password',
  'web application',
  'sign-in page (PKCE S256)',
  'password sign-in and consent',
  'code exchange and ID token',
  'refresh grant (rotation)',
  'used refresh token refused',
  'admin console (/admin/)',
  'security headers: sign-in page',
  'security headers: admin API',
  'cleanup: delete tenant smoke-',
];

interface Line {
  status: string;
  name: string;
  ms: number | undefined;
  details: string;
}

/** The step lines of a run's output: status, name, duration, details. */
function lines(run: CliRun): Line[] {
  return run.stdout
    .split('\n')
    .map((l) => /^(PASS|FAIL|SKIP) {2}(.+?) +(?:(\d+) ms)?(?: {2}(.*))?$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({
      status: m[1] ?? '',
      name: (m[2] ?? '').trim(),
      ms: m[3] === undefined ? undefined : Number(m[3]),
      details: m[4] ?? '',
    }));
}

function line(run: CliRun, name: string): Line {
  const found = lines(run).find((l) => l.name.startsWith(name));
  if (!found) throw new Error(`no line for "${name}" in:\n${run.stdout}\n${run.stderr}`);
  return found;
}

const smoke = (args: string[], env: Record<string, string> = {}) => runCli(['smoke', ...args], env, undefined, 60_000);

beforeAll(() => {
  assertCliBuilt();
  if (!existsSync(`${consoleDistDir}index.html`)) {
    throw new Error('the admin console is not built: run `npm run build` (`npm test` builds it first)');
  }
});
afterAll(cleanUp);

describe.each(dialects)('latchkey smoke against a real server (%s)', (dialect) => {
  let ts: TestServer;

  async function tenantSlugs(): Promise<string[]> {
    const res = await ts.api('GET', '/api/v1/tenants?limit=200');
    expect(res.status).toBe(200);
    return res.body.items.map((t: { slug: string }) => t.slug);
  }

  beforeAll(async () => {
    ts = await startTestServer(dialect);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('passes every step on a good deployment, with the key from the environment, and deletes its tenant', async () => {
    const before = await tenantSlugs();
    const run = await smoke(['--url', ts.url], { LATCHKEY_SMOKE_API_KEY: ts.adminKey });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const printed = lines(run);
    expect(printed.map((l) => l.name.replace(/smoke-[0-9a-f]+$/, 'smoke-'))).toEqual(steps);
    for (const l of printed) {
      expect(l.status, `${l.name}: ${l.details}`).toBe('PASS');
      expect(l.ms, l.name).toBeGreaterThanOrEqual(0);
    }
    expect(line(run, 'health').details).toBe(`version ${serverVersion}`);
    expect(line(run, 'system tenant discovery').details).toBe(`issuer ${ts.url}/t/system`);
    expect(line(run, 'password sign-in and consent').details).toBe('consent page allowed; code received');
    expect(line(run, 'security headers: sign-in page').details).toContain("frame-ancestors 'none'");
    expect(run.stdout).toMatch(/smoke suite passed: 19 passed, 0 failed, 0 skipped in [\d.]+ s\n$/);
    // The tenant it made is named in its lines, and gone.
    const slug = /create tenant (smoke-[0-9a-f]{10})/.exec(run.stdout)?.[1] ?? '';
    expect(slug).not.toBe('');
    expect(await tenantSlugs()).toEqual(before);
    expect((await ts.api('GET', `/api/v1/tenants/${slug}`)).status).toBe(404);
    // Nothing secret is printed.
    expect(run.stdout + run.stderr).not.toContain(ts.adminKey);
    expect(run.stdout).not.toMatch(/code=|eyJ/);
  });

  it('takes the key from --api-key (which wins over the environment)', async () => {
    const run = await smoke(['--url', `${ts.url}/`, '--api-key', ts.adminKey], {
      LATCHKEY_SMOKE_API_KEY: randomApiKey(),
    });
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(lines(run).every((l) => l.status === 'PASS')).toBe(true);
  });

  it('fails at the tenant with a wrong API key, says why, and leaves nothing behind', async () => {
    const before = await tenantSlugs();
    const wrongKey = randomApiKey();
    const run = await smoke(['--url', ts.url, '--api-key', wrongKey]);
    expect(run.code, run.stdout).toBe(1);
    const create = line(run, 'create tenant');
    expect(create.status).toBe('FAIL');
    expect(create.details).toContain('answered 401 (expected 201): unauthorized');
    expect(create.details).toContain('(is the API key right?)');
    // What needs no key still passed; what needs the tenant was skipped, each with its line.
    expect(line(run, 'health').status).toBe('PASS');
    expect(line(run, 'system tenant JWKS').status).toBe('PASS');
    expect(line(run, 'user with a password')).toMatchObject({
      status: 'SKIP',
      details: 'an earlier step it needs failed',
    });
    expect(line(run, 'cleanup')).toMatchObject({ status: 'SKIP', details: 'no tenant was made' });
    expect(run.stdout).toMatch(/smoke suite FAILED: \d+ passed, 2 failed, \d+ skipped/);
    expect(run.stdout + run.stderr).not.toContain(wrongKey);
    expect(await tenantSlugs()).toEqual(before);
  });

  it('fails when the URL is not the PUBLIC_URL, and still deletes the tenant it made', async () => {
    // A second node on the same database that believes it is somewhere else.
    const misplaced = await startTestServer(
      dialect,
      { PUBLIC_URL: 'http://127.0.0.1:9', LATCHKEY_BOOTSTRAP_API_KEY: ts.adminKey },
      ts.database,
    );
    try {
      const before = await tenantSlugs();
      const run = await smoke(['--url', misplaced.url], { LATCHKEY_SMOKE_API_KEY: ts.adminKey });
      expect(run.code, run.stdout).toBe(1);
      expect(line(run, 'system tenant discovery')).toMatchObject({
        status: 'FAIL',
        details: `issuer is "http://127.0.0.1:9/t/system", not ${misplaced.url}/t/system: is --url the deployment's PUBLIC_URL?`,
      });
      expect(line(run, 'create tenant').status).toBe('PASS');
      expect(line(run, 'tenant discovery and JWKS').status).toBe('FAIL');
      expect(line(run, 'client-credentials token').status).toBe('SKIP');
      expect(line(run, 'cleanup').status).toBe('PASS');
      expect(await tenantSlugs()).toEqual(before);
    } finally {
      await misplaced.close();
    }
  });
});

describe('latchkey smoke: bad usage exits 2 with a clear message', () => {
  // Each case is a process start: run them side by side.
  it.concurrent.each([
    [['--api-key', 'lk_x'], '--url is required (the deployment, e.g. https://login.example.com)'],
    [['--url', 'not a url', '--api-key', 'lk_x'], '--url "not a url" is not a URL (e.g. https://login.example.com)'],
    [['--url', 'ftp://login.example.com', '--api-key', 'lk_x'], '--url must be http or https, not ftp'],
  ])('%j', async (args, message) => {
    const run = await smoke(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`latchkey smoke: ${message}\nsee latchkey smoke --help\n`);
  });

  // The rest of the rules, without a process each.
  it.each([
    [['--url'], '--url needs a value'],
    [['--url', '--api-key', 'lk_x'], '--url needs a value'],
    [['--url', 'https://login.example.com/?x=1', '--api-key', 'lk_x'], '--url must not have a query or fragment'],
    [
      ['--url', 'https://user:pw@login.example.com', '--api-key', 'lk_x'],
      '--url must not carry a user name or password',
    ],
    [['--url', 'https://login.example.com'], 'an API key is required'],
    [['--url', 'https://login.example.com', '--api-key', 'lk_ x'], 'the API key contains white space'],
    [['--url', 'https://a.example', '--url', 'https://b.example', '--api-key', 'k'], '--url given twice'],
    [['--url', 'https://login.example.com', '--api-key', 'lk_x', '--timeout', 'soon'], '--timeout must be a number'],
    [['--url', 'https://login.example.com', '--api-key', 'lk_x', '--timeout', '0'], '--timeout must be a number'],
    [['--url', 'https://login.example.com', '--colour'], 'unexpected argument "--colour"'],
  ])('%j', (args, message) => {
    expect(() => parseSmokeArgs(args, {})).toThrow(UsageError);
    expect(() => parseSmokeArgs(args, {})).toThrow(message);
  });

  it('reads the URL and key as given, the key from the environment when no flag gives it', () => {
    expect(
      parseSmokeArgs(['--url=https://login.example.com/id/', '--timeout', '2.5'], { LATCHKEY_SMOKE_API_KEY: 'lk_e' }),
    ).toEqual({
      url: 'https://login.example.com/id',
      apiKey: 'lk_e',
      timeoutMs: 2500,
    });
    expect(
      parseSmokeArgs(['--url', 'http://127.0.0.1:3000', '--api-key=lk_f'], { LATCHKEY_SMOKE_API_KEY: 'lk_e' }),
    ).toEqual({
      url: 'http://127.0.0.1:3000',
      apiKey: 'lk_f',
      timeoutMs: 20_000,
    });
    expect(parseSmokeArgs(['--url', 'x', '--help'], {})).toBe('help');
  });

  it('never echoes what looks like a key given without --api-key', async () => {
    const key = randomApiKey();
    const run = await smoke(['--url', 'https://login.example.com', key]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unexpected argument "lk_…"');
    expect(run.stderr).not.toContain(key);
    const inline = await smoke(['--url', 'https://login.example.com', `--api-kee=${key}`]);
    expect(inline.code).toBe(2);
    expect(inline.stderr).toContain('unexpected argument "--api-kee=…"');
    expect(inline.stderr).not.toContain(key);
  });

  it('prints its help with --help, and the main help lists it', async () => {
    const help = await smoke(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: latchkey smoke --url <url> \[--api-key <key>\]/);
    expect(help.stdout).toContain('LATCHKEY_SMOKE_API_KEY');
    const main = await runCli(['--help']);
    expect(main.stdout).toContain('smoke --url <url> [--api-key <key>]');
  });
});

describe('the security header rules of the smoke suite', () => {
  const page = {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  const api = {
    'content-type': 'application/json; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  };
  const hsts = { 'strict-transport-security': 'max-age=31536000; includeSubDomains' };
  const pageProblems = (headers: Record<string, string>, https = false, html = '') =>
    pageHeaderProblems(new Headers(headers), html, https, []);

  it('accepts a page with CSP, nosniff, a strict referrer policy and frame protection; HSTS only asked over https', () => {
    expect(pageProblems(page)).toEqual([]);
    expect(pageProblems(page, true)).toEqual(['no Strict-Transport-Security (add it where TLS ends)']);
    expect(pageProblems({ ...page, ...hsts }, true)).toEqual([]);
    expect(pageProblems({ ...page, 'strict-transport-security': 'max-age=0' }, true)).toEqual([
      'Strict-Transport-Security "max-age=0" has no positive max-age',
    ]);
  });

  it('names each missing or weak page header', () => {
    expect(pageProblems({})).toEqual([
      'no Content-Security-Policy',
      'no X-Content-Type-Options: nosniff',
      'no Referrer-Policy (header or <meta name="referrer">)',
      'no frame protection (CSP frame-ancestors or X-Frame-Options DENY/SAMEORIGIN)',
    ]);
    expect(pageProblems({ ...page, 'referrer-policy': 'unsafe-url' })).toEqual([
      'Referrer-Policy "unsafe-url" sends paths to other sites',
    ]);
    expect(pageProblems({ ...page, 'content-security-policy': "default-src 'self'; frame-ancestors *" })).toHaveLength(
      1,
    );
  });

  it('takes the referrer policy from the page when no header sets it, and X-Frame-Options for frames', () => {
    const { 'referrer-policy': _, ...noHeader } = page;
    expect(pageProblems(noHeader, false, '<meta name="referrer" content="no-referrer">')).toEqual([]);
    const found: string[] = [];
    pageHeaderProblems(
      new Headers({ ...noHeader, 'content-security-policy': "default-src 'self'", 'x-frame-options': 'DENY' }),
      '<meta name="referrer" content="same-origin">',
      false,
      found,
    );
    expect(found).toEqual(['CSP', 'nosniff', 'Referrer-Policy same-origin (meta)', 'X-Frame-Options DENY']);
  });

  it('asks of an API answer JSON, nosniff, no-store, frame protection and no referrer (and HSTS over https)', () => {
    expect(apiHeaderProblems(new Headers(api), false, [])).toEqual([]);
    expect(apiHeaderProblems(new Headers({ ...api, ...hsts }), true, [])).toEqual([]);
    expect(apiHeaderProblems(new Headers({ 'content-type': 'text/html' }), true, [])).toEqual([
      'Content-Type "text/html", not application/json',
      'no X-Content-Type-Options: nosniff',
      'Cache-Control "" lacks no-store',
      'no frame protection (CSP frame-ancestors or X-Frame-Options DENY/SAMEORIGIN)',
      'Referrer-Policy "", not no-referrer',
      'no Strict-Transport-Security (add it where TLS ends)',
    ]);
    const { 'content-security-policy': _, ...noCsp } = api;
    expect(apiHeaderProblems(new Headers({ ...noCsp, 'x-frame-options': 'DENY' }), false, [])).toEqual([]);
  });
});
