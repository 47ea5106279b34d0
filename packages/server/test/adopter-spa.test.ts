/**
 * A single-page application built with `oidc-client-ts` (its browser bundle, loaded from
 * node_modules by a static page on 127.0.0.1), in Chromium: `UserManager` with code + PKCE
 * against a tenant's issuer, sign-in by redirect, the user and access token, a silent renew
 * with the refresh token (offline_access), a userinfo call from the page's origin (CORS by the
 * SPA's redirect URIs), and sign-out by redirect back to the app with no confirmation page.
 * SQLite only: the storage paths are covered on both dialects by the HTTP suites.
 * @see issue 9, items 18, 19 and 22
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, skipMessage } from './helpers/chromium.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

if (!hasChromium) console.warn(skipMessage);

// The package's exports name no browser bundle: find it beside its package.json.
const bundle = readFileSync(
  join(
    dirname(createRequire(import.meta.url).resolve('oidc-client-ts/package.json')),
    'dist/browser/oidc-client-ts.min.js',
  ),
);

/** The SPA's own script: what an adopter writes, with the issuer and client id filled in. */
function appScript(authority: string, clientId: string): string {
  return `
const mgr = new oidc.UserManager({
  authority: ${JSON.stringify(authority)},
  client_id: ${JSON.stringify(clientId)},
  redirect_uri: location.origin + '/callback',
  post_logout_redirect_uri: location.origin + '/signed-out',
  response_type: 'code',
  scope: 'openid profile email offline_access',
  userStore: new oidc.WebStorageStateStore({ store: window.localStorage }),
});
window.mgr = mgr;
async function main() {
  const out = document.getElementById('out');
  if (location.pathname === '/callback') {
    await mgr.signinRedirectCallback();
    location.replace('/');
    return;
  }
  if (location.pathname === '/') {
    const user = await mgr.getUser();
    out.textContent = user ? 'Hello ' + user.profile.email : 'Anonymous';
  }
}
main().catch((e) => { document.getElementById('out').textContent = 'error: ' + e.message; });
`;
}

const html = (title: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><p id="out">${title}</p>` +
  '<script src="/oidc-client-ts.min.js"></script><script src="/app.js"></script>';

describe.skipIf(!hasChromium)(
  hasChromium ? 'oidc-client-ts SPA (Chromium)' : `oidc-client-ts SPA: ${skipMessage}`,
  () => {
    let ts: TestServer;
    let browser: Browser;
    let spa: Server;
    let spaUrl: string;
    let slug: string;
    let script = '';
    const email = 'spa@example.test';
    const password = 'single page, single sign-on';

    beforeAll(async () => {
      [ts, browser] = await Promise.all([startTestServer('sqlite'), launchChromium()]);
      spa = createServer((req, res) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path === '/oidc-client-ts.min.js' || path === '/app.js') {
          res.writeHead(200, { 'content-type': 'text/javascript' });
          res.end(path === '/app.js' ? script : bundle);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(html(path === '/signed-out' ? 'Signed out' : 'SPA'));
      });
      await new Promise<void>((resolve) => spa.listen(0, '127.0.0.1', resolve));
      spaUrl = `http://127.0.0.1:${(spa.address() as AddressInfo).port}`;
      const t = await tenantWithAdmin(ts);
      slug = t.slug;
      const client = await t.api('POST', `/api/v1/tenants/${slug}/clients`, {
        body: {
          kind: 'spa',
          name: 'Single page',
          redirectUris: [`${spaUrl}/callback`],
          postLogoutRedirectUris: [`${spaUrl}/signed-out`],
          firstParty: true,
        },
      });
      expect(client.status, client.text).toBe(201);
      script = appScript(`${ts.url}/t/${slug}`, client.body.clientId);
      const user = await t.api('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email, password, displayName: 'Spa User' },
      });
      expect(user.status, user.text).toBe(201);
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => (spa ? spa.close(resolve) : resolve(undefined)));
      await ts?.close();
    });

    /** What the SPA shows once its script has run. */
    async function shown(page: Page): Promise<string | null> {
      await expect.poll(() => page.locator('#out').textContent()).not.toBe('SPA');
      return page.locator('#out').textContent();
    }
    /** Calls a method of the page's UserManager (`window.mgr`) and returns its result. */
    const call = (page: Page, method: 'getUser' | 'signinSilent') =>
      page.evaluate((m) => (globalThis as never as { mgr: Record<string, () => Promise<unknown>> }).mgr[m]?.(), method);
    /** Starts a redirect of the UserManager (not awaited in the page: the page goes away). */
    const redirectBy = (page: Page, method: 'signinRedirect' | 'signoutRedirect') =>
      page.evaluate((m) => {
        void (globalThis as never as { mgr: Record<string, () => Promise<void>> }).mgr[m]?.();
      }, method);
    /** The SPA's sign-in by redirect, up to Latchkey's sign-in page. */
    const toSignInPage = (page: Page) =>
      Promise.all([
        page.waitForURL((u) => u.pathname.startsWith(`/t/${slug}/interaction/`), { timeout: 15_000 }),
        redirectBy(page, 'signinRedirect'),
      ]);

    it('signs in by redirect with PKCE, renews silently with the refresh token, calls userinfo, and signs out', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        await page.goto(spaUrl);
        expect(await shown(page)).toBe('Anonymous');

        await toSignInPage(page);
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`${spaUrl}/`, { timeout: 15_000 });
        expect(await shown(page)).toBe(`Hello ${email}`);

        type Tokens = { access: string; refresh: string | undefined; sub: string; alg: string };
        const read = async (): Promise<Tokens> => {
          const u = (await call(page, 'getUser')) as {
            access_token: string;
            refresh_token?: string;
            id_token: string;
            profile: { sub: string };
          };
          return {
            access: u.access_token,
            refresh: u.refresh_token,
            sub: u.profile.sub,
            alg: decodeProtectedHeader(u.id_token).alg ?? '',
          };
        };
        const first = await read();
        expect(first.access).toBeTruthy();
        expect(first.refresh).toBeTruthy();
        expect(first.alg).toBe('RS256');

        // Silent renew: oidc-client-ts uses the refresh token at the token endpoint (CORS).
        await call(page, 'signinSilent');
        const renewed = await read();
        expect(renewed.access).not.toBe(first.access);
        expect(renewed.refresh).not.toBe(first.refresh);
        expect(renewed.sub).toBe(first.sub);

        // The access token works for userinfo, called from the SPA's origin.
        const info = await page.evaluate(
          async ([url, token]) => {
            const res = await fetch(url ?? '', { headers: { authorization: `Bearer ${token}` } });
            return { status: res.status, body: await res.json() };
          },
          [`${ts.url}/t/${slug}/me`, renewed.access],
        );
        expect(info.status).toBe(200);
        expect(info.body).toMatchObject({ sub: first.sub, email });

        // Sign-out by redirect, with the ID token as hint: no confirmation page.
        const visited: string[] = [];
        page.on('framenavigated', (f) => {
          if (f === page.mainFrame()) visited.push(f.url());
        });
        await Promise.all([
          page.waitForURL((u) => u.href.startsWith(`${spaUrl}/signed-out`), { timeout: 15_000 }),
          redirectBy(page, 'signoutRedirect'),
        ]);
        expect(visited.some((u) => u.includes('/session/end'))).toBe(false);
        await page.goto(spaUrl);
        expect(await shown(page)).toBe('Anonymous');
        // Latchkey's session ended too: the next sign-in asks for the password.
        await toSignInPage(page);
        await page.getByLabel('Password').waitFor();
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  },
);
