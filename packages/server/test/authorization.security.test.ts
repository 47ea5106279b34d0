/**
 * Nobody obtains, by any sequence of admin-API calls, a credential holding more than they
 * hold (docs/authorization.md). The cases issue 9 found (a `clients:write` caller rotating
 * a `tenant:admin` service client's secret, making a first-party application, collecting an
 * admin-API code with a crafted `prompt=none` link), then a property over random roles: for
 * a caller whose role is a random subset of the admin permissions and of an API's scopes,
 * random sequences of the credential-making calls never leave it holding a credential (API
 * key, client secret, a user whose password or email it set) that reaches beyond that role,
 * nor a role it changed reaching beyond it.
 * @see issue 9, items 1 and 2
 */
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantPermissions } from '../src/auth/permissions.js';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { clientCredentialsGrant, pkce } from './helpers/oidc.js';
import {
  type ApiClient,
  apiClient,
  createApiKey,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';

const orders = 'https://orders.example.test';
const orderScopes = ['orders:read', 'orders:write', 'orders:admin'] as const;
const evilRedirect = 'http://127.0.0.1:9/evil';

interface ApiPermission {
  api: string;
  scope: string;
}
interface RoleDef {
  name: string;
  permissions: string[];
  apiPermissions: ApiPermission[];
}

describe.each(dialects)('no escalation through credentials (%s)', (dialect) => {
  let ts: TestServer;
  let slug: string;
  let admin: ApiClient;
  const base = () => `/api/v1/tenants/${slug}`;

  /** A key holding exactly one new role with these rights. */
  async function caller(name: string, permissions: string[], apiPermissions: ApiPermission[] = []) {
    const role = await admin('POST', `${base()}/roles`, { body: { name, permissions, apiPermissions } });
    expect(role.status, role.text).toBe(201);
    return apiClient(ts.url, await createApiKey(admin, slug, [name], name));
  }

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    ({ slug, api: admin } = await tenantWithAdmin(ts));
    const api = await admin('POST', `${base()}/apis`, {
      body: { identifier: orders, name: 'Orders', scopes: orderScopes.map((name) => ({ name })) },
    });
    expect(api.status, api.text).toBe(201);
  });
  afterAll(async () => {
    await ts?.close();
  });

  describe('item 1: a client secret hands over the client', () => {
    it('clients:write alone cannot rotate the secret of a tenant:admin service client, nor give it roles', async () => {
      const strong = await admin('POST', `${base()}/clients`, {
        body: { kind: 'service', name: 'strong', roles: ['tenant:admin'] },
      });
      expect(strong.status).toBe(201);
      const writer = await caller('item1-writer', ['clients:read', 'clients:write']);
      const rotate = await writer('POST', `${base()}/clients/${strong.body.id}/secret`);
      expect(rotate.status, rotate.text).toBe(403);
      expect(rotate.body.error.code).toBe('forbidden');
      expect(rotate.body.clientSecret).toBeUndefined();
      // The secret still works: nothing changed.
      expect(
        (await clientCredentialsGrant(ts, slug, { id: strong.body.clientId, secret: strong.body.clientSecret })).status,
      ).toBe(200);

      const weak = await writer('POST', `${base()}/clients`, { body: { kind: 'service', name: 'weak' } });
      expect(weak.status).toBe(201);
      const grant = await writer('PATCH', `${base()}/clients/${weak.body.id}`, { body: { roles: ['tenant:admin'] } });
      expect(grant.status).toBe(403);
      expect(grant.body.error.details.roles).toEqual(['tenant:admin']);
      expect(
        (await writer('POST', `${base()}/clients`, { body: { kind: 'service', name: 'x', roles: ['tenant:admin'] } }))
          .status,
      ).toBe(403);
      // Its own, weaker client it may rotate.
      expect((await writer('POST', `${base()}/clients/${weak.body.id}/secret`)).status).toBe(200);
      // And tenant:admin may rotate the strong one.
      expect((await admin('POST', `${base()}/clients/${strong.body.id}/secret`)).status).toBe(200);
    });
  });

  describe('item 2: first party and the admin API are powers of their own', () => {
    it('clients:write alone cannot make a first-party application, nor redirect or re-key one', async () => {
      const writer = await caller('item2-writer', ['clients:read', 'clients:write']);
      const spa = await writer('POST', `${base()}/clients`, {
        body: { kind: 'spa', name: 'Evil spa', redirectUris: [evilRedirect], firstParty: true },
      });
      expect(spa.status, spa.text).toBe(403);
      expect(spa.body.error.details.missing).toEqual({ tenantWide: true });
      const third = await writer('POST', `${base()}/clients`, {
        body: { kind: 'spa', name: 'Honest spa', redirectUris: [evilRedirect] },
      });
      expect(third.status).toBe(201);
      expect((await writer('PATCH', `${base()}/clients/${third.body.id}`, { body: { firstParty: true } })).status).toBe(
        403,
      );

      const first = await admin('POST', `${base()}/clients`, {
        body: { kind: 'web', name: 'Ours', redirectUris: ['https://app.example.test/cb'], firstParty: true },
      });
      expect(first.status).toBe(201);
      const redirect = await writer('PATCH', `${base()}/clients/${first.body.id}`, {
        body: { redirectUris: [evilRedirect] },
      });
      expect(redirect.status).toBe(403);
      expect((await writer('POST', `${base()}/clients/${first.body.id}/secret`)).status).toBe(403);
      // Not a credential: its name it may change.
      expect((await writer('PATCH', `${base()}/clients/${first.body.id}`, { body: { name: 'Renamed' } })).status).toBe(
        200,
      );
      // Nor is a setting sent back unchanged, as a form does.
      const same = await writer('PATCH', `${base()}/clients/${first.body.id}`, {
        body: { name: 'Renamed again', firstParty: true, redirectUris: ['https://app.example.test/cb'] },
      });
      expect(same.status, same.text).toBe(200);
      const after = await admin('GET', `${base()}/clients/${first.body.id}`);
      expect(after.body.redirectUris).toEqual(['https://app.example.test/cb']);
    });

    it('a crafted prompt=none link for the admin API yields no code for a third-party application', async () => {
      const email = 'boss@example.test';
      const password = 'correct horse battery staple 2';
      const boss = await admin('POST', `${base()}/users`, { body: { email, password } });
      expect((await admin('PUT', `${base()}/users/${boss.body.id}/roles/tenant:admin`)).status).toBe(204);
      const writer = await caller('item2-link', ['clients:write']);
      const app = await writer('POST', `${base()}/clients`, {
        body: { kind: 'web', name: 'Helpful app', redirectUris: [evilRedirect] },
      });
      expect(app.status).toBe(201);
      const atEvil = (u: URL) => u.href.startsWith(evilRedirect);
      const authUrl = (params: Record<string, string>) => {
        const { challenge } = pkce();
        const q = new URLSearchParams({
          client_id: app.body.clientId,
          response_type: 'code',
          redirect_uri: evilRedirect,
          scope: 'openid',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state: 's',
          ...params,
        });
        return `${ts.url}/t/${slug}/auth?${q}`;
      };
      // The admin signs in to the application once and consents to `openid`.
      const browser = new Browser();
      const signIn = await browser.go(authUrl({}), { stopAt: atEvil });
      const consent = await browser.submit(signIn, { email, password }, { stopAt: atEvil });
      expect(consent.html).toContain('Allow access?');
      const allowed = await browser.submit(consent, { decision: 'allow' }, { stopAt: atEvil });
      expect(allowed.url.searchParams.get('code')).toBeTruthy();

      // Then opens the crafted link: no code, silently or otherwise.
      const crafted = await browser.go(authUrl({ prompt: 'none', resource: `${ts.url}/api` }), { stopAt: atEvil });
      expect(atEvil(crafted.url), crafted.html.slice(0, 300)).toBe(true);
      expect(crafted.url.searchParams.get('code')).toBeNull();
      expect(crafted.url.searchParams.get('error')).toBe('consent_required');
      // Without prompt=none the consent page asks, naming the admin API.
      const asked = await browser.go(authUrl({ resource: `${ts.url}/api` }), { stopAt: atEvil });
      expect(atEvil(asked.url)).toBe(false);
      expect(asked.html).toContain('Allow access?');
      expect(asked.html).toContain(`${ts.url}/api`);
    });
    /**
     * A third-party application's users have consented to it; its redirect URIs decide where
     * their codes go, silently with `prompt=none`. A `clients:write` caller who adds their
     * own URI would collect every consenting user's codes (issue 9, "the rest of its class").
     * Correct: once anyone has consented, a new redirect URI needs what anyone may consent
     * to (acting for anyone in the tenant); removing one, or adding one before any consent,
     * does not.
     */
    it('clients:write cannot add a redirect URI to an application users consented to', async () => {
      const email = 'consenter@example.test';
      const password = 'correct horse battery staple 3';
      expect((await admin('POST', `${base()}/users`, { body: { email, password } })).status).toBe(201);
      const own = 'https://app.example.test/cb';
      const app = await admin('POST', `${base()}/clients`, {
        body: { kind: 'spa', name: 'Third party', redirectUris: [own] },
      });
      expect(app.status).toBe(201);
      const writer = await caller('consented-redirect', ['clients:write']);
      const patch = (redirectUris: string[]) =>
        writer('PATCH', `${base()}/clients/${app.body.id}`, { body: { redirectUris } });
      // Before any consent: nothing to take over.
      expect((await patch([own, 'https://app.example.test/other'])).status).toBe(200);
      expect((await patch([own])).status).toBe(200);

      const atApp = (u: URL) => u.href.startsWith(own);
      const { challenge } = pkce();
      const q = new URLSearchParams({
        client_id: app.body.clientId,
        response_type: 'code',
        redirect_uri: own,
        scope: 'openid email',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 's',
      });
      const browser = new Browser();
      const signIn = await browser.go(`${ts.url}/t/${slug}/auth?${q}`, { stopAt: atApp });
      const consent = await browser.submit(signIn, { email, password }, { stopAt: atApp });
      const allowed = await browser.submit(consent, { decision: 'allow' }, { stopAt: atApp });
      expect(allowed.url.searchParams.get('code')).toBeTruthy();

      const moved = await patch([own, evilRedirect]);
      expect(moved.status, moved.text).toBe(403);
      expect(moved.body.error.details.missing.tenantWide).toBe(true);
      const stored = await admin('GET', `${base()}/clients/${app.body.id}`);
      expect(stored.body.redirectUris).toEqual([own]);
      // The crafted silent link still has nowhere to go.
      q.set('redirect_uri', evilRedirect);
      q.set('prompt', 'none');
      const crafted = await browser.go(`${ts.url}/t/${slug}/auth?${q}`, {
        stopAt: (u) => u.href.startsWith(evilRedirect),
      });
      expect(crafted.url.href.startsWith(evilRedirect)).toBe(false);
      // Renaming stays allowed; the tenant's admin may move it.
      expect((await writer('PATCH', `${base()}/clients/${app.body.id}`, { body: { name: 'Renamed' } })).status).toBe(
        200,
      );
      expect(
        (
          await admin('PATCH', `${base()}/clients/${app.body.id}`, {
            body: { redirectUris: [own, 'https://app.example.test/2'] },
          })
        ).status,
      ).toBe(200);
      // Removing one takes nothing over.
      expect((await patch([own])).status).toBe(200);
    });
  });

  describe('property: a random role never yields a stronger credential', () => {
    type Command =
      | { kind: 'apiKey'; role: string }
      | { kind: 'serviceClient'; roles: string[] }
      | { kind: 'firstPartyClient' }
      | { kind: 'rotate'; client: string }
      | { kind: 'clientRoles'; client: string; roles: string[] }
      | { kind: 'redirect'; client: string }
      | { kind: 'password'; user: string }
      | { kind: 'email'; user: string }
      | { kind: 'grant'; user: string; role: string }
      | { kind: 'createRole'; permissions: string[]; scopes: string[] }
      | { kind: 'patchRole'; role: string; permissions: string[]; scopes: string[] };

    const targetRoles = ['tenant:admin', 'strong', 'reader', 'orders-reader', 'self'];
    const clients: Record<string, string> = {};
    const users: Record<string, string> = {};

    beforeAll(async () => {
      const all = orderScopes.map((scope) => ({ api: orders, scope }));
      for (const [name, permissions, apiPermissions] of [
        ['strong', [...tenantPermissions], all],
        ['reader', ['users:read'], []],
        ['orders-reader', [], [{ api: orders, scope: 'orders:read' }]],
      ] as const) {
        const res = await admin('POST', `${base()}/roles`, { body: { name, permissions, apiPermissions } });
        expect(res.status, res.text).toBe(201);
      }
      for (const [name, roles] of [
        ['svc-admin', ['tenant:admin']],
        ['svc-strong', ['strong']],
        ['svc-orders', ['orders-reader']],
        ['svc-none', []],
      ] as const) {
        const res = await admin('POST', `${base()}/clients`, {
          body: { kind: 'service', name, roles: [...roles], scopes: [...orderScopes] },
        });
        expect(res.status, res.text).toBe(201);
        clients[name] = res.body.id;
      }
      const fp = await admin('POST', `${base()}/clients`, {
        body: { kind: 'web', name: 'fp', redirectUris: ['https://fp.example.test/cb'], firstParty: true },
      });
      clients.fp = fp.body.id;
      for (const [name, roles] of [
        ['boss', ['tenant:admin']],
        ['strong-user', ['strong']],
        ['reader-user', ['reader']],
        ['plain', []],
      ] as const) {
        const res = await admin('POST', `${base()}/users`, { body: { email: `${name}@prop.example.test` } });
        expect(res.status).toBe(201);
        users[name] = res.body.id;
        for (const role of roles) await admin('PUT', `${base()}/users/${res.body.id}/roles/${role}`);
      }
    });

    const roleName = fc.constantFrom(...targetRoles);
    const roleSubset = fc.subarray(targetRoles, { maxLength: 2 });
    const permSubset = fc.subarray([...tenantPermissions]);
    const scopeSubset = fc.subarray([...orderScopes]);
    const client = fc.constantFrom('svc-admin', 'svc-strong', 'svc-orders', 'svc-none', 'fp', 'mine');
    const user = fc.constantFrom('boss', 'strong-user', 'reader-user', 'plain', 'mine');
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record({ kind: fc.constant('apiKey' as const), role: roleName }),
      fc.record({ kind: fc.constant('serviceClient' as const), roles: roleSubset }),
      fc.constant({ kind: 'firstPartyClient' as const }),
      fc.record({ kind: fc.constant('rotate' as const), client }),
      fc.record({ kind: fc.constant('clientRoles' as const), client, roles: roleSubset }),
      fc.record({ kind: fc.constant('redirect' as const), client }),
      fc.record({ kind: fc.constant('password' as const), user }),
      fc.record({ kind: fc.constant('email' as const), user }),
      fc.record({ kind: fc.constant('grant' as const), user, role: roleName }),
      fc.record({ kind: fc.constant('createRole' as const), permissions: permSubset, scopes: scopeSubset }),
      fc.record({
        kind: fc.constant('patchRole' as const),
        role: roleName,
        permissions: permSubset,
        scopes: scopeSubset,
      }),
    );
    // Callers mostly able to act at all (the write permissions), with random rights beside them.
    const held = fc.record({
      permissions: fc.subarray([...tenantPermissions], { minLength: 4 }),
      scopes: scopeSubset,
    });

    let run = 0;
    let succeeded = 0;

    it('holds over random roles and command sequences', async () => {
      await fc.assert(
        fc.asyncProperty(held, fc.array(command, { minLength: 1, maxLength: 5 }), async (rights, commands) => {
          run++;
          const self = `self-${run}`;
          const own = rights.scopes.map((scope) => ({ api: orders, scope }));
          const api = await caller(self, rights.permissions, own);
          const name = (r: string) => (r === 'self' ? self : r);
          const limit = { permissions: new Set<string>(rights.permissions), scopes: new Set<string>(rights.scopes) };
          const obtained = { keys: [] as string[], clients: [] as string[], users: [] as string[], roles: [self] };
          const mine: { client?: string; user?: string } = {};
          const clientOf = (c: string) => (c === 'mine' ? mine.client : clients[c]);
          const userOf = (u: string) => (u === 'mine' ? mine.user : users[u]);
          for (const c of commands) {
            const res = await perform(api, c);
            if (res && res.status < 300) succeeded++;
          }
          // Everything obtained, read now, reaches no further than the caller's role did.
          for (const id of obtained.keys) {
            const key = await admin('GET', `${base()}/api-keys/${id}`);
            await expectWithin(key.body.roles, limit, `API key ${id}`);
          }
          for (const id of new Set(obtained.clients)) {
            const c = await admin('GET', `${base()}/clients/${id}`);
            expect(c.body.firstParty, `client ${c.body.name}`).toBe(false);
            await expectWithin(c.body.roles, limit, `client ${c.body.name}`);
          }
          for (const id of new Set(obtained.users)) {
            const u = await admin('GET', `${base()}/users/${id}`);
            await expectWithin(u.body.roles, limit, `user ${u.body.email}`);
          }
          await expectWithin(obtained.roles, limit, 'roles it changed');

          async function perform(api: ApiClient, c: Command) {
            switch (c.kind) {
              case 'apiKey': {
                const res = await api('POST', `${base()}/api-keys`, { body: { name: 'k', roles: [name(c.role)] } });
                if (res.status === 201) obtained.keys.push(res.body.id);
                return res;
              }
              case 'serviceClient': {
                const res = await api('POST', `${base()}/clients`, {
                  body: { kind: 'service', name: 'mine', roles: c.roles.map(name), scopes: [...orderScopes] },
                });
                if (res.status === 201) {
                  mine.client = res.body.id;
                  obtained.clients.push(res.body.id);
                  // Its token for the orders API carries no scope beyond the caller's.
                  const token = await clientCredentialsGrant(
                    ts,
                    slug,
                    { id: res.body.clientId, secret: res.body.clientSecret },
                    { resource: orders, scope: orderScopes.join(' ') },
                  );
                  expect(token.status, JSON.stringify(token.body)).toBe(200);
                  const scope = String(decodeJwt(String(token.body.access_token)).scope ?? '');
                  for (const s of scope.split(' ').filter(Boolean)) expect(limit.scopes.has(s), s).toBe(true);
                }
                return res;
              }
              case 'firstPartyClient': {
                const res = await api('POST', `${base()}/clients`, {
                  body: { kind: 'spa', name: 'mine', redirectUris: [evilRedirect], firstParty: true },
                });
                if (res.status === 201) obtained.clients.push(res.body.id);
                return res;
              }
              case 'rotate': {
                const id = clientOf(c.client);
                if (!id) return undefined;
                const res = await api('POST', `${base()}/clients/${id}/secret`);
                if (res.status === 200) obtained.clients.push(id);
                return res;
              }
              case 'clientRoles': {
                const id = clientOf(c.client);
                return id ? api('PATCH', `${base()}/clients/${id}`, { body: { roles: c.roles.map(name) } }) : undefined;
              }
              case 'redirect': {
                const id = clientOf(c.client);
                if (!id || c.client.startsWith('svc')) return undefined;
                const res = await api('PATCH', `${base()}/clients/${id}`, { body: { redirectUris: [evilRedirect] } });
                if (res.status === 200) obtained.clients.push(id);
                return res;
              }
              case 'password':
              case 'email': {
                const id = c.user === 'mine' ? await ownUser(api) : userOf(c.user);
                if (!id) return undefined;
                const res =
                  c.kind === 'password'
                    ? await api('POST', `${base()}/users/${id}/password`, {
                        body: { password: `pw ${run} horse battery` },
                      })
                    : await api('PATCH', `${base()}/users/${id}`, {
                        body: { email: `taken-${run}-${id}@example.test` },
                      });
                if (res.status < 300) obtained.users.push(id);
                return res;
              }
              case 'grant': {
                const id = userOf(c.user);
                return id ? api('PUT', `${base()}/users/${id}/roles/${name(c.role)}`) : undefined;
              }
              case 'createRole': {
                const roleName = `made-${run}-${obtained.roles.length}`;
                const res = await api('POST', `${base()}/roles`, {
                  body: {
                    name: roleName,
                    permissions: c.permissions,
                    apiPermissions: c.scopes.map((scope) => ({ api: orders, scope })),
                  },
                });
                if (res.status === 201) obtained.roles.push(roleName);
                return res;
              }
              case 'patchRole': {
                const target = name(c.role);
                const res = await api('PATCH', `${base()}/roles/${target}`, {
                  body: {
                    permissions: c.permissions,
                    apiPermissions: c.scopes.map((scope) => ({ api: orders, scope })),
                  },
                });
                if (res.status === 200) obtained.roles.push(target);
                return res;
              }
            }
          }

          /** A user the caller made itself (and so may sign in as). */
          async function ownUser(api: ApiClient): Promise<string | undefined> {
            if (!mine.user) {
              const res = await api('POST', `${base()}/users`, { body: { email: `own-${run}@prop.example.test` } });
              if (res.status !== 201) return undefined;
              mine.user = res.body.id;
              obtained.users.push(res.body.id);
            }
            return mine.user;
          }
        }),
        { numRuns: 60, endOnFailure: true },
      );
      // Not vacuous: some of the calls were allowed.
      expect(succeeded).toBeGreaterThan(0);
    }, 120_000);

    /** The named roles, read afresh, carry nothing beyond `limit` (and no built-in role). */
    async function expectWithin(
      roleNames: string[],
      limit: { permissions: Set<string>; scopes: Set<string> },
      what: string,
    ): Promise<void> {
      for (const r of new Set(roleNames)) {
        expect(['tenant:admin', 'system:admin'], `${what} holds ${r}`).not.toContain(r);
        const role = (await admin('GET', `${base()}/roles/${r}`)).body as RoleDef;
        for (const p of role.permissions) expect(limit.permissions.has(p), `${what}: ${r} carries ${p}`).toBe(true);
        for (const p of role.apiPermissions)
          expect(limit.scopes.has(p.scope), `${what}: ${r} carries ${p.scope}`).toBe(true);
      }
    }
  });
});
