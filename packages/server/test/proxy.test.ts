/**
 * Behind a TLS-ending proxy: a server whose PUBLIC_URL is https, reached over plain HTTP on
 * 127.0.0.1 as a proxy reaches it, completes /auth → sign-in → code → tokens, names only
 * https URLs, and sets every cookie `Secure`; whether TRUST_PROXY_HOPS counts the proxy
 * (X-Forwarded-Proto trusted) or is left at 0 (the header ignored, or not sent): never a 500.
 * @see issue 9, item 11
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { basicAuth, pkce } from './helpers/oidc.js';
import { freePort, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redirectUri = 'https://app.example.test/cb';

/** A browser behind the proxy: https URLs of the public origin go to the server over HTTP, with `headers` added. */
class ProxiedBrowser {
  readonly jar = new CookieJar();
  readonly setCookies: string[] = [];

  constructor(
    private readonly ts: TestServer,
    private readonly publicUrl: string,
    private readonly headers: Record<string, string>,
  ) {}

  async fetch(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    const target = new URL(url.startsWith(this.publicUrl) ? this.ts.url + url.slice(this.publicUrl.length) : url);
    const headers: Record<string, string> = { ...this.headers, ...init.headers, cookie: this.jar.header(target) };
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(target, {
      method: init.method ?? 'GET',
      headers,
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      redirect: 'manual',
    });
    this.jar.store(res);
    this.setCookies.push(...res.headers.getSetCookie());
    return { status: res.status, location: res.headers.get('location'), text: await res.text() };
  }

  /** Follows redirects within the public origin; returns the first answer that is not one, or the redirect leaving it. */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}) {
    let res = await this.fetch(url, init);
    for (let hops = 0; hops < 10 && res.location; hops++) {
      const next = new URL(res.location, this.publicUrl).href;
      if (!next.startsWith(this.publicUrl)) return { ...res, location: next };
      res = await this.fetch(next);
    }
    return res;
  }
}

function csrfOf(html: string): string {
  return /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
}

describe.each(dialects)('behind a TLS-ending proxy (%s)', (dialect) => {
  const user = { email: 'proxied@example.test', password: 'proxied password 2024' };
  const servers: {
    hops: number;
    ts: TestServer;
    publicUrl: string;
    slug: string;
    client: { id: string; secret: string };
  }[] = [];

  beforeAll(async () => {
    for (const hops of [0, 1]) {
      const port = await freePort();
      const publicUrl = `https://127.0.0.1:${port}`;
      const ts = await startTestServer(dialect, {
        PORT: String(port),
        PUBLIC_URL: publicUrl,
        TRUST_PROXY_HOPS: String(hops),
      });
      const { slug, api } = await tenantWithAdmin(ts);
      expect((await api('POST', `/api/v1/tenants/${slug}/users`, { body: user })).status).toBe(201);
      const created = await api('POST', `/api/v1/tenants/${slug}/clients`, {
        body: { kind: 'web', name: 'Proxied app', redirectUris: [redirectUri], firstParty: true },
      });
      expect(created.status, created.text).toBe(201);
      servers.push({
        hops,
        ts,
        publicUrl,
        slug,
        client: { id: created.body.clientId, secret: created.body.clientSecret },
      });
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.ts.close();
  });

  const cases: { name: string; hops: number; headers: Record<string, string> }[] = [
    {
      name: 'TRUST_PROXY_HOPS=1, X-Forwarded-Proto: https',
      hops: 1,
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' },
    },
    {
      name: 'TRUST_PROXY_HOPS=0, X-Forwarded-Proto: https (not trusted)',
      hops: 0,
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' },
    },
    { name: 'TRUST_PROXY_HOPS=0, no forwarded headers', hops: 0, headers: {} },
  ];

  it('sends HSTS on every kind of answer under an https PUBLIC_URL', async () => {
    const s = servers[0];
    if (!s) throw new Error('no server');
    for (const path of ['/healthz', '/api/v1/tenants', `/t/${s.slug}/.well-known/openid-configuration`, '/nowhere']) {
      const res = await fetch(`${s.ts.url}${path}`);
      expect(res.headers.get('strict-transport-security'), path).toBe('max-age=31536000');
    }
  });

  it.each(cases)('$name: signs in, with https URLs and Secure cookies only', async ({ hops, headers }) => {
    const s = servers.find((x) => x.hops === hops);
    if (!s) throw new Error('no server');
    const issuer = `${s.publicUrl}/t/${s.slug}`;
    const browser = new ProxiedBrowser(s.ts, s.publicUrl, headers);

    const discovery = await browser.fetch(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = JSON.parse(discovery.text) as Record<string, unknown>;
    expect(metadata.issuer).toBe(issuer);
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'end_session_endpoint', 'jwks_uri']) {
      expect(String(metadata[endpoint]), endpoint).toMatch(new RegExp(`^${issuer}/`));
    }

    const { verifier, challenge } = pkce();
    const auth = new URL(String(metadata.authorization_endpoint));
    auth.search = new URLSearchParams({
      client_id: s.client.id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid email',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'proxied-state',
    }).toString();
    const login = await browser.follow(auth.href);
    expect(login.status, login.text.slice(0, 300)).toBe(200);
    expect(login.text).toContain('<button type="submit">Sign in</button>');
    const action = /<form[^>]*action="([^"]*)"/.exec(login.text)?.[1] ?? '';

    // A wrong password first: the page remembers the email in a cookie of its own.
    const wrong = await browser.follow(`${s.publicUrl}${action}`, {
      method: 'POST',
      form: { csrf: csrfOf(login.text), email: user.email, password: 'not the password' },
    });
    expect(wrong.status).toBe(401);
    expect(browser.setCookies.some((c) => c.startsWith('lk_email='))).toBe(true);

    const done = await browser.follow(`${s.publicUrl}${action}`, {
      method: 'POST',
      form: { csrf: csrfOf(wrong.text), email: user.email, password: user.password },
    });
    expect(done.location, done.text.slice(0, 300)).toMatch(/^https:\/\/app\.example\.test\/cb\?code=/);
    const callback = new URL(done.location ?? '');
    expect(callback.searchParams.get('iss')).toBe(issuer);

    expect(browser.setCookies.length).toBeGreaterThan(2);
    for (const cookie of browser.setCookies) expect(cookie, cookie).toMatch(/;\s*secure(;|$)/i);

    const token = await browser.fetch(`${issuer}/token`, {
      method: 'POST',
      form: {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: redirectUri,
        code_verifier: verifier,
      },
      headers: { authorization: basicAuth(s.client.id, s.client.secret) },
    });
    expect(token.status, token.text).toBe(200);
    expect(JSON.parse(token.text).id_token).toBeTruthy();
  });

  it('with TRUST_PROXY_HOPS=0, warns at start that client addresses are the proxy’s', () => {
    const s = servers.find((x) => x.hops === 0);
    expect(s?.ts.server.ctx.config.warnings.some((w) => w.includes('TRUST_PROXY_HOPS'))).toBe(true);
    expect(servers.find((x) => x.hops === 1)?.ts.server.ctx.config.warnings ?? []).not.toContainEqual(
      expect.stringContaining('TRUST_PROXY_HOPS'),
    );
  });
});
