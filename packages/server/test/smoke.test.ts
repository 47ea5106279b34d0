import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverVersion } from '../src/version.js';
import { dialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/server.js';

describe.each(dialects)('server basics (%s)', (dialect) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(dialect);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('answers health and readiness', async () => {
    const health = await ts.api('GET', '/healthz', { token: null });
    expect(health.status).toBe(200);
    // The running version, as `latchkey --version` prints it.
    expect(health.body).toEqual({ status: 'ok', version: serverVersion });
    expect(serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    const ready = await ts.api('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok' });
  });

  it('refuses the admin API without a credential', async () => {
    const res = await ts.api('GET', '/api/v1/tenants', { token: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // An answer of the admin API, refused or not: JSON that nothing may run, frame, cache or refer on.
    for (const answer of [res, await ts.api('GET', '/api/v1/tenants')]) {
      expect(answer.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
    // Plain-HTTP PUBLIC_URL: no HSTS (a browser would ignore it, and localhost must not be pinned).
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('lists the system tenant for the bootstrap key', async () => {
    const res = await ts.api('GET', '/api/v1/tenants');
    expect(res.status).toBe(200);
    expect(res.body.items.map((t: { slug: string }) => t.slug)).toContain('system');
  });
});
