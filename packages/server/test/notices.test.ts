/**
 * Change notices between nodes over Redis: a change made through one node reaches the
 * cached copies of another at once, not when they expire. Both nodes here cache for five
 * minutes, so without the notice each assertion below would fail.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dialects } from './helpers/databases.js';
import { clientCredentialsGrant, serviceClient } from './helpers/oidc.js';
import { apiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const redisUrl = process.env.TEST_REDIS_URL;

/** Retries `check` for up to a second: a notice travels through Redis, not instantly. */
const soon = (check: () => Promise<void>) => vi.waitFor(check, { timeout: 1000, interval: 20 });

describe.skipIf(!redisUrl).each(dialects)('change notices between nodes (%s)', (dialect) => {
  let one: TestServer;
  let two: TestServer;

  beforeAll(async () => {
    const env = { REDIS_URL: redisUrl ?? '', CACHE_TTL_SECONDS: '300' };
    one = await startTestServer(dialect, env);
    two = await startTestServer(
      dialect,
      { ...env, PUBLIC_URL: one.url, LATCHKEY_BOOTSTRAP_API_KEY: one.adminKey },
      one.database,
    );
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
  });

  it('refuses on node two an API key revoked through node one', async () => {
    const { slug, key } = await tenantWithAdmin(one);
    const viaTwo = apiClient(two.url, key);
    expect((await viaTwo('GET', `/api/v1/tenants/${slug}/users`)).status).toBe(200);
    const keys = await one.api('GET', `/api/v1/tenants/${slug}/api-keys`);
    const id = (keys.body.items as { id: string; name: string }[]).find((k) => k.name === 'tenant admin')?.id;
    expect((await one.api('DELETE', `/api/v1/tenants/${slug}/api-keys/${id}`)).status).toBe(204);
    await soon(async () => {
      expect((await viaTwo('GET', `/api/v1/tenants/${slug}/users`)).status).toBe(401);
    });
  });

  it('drops only the changed tenant’s cached credentials, on either node', async () => {
    const a = await tenantWithAdmin(one);
    const b = await tenantWithAdmin(one);
    const keyId = async (slug: string) => {
      const keys = await one.api('GET', `/api/v1/tenants/${slug}/api-keys`);
      return (keys.body.items as { id: string }[])[0]?.id ?? '';
    };
    const aKeyId = await keyId(a.slug);
    const onOne = apiClient(one.url, a.key);
    const onTwo = apiClient(two.url, a.key);
    expect((await onOne('GET', `/api/v1/tenants/${a.slug}/users`)).status).toBe(200);
    expect((await onTwo('GET', `/api/v1/tenants/${a.slug}/users`)).status).toBe(200);
    // Expire A's key behind the API's back: only a cached verdict still accepts it now.
    await one.server.ctx.database.db.updateTable('api_keys').set({ expires_at: 1 }).where('id', '=', aKeyId).execute();

    // A change in B, through node one; node two has heard of it once it refuses B's own key,
    // which it holds in its cache until then.
    const bOnTwo = apiClient(two.url, b.key);
    expect((await bOnTwo('GET', `/api/v1/tenants/${b.slug}/users`)).status).toBe(200);
    expect((await one.api('DELETE', `/api/v1/tenants/${b.slug}/api-keys/${await keyId(b.slug)}`)).status).toBe(204);
    await soon(async () => {
      expect((await bOnTwo('GET', `/api/v1/tenants/${b.slug}/users`)).status).toBe(401);
    });
    expect((await onOne('GET', `/api/v1/tenants/${a.slug}/users`)).status).toBe(200);
    expect((await onTwo('GET', `/api/v1/tenants/${a.slug}/users`)).status).toBe(200);

    // A change in A drops A's verdicts: the expiry is seen on both nodes.
    const role = await one.api('POST', `/api/v1/tenants/${a.slug}/roles`, {
      body: { name: 'viewer', permissions: ['users:read'] },
    });
    expect(role.status, role.text).toBe(201);
    expect((await onOne('GET', `/api/v1/tenants/${a.slug}/users`)).status).toBe(401);
    await soon(async () => {
      expect((await onTwo('GET', `/api/v1/tenants/${a.slug}/users`)).status).toBe(401);
    });
  });

  it('refuses on node two the tokens of a client deleted through node one', async () => {
    const { slug } = await tenantWithAdmin(one);
    const created = await serviceClient(one.api, slug, { name: 'Soon gone' });
    const grant = () => clientCredentialsGrant(two, slug, created);
    expect((await grant()).status).toBe(200);
    expect((await one.api('DELETE', `/api/v1/tenants/${slug}/clients/${created.rowId}`)).status).toBe(204);
    await soon(async () => {
      expect((await grant()).status).toBe(401);
    });
  });
});
