/**
 * A web application built with Auth0's `express-openid-connect`, configured as its README
 * says (issuer, client id and secret, `authorizationParams: { response_type: 'code' }`) and
 * nothing Latchkey-specific, driven in Chromium: sign-in on Latchkey's page and consent, the
 * app sees the user (its ID token verified with the library's default, RS256), and logout
 * (RP-initiated, with the ID token as hint: no confirmation page) back to the app.
 * SQLite only: the storage paths are covered on both dialects by the HTTP suites.
 * @see issue 9, items 18 and 19
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { auth, requiresAuth } from 'express-openid-connect';
import { decodeProtectedHeader } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, screenshotPath, skipMessage } from './helpers/chromium.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

if (!hasChromium) console.warn(skipMessage);

describe.skipIf(!hasChromium)(
  hasChromium ? 'express-openid-connect web app (Chromium)' : `express-openid-connect: ${skipMessage}`,
  () => {
    let ts: TestServer;
    let browser: Browser;
    let server: Server;
    let appUrl: string;
    let slug: string;
    const email = 'express@example.test';
    const password = 'express openid connect';

    beforeAll(async () => {
      [ts, browser] = await Promise.all([startTestServer('sqlite'), launchChromium()]);
      const app = express();
      server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const t = await tenantWithAdmin(ts);
      slug = t.slug;
      // What an adopter registers: a web application (third party: the user is asked to consent).
      const client = await t.api('POST', `/api/v1/tenants/${slug}/clients`, {
        body: {
          kind: 'web',
          name: 'Express shop',
          redirectUris: [`${appUrl}/callback`],
          postLogoutRedirectUris: [`${appUrl}/signed-out`],
        },
      });
      expect(client.status, client.text).toBe(201);
      expect(client.body.idTokenSigningAlg).toBe('RS256');
      const user = await t.api('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email, password, displayName: 'Express User' },
      });
      expect(user.status, user.text).toBe(201);

      app.use(
        auth({
          issuerBaseURL: `${ts.url}/t/${slug}`,
          baseURL: appUrl,
          clientID: client.body.clientId,
          clientSecret: client.body.clientSecret,
          secret: randomBytes(32).toString('hex'),
          authRequired: false,
          idpLogout: true,
          authorizationParams: { response_type: 'code', scope: 'openid profile email' },
          routes: { postLogoutRedirect: '/signed-out' },
        }),
      );
      // The same application asking for the answer as a form post (response_mode=form_post).
      app.get('/login-form-post', (_req, res) =>
        res.oidc.login({ authorizationParams: { response_mode: 'form_post' }, returnTo: '/' }),
      );
      app.get('/', (req, res) => {
        res
          .type('html')
          .send(req.oidc.isAuthenticated() ? `<p id="who">Hello ${req.oidc.user?.email}</p>` : 'Anonymous');
      });
      app.get('/me', requiresAuth(), (req, res) => {
        res.json({ user: req.oidc.user, alg: decodeProtectedHeader(req.oidc.idToken ?? '').alg });
      });
      app.get('/signed-out', (req, res) => {
        res.type('html').send(`<p id="bye">Signed out (${req.oidc.isAuthenticated() ? 'still in' : 'anonymous'})</p>`);
      });
      // The library's errors (such as "invalid response encountered") reach the test as text.
      app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).type('text').send(`app error: ${err.message}`);
      });
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      await ts?.close();
    });

    it('signs in on Latchkey’s page, sees the user, and signs out back to the app', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const cspViolations: string[] = [];
        page.on('console', (m) => {
          if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
        });
        await page.goto(`${appUrl}/login`);
        expect(new URL(page.url()).pathname).toMatch(new RegExp(`^/t/${slug}/interaction/`));
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        // A third-party application: the user allows it.
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.waitForURL((u) => u.href.startsWith(appUrl), { timeout: 15_000 });
        await page.screenshot({ path: screenshotPath('express-openid-connect.png'), fullPage: true });
        expect(await page.textContent('body')).toBe(`Hello ${email}`);

        const me = await (await page.request.get(`${appUrl}/me`)).json();
        expect(me.alg).toBe('RS256');
        expect(me.user).toMatchObject({ email, name: 'Express User', email_verified: false });

        // RP-initiated logout with the ID token as hint: straight back to the app, no question.
        const visited: string[] = [];
        page.on('framenavigated', (f) => {
          if (f === page.mainFrame()) visited.push(f.url());
        });
        await page.goto(`${appUrl}/logout`);
        await page.waitForURL(`${appUrl}/signed-out`, { timeout: 15_000 });
        expect(await page.textContent('#bye')).toBe('Signed out (anonymous)');
        expect(visited.some((u) => u.includes('/session/end'))).toBe(false);
        expect(cspViolations).toEqual([]);
        await page.goto(appUrl);
        expect(await page.textContent('body')).toBe('Anonymous');

        // Latchkey's session ended too: signing in again asks for the password.
        await page.goto(`${appUrl}/login`);
        await page.getByLabel('Password').waitFor({ timeout: 15_000 });
      } finally {
        await context.close();
      }
    });
    it('signs in with response_mode=form_post: the auto-submitting form runs under the page policy', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const cspViolations: string[] = [];
        page.on('console', (m) => {
          if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
        });
        const formPost: { csp?: string | undefined; frame?: string | undefined }[] = [];
        page.on('response', (r) => {
          if (r.status() === 200 && r.url().startsWith(`${ts.url}/t/${slug}/auth/`)) {
            const headers = r.headers();
            formPost.push({ csp: headers['content-security-policy'], frame: headers['x-frame-options'] });
          }
        });
        await page.goto(`${appUrl}/login-form-post`);
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        // The consent of the test above is remembered; asked again only when this one runs alone.
        const allow = page.getByRole('button', { name: 'Allow' });
        await allow.waitFor({ timeout: 3_000 }).then(
          () => allow.click(),
          () => undefined,
        );
        // The "Submitting Callback" page posts itself to the app without a click.
        await page.waitForURL(`${appUrl}/`, { timeout: 15_000 });
        expect(await page.textContent('body')).toBe(`Hello ${email}`);
        expect(formPost.length).toBeGreaterThan(0);
        const policy = formPost.at(-1)?.csp ?? '';
        // Only that page's own script, by its hash; never framed.
        expect(policy).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
        expect(policy).toContain("frame-ancestors 'none'");
        expect(formPost.at(-1)?.frame).toBe('DENY');
        expect(cspViolations).toEqual([]);
      } finally {
        await context.close();
      }
    });
  },
);
