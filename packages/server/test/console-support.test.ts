import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

describe.each(dialects)('server support for the admin console (%s)', (dialect) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(dialect);
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('tells the console where it runs', async () => {
    const res = await ts.api('GET', '/admin/config.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ publicUrl: ts.url, adminApi: `${ts.url}/api` });
  });

  it('has an admin-console client in every tenant whose redirect follows PUBLIC_URL', async () => {
    const t = await tenantWithAdmin(ts);
    const sys = await ts.api('GET', '/api/v1/tenants/system/clients/admin-console');
    expect(sys.status).toBe(200);
    expect(sys.body.redirectUris).toEqual([`${ts.url}/admin/callback`]);
    const own = await t.api('GET', `/api/v1/tenants/${t.slug}/clients/admin-console`);
    expect(own.body.redirectUris).toEqual([`${ts.url}/admin/t/${t.slug}/callback`]);
    expect(own.body).toMatchObject({ kind: 'spa', firstParty: true, builtin: true, tokenEndpointAuthMethod: 'none' });
  });

  it('counts users, sessions, sign-ins and failures for the overview', async () => {
    const t = await tenantWithAdmin(ts);
    const pw = 'a long enough password 1';
    const user = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email: 'o@example.test', password: pw },
    });
    expect(user.status).toBe(201);
    await t.api('POST', `/api/v1/tenants/${t.slug}/users`, { body: { email: 'p@example.test' } });
    const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'web', name: 'w', redirectUris: ['http://127.0.0.1:9/cb'], firstParty: true },
    });
    const auth = new URL(`${ts.url}/t/${t.slug}/auth`);
    auth.search = new URLSearchParams({
      client_id: client.body.clientId,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:9/cb',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const stopAt = (u: URL) => u.href.startsWith('http://127.0.0.1:9/');
    const browser = new Browser();
    const bad = await browser.submit(await browser.go(auth), { email: 'o@example.test', password: 'wrong password!' });
    expect(bad.html).toContain('Invalid email or password');
    const good = await browser.submit(bad, { email: 'o@example.test', password: pw }, { stopAt });
    expect(stopAt(good.url)).toBe(true);

    const stats = await t.api('GET', `/api/v1/tenants/${t.slug}/stats`);
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ users: 2, activeSessions: 1, signIns24h: 1, failures24h: 1 });
    expect(stats.body.series).toHaveLength(24);
    const last = stats.body.series[23];
    expect(last).toMatchObject({ signIns: 1, failures: 1 });
    expect(Date.parse(last.hour)).toBeLessThanOrEqual(Date.now());
  });

  it('renders a branding preview, escaped and sandboxed', async () => {
    const t = await tenantWithAdmin(ts);
    const res = await t.api('POST', `/api/v1/tenants/${t.slug}/branding-preview`, {
      body: { displayName: 'Acme <b>', branding: { primaryColor: '#ff0000', loginMessage: '<script>x()</script>' } },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(res.text).toContain('--brand: #ff0000');
    expect(res.text).toContain('&lt;script&gt;x()&lt;/script&gt;');
    expect(res.text).not.toContain('<script>');
    expect(res.text).toContain('Acme &lt;b&gt;');
    const bad = await t.api('POST', `/api/v1/tenants/${t.slug}/branding-preview`, {
      body: { branding: { primaryColor: 'red' } },
    });
    expect(bad.status).toBe(400);
  });
});
