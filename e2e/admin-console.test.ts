/**
 * The admin console end to end, in headless Chromium against a real server (SQLite: the
 * storage paths are covered on both dialects by the HTTP suites):
 *
 * A. The bootstrap system admin signs in through the real sign-in page, creates a tenant, a
 *    user, a role, grants it, creates a web application and reads its secret once, finds all of
 *    that in the audit log, and signs out.
 * B. A tenant admin signs in at /admin/t/{A} and, editing URLs or calling the API with the
 *    console's own token, cannot reach anything of tenant B.
 *
 * Along the way it writes a screenshot of every main screen to test-results/screenshots/e2e-*.png
 * (git-ignored), and asserts the browser console stayed free of errors.
 */
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, startTestServer, type TestServer } from '../packages/server/test/helpers/server.js';
import {
  buildConsole,
  type ConsoleLog,
  desktop,
  fetchInPage,
  hasChromium,
  launchChromium,
  phone,
  screenshotPath,
  settle,
  sidewaysScrolling,
  signInOnPage,
  skipMessage,
  storedSession,
  unexpectedErrors,
  unnamedControls,
  visible,
  watchConsole,
} from './helpers/console.js';

if (!hasChromium) console.warn(skipMessage);

const suffix = Math.random().toString(36).slice(2, 7);

describe.skipIf(!hasChromium)(
  hasChromium ? 'admin console (Chromium)' : `admin console: ${skipMessage}`,
  { timeout: 60_000 },
  () => {
    let ts: TestServer;
    let browser: Browser;

    beforeAll(async () => {
      // Before the server starts: it registers the console's files when it starts.
      buildConsole();
      [ts, browser] = await Promise.all([startTestServer('sqlite'), launchChromium()]);
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await ts?.close();
    });

    /** Controls without an accessible name, per screen: none allowed (checked at the end). */
    const unnamed: Record<string, string[]> = {};

    /** A note of the screen's unlabelled controls, then a screenshot of it (without toasts). */
    async function shot(page: Page, name: string) {
      const found = await unnamedControls(page);
      if (found.length > 0) unnamed[name] = found;
      // Toasts of the last action would hide the header; they close by themselves in 4 s.
      for (const close of await page.getByRole('button', { name: 'Close notification' }).all()) {
        await close.click().catch(() => {});
      }
      await page
        .locator('.mantine-Notification-root')
        .first()
        .waitFor({ state: 'detached', timeout: 2000 })
        .catch(() => {});
      await page.screenshot({ path: screenshotPath(`e2e-${name}.png`), fullPage: false });
    }
    /** What the page looked like when a test failed, to see why. */
    async function shotOnFailure(page: Page, test: string) {
      const name = test.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      await page.screenshot({ path: screenshotPath(`e2e-failed-${name}.png`) }).catch(() => {});
      console.warn(`failed at ${page.url()}; screenshot test-results/screenshots/e2e-failed-${name}.png`);
    }

    describe('a system admin', () => {
      let context: BrowserContext;
      let page: Page;
      let log: ConsoleLog;
      const slug = `e2e-corp-${suffix}`;
      const displayName = `E2E Corp ${suffix}`;
      const userEmail = `ada-${suffix}@e2e.example`;
      const roleName = `support-${suffix}`;
      const appName = `Billing portal ${suffix}`;
      let tenantId = '';
      let userId = '';
      let clientDbId = '';
      let clientId = '';
      let clientSecret = '';

      beforeAll(async () => {
        context = await browser.newContext({ viewport: desktop });
        context.setDefaultTimeout(15_000);
        log = watchConsole(context);
        page = await context.newPage();
      });
      afterEach(async (ctx) => {
        if (ctx.task.result?.state === 'fail') await shotOnFailure(page, ctx.task.name);
      });
      afterAll(async () => {
        await context?.close();
      });

      it('is sent to the real sign-in page and signs in as the bootstrap admin', async () => {
        await page.goto(`${ts.url}/admin`);
        await page.waitForURL(/\/t\/system\/interaction\//);
        expect(new URL(page.url()).origin).toBe(ts.url);
        await expect(page.title()).resolves.toContain('Sign in');
        await signInOnPage(page, ts.adminEmail, ts.adminPassword);
        await page.waitForURL(new RegExp(`^${ts.url}/admin/?$`));
        await settle(page, 'Overview');
        await visible(page.getByText('System console'));
        const session = await storedSession(page, 'system');
        expect(session?.accessToken).toMatch(/^ey/);
        // Tokens stay in sessionStorage, never in localStorage.
        const local = await page.evaluate(() => JSON.stringify({ ...window.localStorage }));
        expect(local).not.toContain(session?.accessToken);
        await shot(page, 'overview');
      });

      it('creates a tenant', async () => {
        await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Tenants' }).click();
        await settle(page, 'Tenants');
        await page.getByRole('button', { name: 'Create tenant' }).click();
        const dialog = page.getByRole('dialog', { name: 'Create a tenant' });
        await dialog.getByLabel('Display name').fill(displayName);
        // The slug follows the name until edited.
        await expect(dialog.getByLabel('Slug').inputValue()).resolves.toBe(slug);
        // Only the slug's value is monospace, not its label.
        const [labelFont, valueFont] = await dialog.getByLabel('Slug').evaluate((input) => {
          const label = document.querySelector(`label[for="${input.id}"]`);
          return [label ? getComputedStyle(label).fontFamily : '', getComputedStyle(input).fontFamily];
        });
        expect(valueFont).toMatch(/mono/i);
        expect(labelFont).not.toMatch(/mono/i);
        await dialog.getByRole('button', { name: 'Create tenant' }).click();
        await page.waitForURL(`${ts.url}/admin/tenants/${slug}/settings`);
        await settle(page);
        await expect(page.getByLabel('Display name').inputValue()).resolves.toBe(displayName);
        const tenant = await ts.api('GET', `/api/v1/tenants/${slug}`);
        expect(tenant.status).toBe(200);
        tenantId = tenant.body.id;
        await shot(page, 'tenant-settings');
      });

      it('creates a user in it', async () => {
        await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Users' }).click();
        await page.waitForURL(`${ts.url}/admin/tenants/${slug}/users`);
        await settle(page, 'Users');
        await page.getByRole('button', { name: 'Create user' }).click();
        const dialog = page.getByRole('dialog', { name: 'Create a user' });
        await dialog.getByRole('textbox', { name: 'Email', exact: true }).fill(userEmail);
        await dialog.getByLabel('Name').fill('Ada Lovelace');
        await dialog.getByLabel('Initial password').fill(`analytical engine ${suffix}`);
        await dialog.getByRole('button', { name: 'Create user' }).click();
        await page.waitForURL(new RegExp(`/admin/tenants/${slug}/users/usr_[a-z0-9]+$`));
        userId = new URL(page.url()).pathname.split('/').pop() ?? '';
        await settle(page, 'Ada Lovelace');
        await visible(page.getByText(userEmail).first());
        expect(await userIdLines(page, userId)).toEqual({ label: 1, id: 1 });
        await shot(page, 'user');
      });

      it('creates a role and grants it to the user', async () => {
        await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Roles' }).click();
        await settle(page, 'Roles');
        await page.getByRole('button', { name: 'Create role' }).click();
        const dialog = page.getByRole('dialog', { name: 'Create a role' });
        await dialog.getByLabel('Name').fill(roleName);
        await dialog.getByLabel('Description').fill('Answers customer tickets');
        await dialog.getByRole('button', { name: 'Create role' }).click();
        await dialog.waitFor({ state: 'hidden' });
        // The new role opens, showing what it grants.
        const details = page.getByRole('dialog', { name: `Role ${roleName}` });
        await visible(details.getByText('Answers customer tickets'));
        await shot(page, 'role-details');
        await details.getByRole('button', { name: 'Close', exact: true }).click();
        await details.waitFor({ state: 'hidden' });
        await settle(page, 'Roles');
        await visible(page.getByRole('button', { name: roleName, exact: true }));
        await shot(page, 'roles');

        await page.goto(`${ts.url}/admin/tenants/${slug}/users/${userId}?tab=roles`);
        await settle(page, 'Ada Lovelace');
        await page.getByRole('combobox', { name: 'Grant a role' }).click();
        await page.getByRole('option', { name: new RegExp(`^${roleName}`) }).click();
        await page.getByRole('button', { name: 'Grant', exact: true }).click();
        await visible(page.getByRole('tab', { name: 'Roles (1)' }));
        await visible(page.getByRole('row').filter({ hasText: roleName }));
        const user = await ts.api('GET', `/api/v1/tenants/${slug}/users/${userId}`);
        expect(user.body.roles).toEqual([roleName]);

        await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Users' }).click();
        await settle(page, 'Users');
        await visible(page.getByRole('link', { name: userEmail }));
        await shot(page, 'users');
        await page.setViewportSize(phone);
        await settle(page, 'Users');
        await shot(page, 'users-phone');
        // The navbar collapses to a burger on a phone.
        await visible(page.getByRole('button', { name: 'Open navigation' }));
        await page.setViewportSize(desktop);
      });

      it('creates a web application and sees its secret exactly once', async () => {
        await page
          .getByRole('navigation', { name: 'Main navigation' })
          .getByRole('link', { name: 'Applications' })
          .click();
        await settle(page, 'Applications');
        await shot(page, 'applications');
        await page.getByRole('button', { name: 'Create application' }).click();
        const dialog = page.getByRole('dialog', { name: 'Create an application' });
        await expect.poll(() => dialog.getByRole('radio', { name: 'Web application' }).isChecked()).toBe(true);
        await dialog.getByRole('button', { name: 'Continue' }).click();
        const form = page.getByRole('dialog', { name: 'New web application' });
        // First party is off unless chosen, as in the API.
        expect(await form.getByLabel('First-party application').isChecked()).toBe(false);
        await form.getByLabel('Name').fill(appName);
        await form
          .getByRole('textbox', { name: 'Redirect URIs', exact: true })
          .fill('https://billing.e2e.example/callback');
        await form.getByRole('button', { name: 'Create application' }).click();
        const created = page.getByRole('dialog', { name: 'Application created' });
        const secretBox = created.getByTestId('secret-value');
        await secretBox.waitFor({ state: 'visible' });
        clientSecret = (await secretBox.textContent())?.trim() ?? '';
        expect(clientSecret.length).toBeGreaterThanOrEqual(32);
        await visible(created.getByText('This is the only time the client secret is shown'));
        await visible(created.getByRole('button', { name: 'Copy client secret' }));
        await shot(page, 'application-secret');

        // The secret shown is the application's real secret: the token endpoint accepts it.
        const clients = await ts.api('GET', `/api/v1/tenants/${slug}/clients?limit=100`);
        const client = clients.body.items.find((c: { name: string }) => c.name === appName);
        expect(client).toBeTruthy();
        clientDbId = client.id;
        clientId = client.clientId;
        expect(await introspectStatus(ts.url, slug, clientId, clientSecret)).toBe(200);
        expect(await introspectStatus(ts.url, slug, clientId, `${clientSecret}x`)).toBe(401);

        await created.getByRole('button', { name: /I have copied it/ }).click();
        await page.waitForURL(`${ts.url}/admin/tenants/${slug}/applications/${clientDbId}`);
        await settle(page, appName);
        await visible(page.getByText(clientId).first());
        expect(await page.content()).not.toContain(clientSecret);
        await shot(page, 'application');
        // Not shown again on a fresh load of the application either.
        await page.reload();
        await settle(page, appName);
        await visible(page.getByText('The client secret was shown once'));
        expect(await page.content()).not.toContain(clientSecret);
        const stored = await page.evaluate(() => JSON.stringify({ ...window.localStorage, ...window.sessionStorage }));
        expect(stored).not.toContain(clientSecret);
      });

      it('shows the other main screens', async () => {
        const nav = page.getByRole('navigation', { name: 'Main navigation' });
        for (const [link, title, name] of [
          ['APIs', 'APIs', 'apis'],
          ['API keys', 'API keys', 'api-keys'],
          ['Signing keys', 'Signing keys', 'signing-keys'],
        ] as const) {
          await nav.getByRole('link', { name: link, exact: true }).click();
          await settle(page, title);
          await shot(page, name);
          if (name === 'signing-keys') {
            // A next key is published from its creation: not "while in use".
            await visible(page.getByText(/^Since it was created; becomes current at the next rotation/).first());
            expect(await page.getByText(/while in use/i).count()).toBe(0);
          }
        }
        await page.goto(`${ts.url}/admin/tenants/${slug}`);
        await settle(page, displayName);
        await shot(page, 'tenant-overview');
        await nav.getByRole('link', { name: 'Tenants', exact: true }).click();
        await settle(page, 'Tenants');
        await visible(page.getByRole('link', { name: displayName, exact: true }));
        await shot(page, 'tenants');
      });

      it("finds all of it in the audit log: the tenant in the system tenant's, the rest in the new tenant's", async () => {
        await page.goto(`${ts.url}/admin/tenants/system/audit`);
        await settle(page, 'Audit log');
        const systemRow = page.getByRole('row').filter({ hasText: 'tenant.create' }).filter({ hasText: displayName });
        await expect.poll(() => systemRow.count()).toBe(1);
        await visible(systemRow.getByText('success'));
        await visible(systemRow.getByRole('link', { name: displayName }));
        expect(tenantId).toMatch(/^ten_/);

        await page.goto(`${ts.url}/admin/tenants/${slug}/audit`);
        await settle(page, 'Audit log');
        await shot(page, 'audit');
        // Actors and targets by email and name, linked to their screens; no raw ids, no JSON.
        for (const [action, target] of [
          ['user.create', userEmail],
          ['role.create', roleName],
          ['user.role.grant', userEmail],
          ['client.create', appName],
        ] as const) {
          const row = page.getByRole('row').filter({ hasText: action }).filter({ hasText: target }).first();
          await visible(row);
          await visible(row.getByRole('link', { name: target, exact: true }));
          await visible(row.getByRole('link', { name: ts.adminEmail, exact: true }));
        }
        const tableText = (await page.locator('tbody').first().textContent()) ?? '';
        expect(tableText).toContain(ts.adminEmail);
        expect(tableText).not.toMatch(/usr_[0-9a-z]{26}/);
        await visible(page.getByText(`Granted role ${roleName}`).first());
        // A row opens to readable details: a key/value list, not JSON.
        const grant = page.getByRole('row').filter({ hasText: 'user.role.grant' }).first();
        await grant.getByRole('button', { name: /^Show details of user\.role\.grant/ }).click();
        const details = page.getByRole('list', { name: 'Details' }).or(page.locator('dl[aria-label="Details"]'));
        await visible(details.first());
        expect(await details.first().textContent()).toContain(roleName);
        expect(await page.locator('tbody').first().textContent()).not.toContain('{"');
        await shot(page, 'audit-details');
        // The target's link opens the user's screen.
        await page.getByRole('row').filter({ hasText: 'user.create' }).getByRole('link', { name: userEmail }).click();
        await page.waitForURL(`${ts.url}/admin/tenants/${slug}/users/${userId}`);
        await settle(page, 'Ada Lovelace');
        await page.goto(`${ts.url}/admin/tenants/${slug}/audit`);
        await settle(page, 'Audit log');
        // The filter narrows it down on the server.
        await page.getByRole('combobox', { name: 'Action' }).fill('client.*');
        await page.waitForURL(/action=client\.\*/);
        await settle(page, 'Audit log');
        // (Polled: the previous page stays on screen, dimmed, until the filtered one arrives.)
        await expect
          .poll(async () => {
            const actions = await page.locator('tbody code').allTextContents();
            return actions.length > 0 && actions.every((a) => a.startsWith('client.'));
          })
          .toBe(true);
        // Nothing about another tenant's users leaks into this log: only this tenant's events.
        const events = await ts.api('GET', `/api/v1/tenants/${slug}/audit-events?limit=100`);
        expect(events.body.items.every((e: { tenantId?: string }) => !e.tenantId || e.tenantId === tenantId)).toBe(
          true,
        );
      });

      it('fits a phone: no table scrolls sideways at 390 px, and every screen has one main landmark', async () => {
        const screens: [string, string, string | RegExp][] = [
          ['overview', '/admin', 'Overview'],
          ['tenants', '/admin/tenants', 'Tenants'],
          ['users', `/admin/tenants/${slug}/users`, 'Users'],
          ['user', `/admin/tenants/${slug}/users/${userId}`, 'Ada Lovelace'],
          ['user-activity', `/admin/tenants/${slug}/users/${userId}?tab=activity`, 'Ada Lovelace'],
          ['user-roles', `/admin/tenants/${slug}/users/${userId}?tab=roles`, 'Ada Lovelace'],
          ['user-sessions', `/admin/tenants/${slug}/users/${userId}?tab=sessions`, 'Ada Lovelace'],
          ['roles', `/admin/tenants/${slug}/roles`, 'Roles'],
          ['applications', `/admin/tenants/${slug}/applications`, 'Applications'],
          ['apis', `/admin/tenants/${slug}/apis`, 'APIs'],
          ['api-keys', `/admin/tenants/system/api-keys`, 'API keys'],
          ['signing-keys', `/admin/tenants/${slug}/signing-keys`, 'Signing keys'],
          ['audit', `/admin/tenants/${slug}/audit`, 'Audit log'],
        ];
        const scrolling: Record<string, string[]> = {};
        const mains: Record<string, number> = {};
        for (const viewport of [phone, desktop]) {
          await page.setViewportSize(viewport);
          for (const [name, path, title] of screens) {
            await page.goto(`${ts.url}${path}`);
            await settle(page, title);
            const label = `${name}@${viewport.width}`;
            mains[label] = await page.getByRole('main').count();
            if (name === 'user') expect(await userIdLines(page, userId), label).toEqual({ label: 1, id: 1 });
            if (viewport === phone) {
              const found = await sidewaysScrolling(page);
              if (found.length > 0) scrolling[label] = found;
            }
            if (['user-activity', 'audit', 'users', 'signing-keys', 'overview'].includes(name)) {
              await shot(page, `${name}-${viewport === phone ? 'phone' : 'desktop'}`);
            }
          }
        }
        await page.setViewportSize(desktop);
        expect(scrolling).toEqual({});
        expect(Object.entries(mains).filter(([, n]) => n !== 1)).toEqual([]);
        // The user activity names the actor by email, not by id.
        await page.goto(`${ts.url}/admin/tenants/${slug}/users/${userId}?tab=activity`);
        await settle(page, 'Ada Lovelace');
        await visible(page.getByRole('link', { name: ts.adminEmail }).first());
      });

      it('signs out: the server session ends and /admin asks to sign in again', async () => {
        await page.goto(`${ts.url}/admin/tenants/${slug}/users`);
        await settle(page, 'Users');
        await page.getByRole('button', { name: /^Account menu for/ }).click();
        const shown: string[] = [];
        const onPage = (frame: Frame) => {
          if (frame === page.mainFrame()) shown.push(frame.url());
        };
        page.on('framenavigated', onPage);
        await page.getByRole('menuitem', { name: 'Sign out' }).click();
        // RP-initiated logout at the issuer with the console's ID token as hint: no confirmation
        // page, straight back to the console, signed out.
        await page.waitForURL(new RegExp(`^${ts.url}/admin/?$`));
        page.off('framenavigated', onPage);
        expect(shown.filter((u) => u.includes('/session/end'))).toEqual([]);
        await visible(page.getByRole('heading', { name: 'You have signed out' }));
        expect(await storedSession(page, 'system')).toBeNull();

        await page.goto(`${ts.url}/admin/tenants/${slug}/users`);
        await visible(page.getByRole('heading', { name: 'You have signed out' }));
        await expect.poll(() => page.getByText(userEmail).count()).toBe(0);
        await page.getByRole('button', { name: 'Sign in again' }).click();
        // The sign-in form, not a silent sign-in: the session at the issuer is gone.
        await page.waitForURL(/\/t\/system\/interaction\//);
        await visible(page.getByLabel('Password'));
        await shot(page, 'signed-out-sign-in');
      });

      it('left no errors in the browser console', () => {
        expect(unexpectedErrors(log)).toEqual([]);
        expect(log.failedResponses).toEqual([]);
      });
    });

    describe('a tenant admin', () => {
      let context: BrowserContext;
      let page: Page;
      let log: ConsoleLog;
      const a = `e2e-a-${suffix}`;
      const b = `e2e-b-${suffix}`;
      const adminEmail = `admin-${suffix}@a.example`;
      const adminPassword = `tenant a admin ${suffix}`;
      const bEmails = [`hidden-one-${suffix}@b.example`, `hidden-two-${suffix}@b.example`];
      const aEmail = `visible-${suffix}@a.example`;
      let bUserId = '';
      let bClientId = '';
      const bRoleName = `b-secret-role-${suffix}`;
      const bAppName = `B app ${suffix}`;

      /** Nothing of B on the page: none of its users' emails, its role or its application's name. */
      async function noneOfB(p: Page) {
        const text = await p.content();
        for (const secret of [...bEmails, bRoleName, bAppName]) expect(text).not.toContain(secret);
      }

      beforeAll(async () => {
        const api: ApiClient = ts.api;
        for (const slug of [a, b]) {
          const res = await api('POST', '/api/v1/tenants', { body: { slug, displayName: `Tenant ${slug}` } });
          expect(res.status).toBe(201);
        }
        const admin = await api('POST', `/api/v1/tenants/${a}/users`, {
          body: { email: adminEmail, password: adminPassword, displayName: 'Tenant A Admin' },
        });
        expect(admin.status).toBe(201);
        const grant = await api('PUT', `/api/v1/tenants/${a}/users/${admin.body.id}/roles/tenant:admin`);
        expect(grant.status).toBeLessThan(300);
        expect((await api('POST', `/api/v1/tenants/${a}/users`, { body: { email: aEmail } })).status).toBe(201);
        for (const email of bEmails) {
          const res = await api('POST', `/api/v1/tenants/${b}/users`, { body: { email } });
          expect(res.status).toBe(201);
          bUserId ||= res.body.id;
        }
        expect((await api('POST', `/api/v1/tenants/${b}/roles`, { body: { name: bRoleName } })).status).toBe(201);
        const client = await api('POST', `/api/v1/tenants/${b}/clients`, {
          body: { kind: 'spa', name: bAppName, redirectUris: ['https://b.example/cb'] },
        });
        expect(client.status).toBe(201);
        bClientId = client.body.id;

        context = await browser.newContext({ viewport: desktop });
        context.setDefaultTimeout(15_000);
        log = watchConsole(context);
        page = await context.newPage();
      });
      afterEach(async (ctx) => {
        if (ctx.task.result?.state === 'fail') await shotOnFailure(page, ctx.task.name);
      });
      afterAll(async () => {
        await context?.close();
      });

      it('signs in at /admin/t/{slug} on its own tenant’s page and sees only its tenant', async () => {
        await page.goto(`${ts.url}/admin/t/${a}`);
        await page.waitForURL(new RegExp(`/t/${a}/interaction/`));
        await signInOnPage(page, adminEmail, adminPassword);
        await page.waitForURL(new RegExp(`/admin/t/${a}/?$`));
        await settle(page, `Tenant ${a}`);
        const nav = page.getByRole('navigation', { name: 'Main navigation' });
        await visible(nav.getByRole('link', { name: 'Users' }));
        // No tenant list, no tenant switcher: this console is about tenant A only.
        await expect.poll(() => nav.getByRole('link', { name: 'Tenants' }).count()).toBe(0);
        await expect.poll(() => page.getByRole('textbox', { name: 'Tenant' }).count()).toBe(0);
        await shot(page, 'tenant-console');

        await nav.getByRole('link', { name: 'Users' }).click();
        await page.waitForURL(`${ts.url}/admin/t/${a}/users`);
        await settle(page, 'Users');
        await visible(page.getByRole('link', { name: aEmail }));
        await noneOfB(page);
      });

      it("cannot reach tenant B's data by editing URLs", async () => {
        // Another tenant's user id inside A's console: the API answers 404, nothing is shown.
        await page.goto(`${ts.url}/admin/t/${a}/users/${bUserId}`);
        await settle(page, 'User not available');
        await noneOfB(page);
        await page.goto(`${ts.url}/admin/t/${a}/applications/${bClientId}`);
        await settle(page, 'Application not available');
        await noneOfB(page);
        await page.goto(`${ts.url}/admin/t/${a}/roles?q=b-secret`);
        await settle(page, 'Roles');
        await noneOfB(page);

        // B's console asks to sign in to B (A's session is no good there), and A's admin cannot.
        await page.goto(`${ts.url}/admin/t/${b}/users`);
        await page.waitForURL(new RegExp(`/t/${b}/interaction/`));
        await noneOfB(page);
        await page.getByLabel('Email').fill(adminEmail);
        await page.getByLabel('Password').fill(adminPassword);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await visible(page.getByText('Invalid email or password.'));
        await noneOfB(page);

        // The system console's URL for B asks to sign in to the system tenant.
        for (const path of [`/admin/tenants/${b}/users`, `/admin/tenants/${b}/users/${bUserId}`]) {
          await page.goto(`${ts.url}${path}`);
          await page.waitForURL(/\/t\/system\/interaction\//);
          await noneOfB(page);
        }
      });

      it("gets 404 from the API for B's data with the console's own token", async () => {
        await page.goto(`${ts.url}/admin/t/${a}/users`);
        await settle(page, 'Users');
        const token = (await storedSession(page, a))?.accessToken ?? '';
        expect(token).toMatch(/^ey/);
        // The token works for A.
        const own = await fetchInPage(page, `/api/v1/tenants/${a}/users?limit=100`, token);
        expect(own.status).toBe(200);
        expect(own.text).toContain(aEmail);

        for (const path of [
          `/api/v1/tenants/${b}`,
          `/api/v1/tenants/${b}/users`,
          `/api/v1/tenants/${b}/users?q=hidden`,
          `/api/v1/tenants/${b}/users/${bUserId}`,
          `/api/v1/tenants/${b}/roles`,
          `/api/v1/tenants/${b}/clients`,
          `/api/v1/tenants/${b}/clients/${bClientId}`,
          `/api/v1/tenants/${b}/api-keys`,
          `/api/v1/tenants/${b}/keys`,
          `/api/v1/tenants/${b}/audit-events`,
          `/api/v1/tenants/${b}/stats`,
        ]) {
          const res = await fetchInPage(page, path, token);
          expect(res.status, path).toBe(404);
          for (const email of bEmails) expect(res.text, path).not.toContain(email);
        }
        // B's ids through A's routes: not found either.
        expect((await fetchInPage(page, `/api/v1/tenants/${a}/users/${bUserId}`, token)).status).toBe(404);
        expect((await fetchInPage(page, `/api/v1/tenants/${a}/clients/${bClientId}`, token)).status).toBe(404);
        // Writes are refused the same way, and change nothing.
        const write = await fetchInPage(page, `/api/v1/tenants/${b}/users`, token, {
          method: 'POST',
          body: { email: `planted-${suffix}@b.example` },
        });
        expect(write.status).toBe(404);
        const list = await ts.api('GET', `/api/v1/tenants/${b}/users?limit=100`);
        expect(list.text).not.toContain(`planted-${suffix}`);
        // The tenant list is not for tenant admins.
        const tenants = await fetchInPage(page, '/api/v1/tenants', token);
        expect(tenants.text).not.toContain(b);
      });

      it('left no errors in the browser console but the deliberate probes', () => {
        // The probes: 404s from the admin API, and the 401 of the sign-in page after the wrong tenant's credentials.
        expect(unexpectedErrors(log, [401, 404])).toEqual([]);
        const deliberate = (r: string) =>
          /^404 (GET|POST) .*\/api\/v1\/tenants\//.test(r) ||
          /^401 GET .*\/interaction\/[^?]+\?error=credentials$/.test(r);
        expect(log.failedResponses.filter((r) => !deliberate(r))).toEqual([]);
        expect(log.failedResponses.some((r) => r.startsWith('401 '))).toBe(true);
      });
    });

    describe('every screen', () => {
      it('labels every visible control (icon buttons included)', () => {
        expect(unnamed).toEqual({});
      });
    });
  },
);

/** On how many lines the user screen shows the "User ID" label and the id (one each: never broken). */
function userIdLines(page: Page, userId: string): Promise<{ label: number; id: number }> {
  return page.evaluate((id) => {
    const lines = (el: Element | null | undefined) => {
      if (!el) return 0;
      const range = document.createRange();
      range.selectNodeContents(el);
      return new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
    };
    const dts = Array.from(document.querySelectorAll('dt'));
    const dt = dts.find((d) => d.textContent?.trim() === 'User ID');
    const code = Array.from(document.querySelectorAll('dd code')).find((c) => c.textContent?.trim() === id);
    return { label: lines(dt), id: lines(code) };
  }, userId);
}

/** Client authentication at the introspection endpoint: 200 with the right secret, 401 without. */
async function introspectStatus(url: string, slug: string, id: string, secret: string): Promise<number> {
  const res = await fetch(`${url}/t/${slug}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: 'not-a-token' }).toString(),
  });
  await res.arrayBuffer();
  return res.status;
}
