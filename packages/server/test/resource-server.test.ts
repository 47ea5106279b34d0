/**
 * A resource server as an adopter writes one, with Auth0's `express-oauth2-jwt-bearer`
 * (a library nobody here wrote): `auth({ issuerBaseURL, audience })` finds the tenant's keys
 * by discovery, `requiredScopes` reads the `scope` claim. It accepts a token for its audience
 * carrying the scope, from a service client (client credentials) and from a user
 * (authorization code); it refuses one without the scope (403) and one for another
 * audience (401).
 * @see issue 9, items 14 and 15
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorize, clientCredentialsGrant, discover, redeem, serviceClient } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const audience = 'https://orders.adopter.test';
const other = 'urn:adopter:other';

describe.each(dialects)('a resource server with express-oauth2-jwt-bearer (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let admin: ApiClient;
  let resourceServer: import('node:http').Server;
  let rsUrl: string;
  const base = () => `/api/v1/tenants/${slug}`;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    ({ slug, api: admin } = await tenantWithAdmin(ts));
    for (const identifier of [audience, other]) {
      const res = await admin('POST', `${base()}/apis`, {
        body: { identifier, name: identifier, scopes: [{ name: 'read:orders' }, { name: 'write:orders' }] },
      });
      expect(res.status, res.text).toBe(201);
    }
    const role = await admin('POST', `${base()}/roles`, {
      body: {
        name: 'order-reader',
        apiPermissions: [
          { api: audience, scope: 'read:orders' },
          { api: other, scope: 'read:orders' },
        ],
      },
    });
    expect(role.status, role.text).toBe(201);

    const app = express();
    app.use(auth({ issuerBaseURL: `${ts.url}/t/${slug}`, audience }));
    app.get('/orders', requiredScopes('read:orders'), (_req, res) => {
      res.json({ orders: [] });
    });
    app.post('/orders', requiredScopes('write:orders'), (_req, res) => {
      res.status(201).json({});
    });
    resourceServer = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    rsUrl = `http://127.0.0.1:${(resourceServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => resourceServer?.close(resolve));
    await ts?.close();
  });

  const call = (method: string, token: string) =>
    fetch(`${rsUrl}/orders`, { method, headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

  it('accepts a service client’s token carrying the scope and refuses the rest', async () => {
    const svc = await serviceClient(admin, slug, {
      scopes: ['read:orders', 'write:orders'],
      roles: ['order-reader'],
    });
    const token = await clientCredentialsGrant(ts, slug, svc, {
      resource: audience,
      scope: 'read:orders write:orders',
    });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(await call('GET', token.body.access_token)).toBe(200);
    // Asked for, allowed to the application, but granted by no role: refused.
    expect(await call('POST', token.body.access_token)).toBe(403);
    // For another audience: refused.
    const elsewhere = await clientCredentialsGrant(ts, slug, svc, { resource: other, scope: 'read:orders' });
    expect(elsewhere.status).toBe(200);
    expect(await call('GET', elsewhere.body.access_token)).toBe(401);
    // The admin API's token (the service client's default audience) is no token for this API.
    const adminToken = await clientCredentialsGrant(ts, slug, svc);
    expect(await call('GET', adminToken.body.access_token)).toBe(401);
    expect(await call('GET', 'not-a-token')).toBe(401);
  });

  it('accepts a user’s token carrying the scope and refuses one without it', async () => {
    const email = 'clerk@adopter.test';
    const password = 'correct horse battery staple rs';
    const user = await admin('POST', `${base()}/users`, { body: { email, password } });
    expect(user.status).toBe(201);
    const redirectUri = 'http://127.0.0.1:9/rs-cb';
    const web = await admin('POST', `${base()}/clients`, {
      body: {
        kind: 'web',
        name: 'Order desk',
        redirectUris: [redirectUri],
        firstParty: true,
        scopes: ['openid', 'read:orders'],
      },
    });
    expect(web.status, web.text).toBe(201);
    const config = await discover(ts, slug, web.body);
    const signIn = async () => {
      const a = await authorize(
        config,
        new Browser(),
        redirectUri,
        { email, password },
        {
          scope: 'openid read:orders',
          resource: audience,
        },
      );
      return (await redeem(config, a, { resource: audience })).access_token;
    };
    // No role yet: a token for the API, but without the scope.
    expect(await call('GET', await signIn())).toBe(403);
    expect((await admin('PUT', `${base()}/users/${user.body.id}/roles/order-reader`)).status).toBe(204);
    const token = await signIn();
    expect(await call('GET', token)).toBe(200);
    // The application may not ask write:orders: refused, whatever was asked.
    expect(await call('POST', token)).toBe(403);
  });
});
