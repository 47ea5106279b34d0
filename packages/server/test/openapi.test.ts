/**
 * The OpenAPI document: the committed copy is what the server serves, the docs page works,
 * and every documented operation requires a credential (and really refuses to run without).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const committedPath = new URL('../openapi.json', import.meta.url);
const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
}
interface Document {
  openapi: string;
  security?: Record<string, string[]>[];
  components?: { securitySchemes?: Record<string, unknown> };
  paths: Record<string, Partial<Record<(typeof methods)[number], Operation>>>;
}

function operations(doc: Document): { method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    methods.flatMap((method) => (item[method] ? [{ method, path, op: item[method] }] : [])),
  );
}

describe.each(dialects)('OpenAPI document (%s)', (dialect) => {
  let ts: TestServer;
  let served: Document;
  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const res = await ts.api('GET', '/api/v1/openapi.json', { token: null });
    served = res.body as Document;
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('is served without credentials, as JSON', async () => {
    const res = await ts.api('GET', '/api/v1/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body.openapi).toMatch(/^3\./);
    // A bad credential does not stop it either: the document is public.
    const withBadToken = await ts.api('GET', '/api/v1/openapi.json', { token: 'lk_not-a-real-key' });
    expect(withBadToken.status).toBe(200);
  });

  it('equals the committed packages/server/openapi.json', () => {
    const committed = JSON.parse(readFileSync(committedPath, 'utf8')) as Document;
    expect(
      served,
      'packages/server/openapi.json differs from the document the server serves: run `npm run openapi` and commit the result',
    ).toEqual(committed);
  });

  it('documents the admin API', () => {
    const paths = Object.keys(served.paths);
    for (const path of [
      '/api/v1/tenants',
      '/api/v1/tenants/{slug}',
      '/api/v1/tenants/{slug}/users',
      '/api/v1/tenants/{slug}/users/{id}',
      '/api/v1/tenants/{slug}/roles',
      '/api/v1/tenants/{slug}/api-keys',
      '/api/v1/tenants/{slug}/audit-events',
    ]) {
      expect(paths).toContain(path);
    }
    expect(operations(served).length).toBeGreaterThan(10);
  });

  it('requires a security scheme on every operation', () => {
    const schemes = Object.keys(served.components?.securitySchemes ?? {});
    expect(schemes.length).toBeGreaterThan(0);
    for (const { method, path, op } of operations(served)) {
      if (path === '/api/v1/openapi.json') continue; // the one public document
      const where = `${method.toUpperCase()} ${path}`;
      const security = op.security ?? served.security;
      expect(security, where).toBeDefined();
      expect(security?.length, where).toBeGreaterThan(0);
      for (const requirement of security ?? []) {
        // `{}` in the list would make the credential optional.
        expect(Object.keys(requirement).length, where).toBeGreaterThan(0);
        for (const name of Object.keys(requirement)) expect(schemes, where).toContain(name);
      }
    }
  });

  it('refuses every documented operation without a credential (401)', async () => {
    const sample: Record<string, string> = {
      slug: 'system',
      id: 'usr_00000000000000000000000000',
      name: 'tenant:admin',
    };
    const checked: string[] = [];
    for (const { method, path } of operations(served)) {
      if (path === '/api/v1/openapi.json') continue;
      const url = path.replace(/\{([^}]+)\}/g, (_m, param: string) => encodeURIComponent(sample[param] ?? 'x'));
      const res = await ts.api(method.toUpperCase(), url, {
        token: null,
        ...(['post', 'put', 'patch'].includes(method) ? { body: {} } : {}),
      });
      expect(res.status, `${method.toUpperCase()} ${url}`).toBe(401);
      if (method !== 'head') expect(res.body.error?.code, `${method.toUpperCase()} ${url}`).toBe('unauthorized');
      checked.push(`${method} ${path}`);
    }
    expect(checked.length).toBeGreaterThan(10);
  });

  it('serves the docs page at /api/docs, with its assets and the same document', async () => {
    const first = await fetch(`${ts.url}/api/docs`, { redirect: 'manual' });
    let page = first;
    let pageUrl = `${ts.url}/api/docs`;
    if (first.status >= 300 && first.status < 400) {
      const location = first.headers.get('location');
      expect(location).toBeTruthy();
      pageUrl = new URL(location ?? '', pageUrl).toString();
      await first.arrayBuffer();
      page = await fetch(pageUrl);
    }
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toMatch(/<html/i);
    expect(html).toContain('swagger-ui');

    // Every script and stylesheet the page loads is there.
    const assets = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const res = await fetch(new URL(asset, pageUrl));
      expect(res.status, asset).toBe(200);
      await res.arrayBuffer();
    }

    // The page's own copy of the document is the same one.
    const docsJson = await fetch(new URL('json', pageUrl.endsWith('/') ? pageUrl : `${pageUrl}/`));
    expect(docsJson.status).toBe(200);
    expect(await docsJson.json()).toEqual(served);
  });
});
