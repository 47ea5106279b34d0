/**
 * Scopes of the tenant's own APIs end to end: an application's `scopes` are checked when
 * set, asked with `scope=` and `resource=`, and enforced (a token carries what the
 * application may ask ∩ what the subject's roles grant); roles carry API scopes and are
 * edited with versions; API identifiers are any absolute URI, compared exactly; a client
 * authenticates only by the method it registered.
 * @see issue 9, items 14 to 17
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import {
  authorize,
  basicAuth,
  clientCredentialsGrant,
  discover,
  redeem,
  serviceClient,
  tokenRequest,
} from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const orders = 'https://orders.acme.test';
const billing = 'urn:acme:billing';
const scopeOf = (token: unknown) =>
  String(decodeJwt(String(token)).scope ?? '')
    .split(' ')
    .filter(Boolean)
    .sort();

describe.each(dialects)('scopes of the tenant’s APIs (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let admin: ApiClient;
  const base = () => `/api/v1/tenants/${slug}`;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    ({ slug, api: admin } = await tenantWithAdmin(ts));
    for (const [identifier, scopes] of [
      [orders, ['orders:read', 'orders:write']],
      [billing, ['invoices:read']],
    ] as const) {
      const res = await admin('POST', `${base()}/apis`, {
        body: { identifier, name: identifier, scopes: scopes.map((name) => ({ name })) },
      });
      expect(res.status, res.text).toBe(201);
    }
    const role = await admin('POST', `${base()}/roles`, {
      body: { name: 'order-reader', apiPermissions: [{ api: orders, scope: 'orders:read' }] },
    });
    expect(role.status, role.text).toBe(201);
  });
  afterAll(async () => {
    await ts?.close();
  });

  describe('item 14: an application’s scopes', () => {
    it('are checked against the OpenID Connect scopes and the tenant’s API scopes', async () => {
      const unknown = await admin('POST', `${base()}/clients`, {
        body: { kind: 'service', name: 'x', scopes: ['orders:delete'] },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toMatchObject({ code: 'unknown_scope', details: { scopes: ['orders:delete'] } });
      const ok = await serviceClient(admin, slug, { scopes: ['orders:read'] });
      const patch = await admin('PATCH', `${base()}/clients/${ok.rowId}`, { body: { scopes: ['nope'] } });
      expect(patch.status).toBe(400);
      expect(patch.body.error.code).toBe('unknown_scope');
    });

    it('given an API scope, a service client still gets tokens, carrying only what it may ask and its roles grant', async () => {
      const svc = await serviceClient(admin, slug, { scopes: ['orders:read'], roles: ['order-reader'] });
      const res = await clientCredentialsGrant(ts, slug, svc, { resource: orders, scope: 'orders:read orders:write' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(scopeOf(res.body.access_token)).toEqual(['orders:read']);
      expect(decodeJwt(res.body.access_token).aud).toBe(orders);
      // Allowed to ask orders:write too, but no role grants it.
      const wider = await serviceClient(admin, slug, {
        scopes: ['orders:read', 'orders:write'],
        roles: ['order-reader'],
      });
      const w = await clientCredentialsGrant(ts, slug, wider, { resource: orders, scope: 'orders:read orders:write' });
      expect(scopeOf(w.body.access_token)).toEqual(['orders:read']);
    });

    it('empty: a service client asks no API scope, whatever its roles', async () => {
      const svc = await serviceClient(admin, slug, { roles: ['tenant:admin'] });
      const res = await clientCredentialsGrant(ts, slug, svc, { resource: orders, scope: 'orders:read orders:write' });
      expect(res.status).toBe(200);
      expect(scopeOf(res.body.access_token)).toEqual([]);
    });

    it('given an API scope, a web client signs a user in and gets that scope when the user’s roles grant it', async () => {
      const email = 'reader@acme.test';
      const password = 'correct horse battery staple 14';
      const user = await admin('POST', `${base()}/users`, { body: { email, password } });
      expect((await admin('PUT', `${base()}/users/${user.body.id}/roles/order-reader`)).status).toBe(204);
      const redirectUri = 'http://127.0.0.1:9/cb';
      const web = await admin('POST', `${base()}/clients`, {
        body: {
          kind: 'web',
          name: 'Shop',
          redirectUris: [redirectUri],
          firstParty: true,
          scopes: ['openid', 'orders:read', 'orders:write'],
        },
      });
      expect(web.status, web.text).toBe(201);
      const config = await discover(ts, slug, web.body);
      const a = await authorize(
        config,
        new Browser(),
        redirectUri,
        { email, password },
        {
          scope: 'openid orders:read orders:write invoices:read',
          resource: orders,
        },
      );
      const tokens = await redeem(config, a, { resource: orders });
      expect(scopeOf(tokens.access_token)).toEqual(['orders:read']);

      // A role change applies to the next token: the user gains orders:write.
      const patched = await admin('PATCH', `${base()}/roles/order-reader`, {
        body: {
          apiPermissions: [
            { api: orders, scope: 'orders:read' },
            { api: orders, scope: 'orders:write' },
          ],
        },
      });
      expect(patched.status, patched.text).toBe(200);
      try {
        const b = await authorize(
          config,
          new Browser(),
          redirectUri,
          { email, password },
          {
            scope: 'openid orders:read orders:write',
            resource: orders,
          },
        );
        expect(scopeOf((await redeem(config, b, { resource: orders })).access_token)).toEqual([
          'orders:read',
          'orders:write',
        ]);
      } finally {
        await admin('PATCH', `${base()}/roles/order-reader`, {
          body: { apiPermissions: [{ api: orders, scope: 'orders:read' }] },
        });
      }
    });
  });

  describe('item 15: roles carry API scopes and are edited with versions', () => {
    it('PATCH changes description and rights, not the name; ETag and If-Match, 412 on a stale version', async () => {
      const created = await admin('POST', `${base()}/roles`, {
        body: { name: 'billing', permissions: ['users:read'] },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('"1"');
      expect(created.body).toMatchObject({ version: 1, apiPermissions: [] });
      const patched = await admin('PATCH', `${base()}/roles/billing`, {
        body: { description: 'Bills', apiPermissions: [{ api: billing, scope: 'invoices:read' }] },
        headers: { 'if-match': '"1"' },
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.headers.get('etag')).toBe('"2"');
      expect(patched.body).toMatchObject({
        name: 'billing',
        description: 'Bills',
        permissions: ['users:read'],
        apiPermissions: [{ api: billing, scope: 'invoices:read' }],
        version: 2,
      });
      const stale = await admin('PATCH', `${base()}/roles/billing`, {
        body: { description: 'x' },
        headers: { 'if-match': '"1"' },
      });
      expect(stale.status).toBe(412);
      expect(stale.body.error.code).toBe('version_mismatch');
      expect((await admin('PATCH', `${base()}/roles/billing`, { body: { name: 'renamed' } })).status).toBe(400);
      expect((await admin('PATCH', `${base()}/roles/tenant:admin`, { body: { description: 'x' } })).status).toBe(409);
      expect((await admin('PATCH', `${base()}/roles/ghost`, { body: { description: 'x' } })).status).toBe(404);
      expect((await admin('GET', `${base()}/roles/billing`)).headers.get('etag')).toBe('"2"');
    });

    it('refuses permissions of unknown APIs and scopes an API does not define', async () => {
      const unknownApi = await admin('POST', `${base()}/roles`, {
        body: { name: 'r1', apiPermissions: [{ api: 'https://nowhere.acme.test', scope: 'x' }] },
      });
      expect(unknownApi.status).toBe(400);
      expect(unknownApi.body.error.code).toBe('unknown_api');
      const unknownScope = await admin('POST', `${base()}/roles`, {
        body: { name: 'r2', apiPermissions: [{ api: orders, scope: 'invoices:read' }] },
      });
      expect(unknownScope.status).toBe(400);
      expect(unknownScope.body.error.code).toBe('unknown_scope');
    });

    it('a service client’s roles grant API scopes the same way', async () => {
      const svc = await serviceClient(admin, slug, { scopes: ['invoices:read'], roles: ['billing'] });
      const res = await clientCredentialsGrant(ts, slug, svc, { resource: billing, scope: 'invoices:read' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(scopeOf(res.body.access_token)).toEqual(['invoices:read']);
      const none = await serviceClient(admin, slug, { scopes: ['invoices:read'] });
      const n = await clientCredentialsGrant(ts, slug, none, { resource: billing, scope: 'invoices:read' });
      expect(scopeOf(n.body.access_token)).toEqual([]);
    });
  });

  describe('item 16: API identifiers', () => {
    it('accepts any absolute URI, with or without a path, and compares them exactly', async () => {
      const list = await admin('GET', `${base()}/apis`);
      const identifiers = list.body.items.map((a: { identifier: string }) => a.identifier);
      expect(identifiers).toEqual(expect.arrayContaining([orders, billing]));
      const svc = await serviceClient(admin, slug, {});
      expect((await clientCredentialsGrant(ts, slug, svc, { resource: orders })).status).toBe(200);
      expect((await clientCredentialsGrant(ts, slug, svc, { resource: billing })).status).toBe(200);
      const slash = await clientCredentialsGrant(ts, slug, svc, { resource: `${orders}/` });
      expect(slash.body.error).toBe('invalid_target');
      for (const identifier of ['orders', '/orders', 'https://x.acme.test/#a', 'https://x.acme.test/ a']) {
        const res = await admin('POST', `${base()}/apis`, { body: { identifier, name: 'x' } });
        expect(res.status, identifier).toBe(400);
      }
    });
  });

  describe('scopes that are gone stay gone', () => {
    const shipping = 'https://shipping.acme.test';
    it('an API deleted and registered again, or a scope taken off and added back, grants nothing it granted before', async () => {
      const api = await admin('POST', `${base()}/apis`, {
        body: { identifier: shipping, name: 'Shipping', scopes: [{ name: 'ship:read' }, { name: 'ship:write' }] },
      });
      expect(api.status, api.text).toBe(201);
      const role = await admin('POST', `${base()}/roles`, {
        body: {
          name: 'shipper',
          apiPermissions: [
            { api: shipping, scope: 'ship:read' },
            { api: shipping, scope: 'ship:write' },
            { api: orders, scope: 'orders:read' },
          ],
        },
      });
      expect(role.status, role.text).toBe(201);
      const svc = await serviceClient(admin, slug, {
        scopes: ['ship:read', 'ship:write', 'orders:read'],
        roles: ['shipper'],
      });
      const ask = { resource: shipping, scope: 'ship:read ship:write' };
      const before = await clientCredentialsGrant(ts, slug, svc, ask);
      expect(scopeOf(before.body.access_token)).toEqual(['ship:read', 'ship:write']);

      // Taking ship:write off the API takes it off the role and the application.
      const patch = await admin('PATCH', `${base()}/apis/${api.body.id}`, {
        body: { scopes: [{ name: 'ship:read' }] },
      });
      expect(patch.status, patch.text).toBe(200);
      const readd = await admin('PATCH', `${base()}/apis/${api.body.id}`, {
        body: { scopes: [{ name: 'ship:read' }, { name: 'ship:write' }] },
      });
      expect(readd.status, readd.text).toBe(200);
      const afterPatch = await clientCredentialsGrant(ts, slug, svc, ask);
      expect(afterPatch.status, JSON.stringify(afterPatch.body)).toBe(200);
      expect(scopeOf(afterPatch.body.access_token)).toEqual(['ship:read']);

      // Deleting the API and registering the same identifier again: nothing comes back.
      expect((await admin('DELETE', `${base()}/apis/${api.body.id}`)).status).toBe(204);
      const roleAfter = await admin('GET', `${base()}/roles/shipper`);
      expect(roleAfter.body.apiPermissions).toEqual([{ api: orders, scope: 'orders:read' }]);
      expect(roleAfter.body.version).toBe(role.body.version + 2);
      const clientAfter = await admin('GET', `${base()}/clients/${svc.rowId}`);
      expect(clientAfter.body.scopes).toEqual(['orders:read']);
      const again = await admin('POST', `${base()}/apis`, {
        body: { identifier: shipping, name: 'Shipping', scopes: [{ name: 'ship:read' }, { name: 'ship:write' }] },
      });
      expect(again.status, again.text).toBe(201);
      const afterDelete = await clientCredentialsGrant(ts, slug, svc, ask);
      expect(afterDelete.status, JSON.stringify(afterDelete.body)).toBe(200);
      expect(scopeOf(afterDelete.body.access_token)).toEqual([]);
      // The audit event says what was taken away.
      const events = await admin('GET', `${base()}/audit-events?action=api.delete`);
      expect(events.body.items[0].details).toMatchObject({ rolesChanged: ['shipper'], clientsChanged: [svc.id] });
    });
  });

  describe('item 17: the registered client authentication method only', () => {
    it('refuses client_secret_post for a client_secret_basic client, and Basic for a client_secret_post one', async () => {
      const basic = await serviceClient(admin, slug, {});
      const post = await tokenRequest(ts, slug, {
        grant_type: 'client_credentials',
        client_id: basic.id,
        client_secret: basic.secret,
      });
      expect(post.status).toBe(401);
      expect(post.body.error).toBe('invalid_client');
      expect((await clientCredentialsGrant(ts, slug, basic)).status).toBe(200);

      const viaPost = await serviceClient(admin, slug, { tokenEndpointAuthMethod: 'client_secret_post' });
      const ok = await tokenRequest(ts, slug, {
        grant_type: 'client_credentials',
        client_id: viaPost.id,
        client_secret: viaPost.secret,
      });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      const res = await fetch(`${ts.url}/t/${slug}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(viaPost.id, viaPost.secret),
        },
        body: 'grant_type=client_credentials',
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    });
  });
});
