/**
 * Prometheus metrics and trace ids, black box: `/metrics` on its own port (and not on the
 * main one), or on the main port behind METRICS_TOKEN, or nowhere; the counters after a
 * client credentials grant and password sign-ins, with labels from fixed sets (route
 * templates, never a slug or an id); a valid `traceparent` in the request's log lines, a
 * malformed one ignored; bad metrics settings refused at start.
 * @see issue 12
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authUrl, basicAuth, clientCredentialsGrant, serviceClient } from './helpers/oidc.js';
import { captureLog, freePort, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const dashboard = new URL('../../../deploy/grafana/latchkey.json', import.meta.url);
const token = 'metrics-token-0123456789-abcdefghijklmnop';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (no escaped quotes in our label values). */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1] as string] = pair[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample named `name` whose labels include `labels` (summed when several do), or 0. */
function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Signs in on the tenant's sign-in form in a fresh browser: whether the application got a code. */
async function signIn(ts: TestServer, slug: string, clientId: string, email: string, password: string) {
  const browser = new Browser();
  const atApp = (u: URL) => u.href.startsWith(redirectUri);
  const page = await browser.go(authUrl(ts.url, slug, clientId, redirectUri), { stopAt: atApp });
  expect(page.status).toBe(200);
  const after = await browser.submit(page, { email, password }, { stopAt: atApp });
  return atApp(after.url) && after.url.searchParams.has('code');
}

describe.each(dialects)('metrics (%s)', (dialect) => {
  const log = captureLog();
  let ts: TestServer;
  let metricsUrl: string;
  const scrape = async () => {
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    ts = await startTestServer(
      dialect,
      { METRICS_PORT: String(await freePort()), METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      undefined,
      { logDestination: log },
    );
    metricsUrl = ts.server.metricsUrl ?? '';
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('serves /metrics on the metrics port only, in the Prometheus text format', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE latchkey_http_request_duration_seconds histogram');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('process_resident_memory_bytes');
    expect((await fetch(`${metricsUrl}/other`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    const main = await ts.api('GET', '/metrics');
    expect(main.status).toBe(404);
    expect(main.body.error.code).toBe('route_not_found');
  });

  it('counts grants, sign-ins, lockouts, the provider pool and the database, with fixed labels', async () => {
    const { slug, api } = await tenantWithAdmin(ts);
    const lockout = { maxFailures: 2, durationSeconds: 60 };
    expect((await api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { lockout } } })).status).toBe(200);
    const before = await scrape();

    // A client credentials grant, and one with a wrong secret.
    const service = await serviceClient(api, slug);
    expect((await clientCredentialsGrant(ts, slug, service)).status).toBe(200);
    expect((await clientCredentialsGrant(ts, slug, { id: service.id, secret: 'wrong' })).status).toBe(401);
    // A grant type nobody configured is `other`, not a label of the caller's choosing.
    const odd = await fetch(`${ts.url}/t/${slug}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(service.id, service.secret),
      },
      body: 'grant_type=urn%3Aexample%3Amade-up',
    });
    expect(odd.status).toBe(400);

    // Password sign-ins on the form: one right, then wrong ones until the account locks.
    const user = { email: 'metered@example.test', password: 'a long enough password' };
    const created = await api('POST', `/api/v1/tenants/${slug}/users`, { body: user });
    expect(created.status).toBe(201);
    const app = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(app.status).toBe(201);
    const clientId = app.body.clientId as string;
    expect(await signIn(ts, slug, clientId, user.email, user.password)).toBe(true);
    expect(await signIn(ts, slug, clientId, user.email, 'wrong password 1')).toBe(false);
    expect(await signIn(ts, slug, clientId, 'nobody@example.test', 'wrong password')).toBe(false);
    expect(await signIn(ts, slug, clientId, user.email, 'wrong password 2')).toBe(false);
    expect(await signIn(ts, slug, clientId, user.email, user.password)).toBe(false);

    // A route with ids in its path, and one that matches no route.
    const userId = created.body.id as string;
    expect((await api('GET', `/api/v1/tenants/${slug}/users/${userId}`)).status).toBe(200);
    expect((await api('GET', `/api/v1/no-such-route-${userId}`)).status).toBe(404);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    const grants = 'latchkey_oidc_grants_total';
    expect(moved(grants, { grant_type: 'client_credentials', outcome: 'success' })).toBe(1);
    expect(moved(grants, { grant_type: 'client_credentials', outcome: 'invalid_client' })).toBe(1);
    expect(moved(grants, { grant_type: 'other', outcome: 'unsupported_grant_type' })).toBe(1);
    // Each sign-in that issued a code redeemed nothing: no authorization_code grant yet.
    expect(moved(grants, { grant_type: 'authorization_code' })).toBe(0);
    const signIns = 'latchkey_sign_ins_total';
    expect(moved(signIns, { outcome: 'success' })).toBe(1);
    // Wrong password and unknown account alike.
    expect(moved(signIns, { outcome: 'failed' })).toBe(3);
    expect(moved(signIns, { outcome: 'locked' })).toBe(1);
    expect(moved('latchkey_lockouts_total', { subject: 'account' })).toBe(1);
    expect(moved('latchkey_lockouts_total', { subject: 'address' })).toBe(0);

    const requests = 'latchkey_http_request_duration_seconds_count';
    expect(moved(requests, { method: 'GET', route: '/api/v1/tenants/:slug/users/:id', status: '200' })).toBe(1);
    expect(moved(requests, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(moved(requests, { method: 'POST', route: '/t/:slug/token', status: '200' })).toBe(1);
    expect(moved(requests, { method: 'POST', route: '/t/:slug/token', status: '401' })).toBe(1);
    expect(moved(requests, { method: 'POST', route: '/t/:slug/interaction/:uid/login', status: '303' })).toBe(5);
    expect(moved(requests, { method: 'GET', route: '/t/:slug/auth' })).toBeGreaterThanOrEqual(5);
    expect(moved('latchkey_http_request_duration_seconds_bucket', { route: '/t/:slug/token', le: '+Inf' })).toBe(3);
    // No slug, id or email is ever a label value.
    for (const secretish of [slug, userId, service.id, user.email, 'made-up']) expect(after).not.toContain(secretish);

    // Built on first use, and again after each client change (the web client) drops it.
    expect(moved('latchkey_oidc_provider_builds_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(moved('latchkey_oidc_provider_pool_misses_total')).toBeGreaterThanOrEqual(1);
    expect(moved('latchkey_oidc_provider_pool_hits_total')).toBeGreaterThanOrEqual(5);
    expect(sampleValue(after, 'latchkey_oidc_provider_pool_size')).toBeGreaterThanOrEqual(1);

    const queries = 'latchkey_db_query_duration_seconds_count';
    expect(moved(queries, { operation: 'select', outcome: 'ok' })).toBeGreaterThan(5);
    expect(moved(queries, { operation: 'insert', outcome: 'ok' })).toBeGreaterThan(0);
    expect(sampleValue(after, 'latchkey_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'latchkey_db_pool_max_connections')).toBe(dialect === 'postgres' ? 10 : 1);
    expect(after).toContain('latchkey_db_pool_idle_connections');
    expect(after).toContain('latchkey_db_pool_waiting');
  });

  it('exposes every metric the Grafana dashboard queries', async () => {
    const text = await scrape();
    const exprs = [...readFileSync(dashboard, 'utf8').matchAll(/"expr": "([^"\\]*(?:\\.[^"\\]*)*)"/g)];
    expect(exprs.length).toBeGreaterThan(15);
    const names = new Set(
      exprs.flatMap((e) => [...(e[1] ?? '').matchAll(/\b(?:latchkey|nodejs|process)_\w+/g)]).map((m) => m[0]),
    );
    for (const name of names) expect(text, name).toContain(`# TYPE ${name.replace(/_(bucket|count|sum)$/, '')} `);
  });

  it('logs a valid traceparent as traceId and spanId on every line of its request, and ignores a malformed one', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    const linesOf = (reqId: string) =>
      log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === reqId);
    const send = async (path: string, traceparent: string, reqId: string) => {
      const res = await fetch(`${ts.url}${path}`, { headers: { traceparent, 'x-request-id': reqId } });
      await res.text();
      expect(res.headers.get('x-request-id')).toBe(reqId);
      // The request's line is written as its answer ends.
      await expect.poll(() => linesOf(reqId).length).toBeGreaterThan(0);
      return linesOf(reqId);
    };
    const valid = `00-${traceId}-${spanId}-01`;
    for (const [path, reqId] of [
      ['/healthz', 'trace-fastify'],
      ['/t/no-such-tenant/.well-known/openid-configuration', 'trace-provider'],
    ] as const) {
      const lines = await send(path, valid, reqId);
      for (const line of lines) expect(line).toMatchObject({ traceId, spanId, reqId });
    }
    for (const [malformed, reqId] of [
      [`00-${traceId.toUpperCase()}-${spanId}-01`, 'trace-upper'],
      [`00-${'0'.repeat(32)}-${spanId}-01`, 'trace-zero'],
      [`01-${traceId}-${spanId}-01`, 'trace-version'],
      [`00-${traceId}-${spanId}`, 'trace-short'],
      [`00-${traceId}-${spanId}-01, 00-${traceId}-${spanId}-01`, 'trace-twice'],
    ] as const) {
      const lines = await send('/healthz', malformed, reqId);
      for (const line of lines) {
        expect(line).not.toHaveProperty('traceId');
        expect(line).not.toHaveProperty('spanId');
      }
    }
  });
});

describe.each(dialects)('metrics behind METRICS_TOKEN, or off (%s)', (dialect) => {
  let withToken: TestServer;
  let off: TestServer;
  const scrape = async () => (await withToken.api('GET', '/metrics', { token })).text;

  beforeAll(async () => {
    // The lockout counters in Redis where the run has one (lockIfReached of RedisLockoutStore).
    const redis: Record<string, string> = process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {};
    [withToken, off] = await Promise.all([
      startTestServer(dialect, { METRICS_TOKEN: token, ...redis }),
      startTestServer(dialect),
    ]);
  });
  afterAll(async () => {
    await Promise.all([withToken?.close(), off?.close()]);
  });

  it('serves /metrics on the main port to the bearer of the token only', async () => {
    expect(withToken.server.metricsUrl).toBeUndefined();
    for (const auth of [null, `Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, `Basic ${token}`, token]) {
      const res = await withToken.api('GET', '/metrics', { token: null, headers: auth ? { authorization: auth } : {} });
      expect(res.status, auth ?? 'none').toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const res = await withToken.api('GET', '/metrics', { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const refusals = { method: 'GET', route: '/metrics', status: '401' };
    // A request is counted as its answer finishes, which may be just after the client read it.
    const refused = async () => sampleValue(await scrape(), 'latchkey_http_request_duration_seconds_count', refusals);
    await expect.poll(refused).toBe(5);
    // Not part of the admin API's contract.
    const openapi = await withToken.api('GET', '/api/v1/openapi.json');
    expect(Object.keys(openapi.body.paths)).not.toContain('/metrics');
  });

  it('counts a lockout once, whichever store keeps the counters', async () => {
    const { slug, api } = await tenantWithAdmin(withToken);
    const lockout = { maxFailures: 2, durationSeconds: 60 };
    expect((await api('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { lockout } } })).status).toBe(200);
    const user = { email: 'locked@example.test', password: 'a long enough password' };
    expect((await api('POST', `/api/v1/tenants/${slug}/users`, { body: user })).status).toBe(201);
    const app = await api('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    const clientId = app.body.clientId as string;
    const before = await scrape();
    for (const password of ['wrong 1', 'wrong 2', 'wrong 3', user.password]) {
      expect(await signIn(withToken, slug, clientId, user.email, password)).toBe(false);
    }
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(moved('latchkey_lockouts_total', { subject: 'account' })).toBe(1);
    expect(moved('latchkey_sign_ins_total', { outcome: 'failed' })).toBe(2);
    expect(moved('latchkey_sign_ins_total', { outcome: 'locked' })).toBe(2);
  });

  it('answers /metrics with a 404 when metrics are off', async () => {
    expect(off.server.metricsUrl).toBeUndefined();
    expect(off.server.ctx.metrics).toBeUndefined();
    const res = await off.api('GET', '/metrics', { token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('route_not_found');
  });
});

describe('metrics settings', () => {
  const refused = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(env)}`);
  };

  it('refuses a short token, a port out of range or the main port, at start', () => {
    const short = 'too-short-token';
    const message = refused({ METRICS_TOKEN: short });
    expect(message).toMatch(/^METRICS_TOKEN: must be at least 32 characters/);
    expect(message).not.toContain(short);
    for (const port of ['0', '65536', 'abc', '-1', ' ']) {
      expect(refused({ METRICS_PORT: port })).toMatch(/^METRICS_PORT: /);
    }
    expect(refused({ PORT: '4000', METRICS_PORT: '4000' })).toMatch(/^METRICS_PORT: must differ from PORT/);
    expect(refused({ METRICS_PORT: '9464', METRICS_HOST: '' })).toMatch(/^METRICS_HOST: /);
  });

  it('turns metrics on only with a port or a token', () => {
    expect(loadConfig({}).metrics).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1', token: undefined });
    expect(loadConfig({ METRICS_TOKEN: token, METRICS_HOST: '0.0.0.0' }).metrics).toEqual({
      port: undefined,
      host: '0.0.0.0',
      token,
    });
  });
});
