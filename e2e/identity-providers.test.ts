/**
 * Identity providers and users' sign-in methods in the admin console, end to end in headless
 * Chromium against a real server (SQLite). The system admin adds a provider (the Google preset
 * fills in its issuer; then a plain OpenID Connect provider: another tenant of the same server),
 * sees the redirect URI to register upstream as the slug is typed, and finds the provider listed
 * with its secret set (never shown). Editing sends If-Match and no secret when the field is left
 * empty; a change made meanwhile is said, not overwritten. Deleting asks for the slug. On a
 * user's page, the sign-in methods show the password and a seeded identity, which is unlinked;
 * unlinking a passwordless user's only identity is refused with the server's reason. Both screens
 * fit a phone and name every control. In the tenant console, an admin who may write providers but
 * lacks tenant:admin is told why linking is refused (the grant rule) and adds one without it; one
 * who may only read them sees nothing to add, change or delete.
 *
 * Screenshots go to test-results/screenshots/identity-providers-*.png.
 */
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../packages/server/src/tenants/service.js';
import { startTestServer, type TestServer } from '../packages/server/test/helpers/server.js';
import {
  buildConsole,
  type ConsoleLog,
  desktop,
  hasChromium,
  launchChromium,
  phone,
  screenshotPath,
  settle,
  sidewaysScrolling,
  signInOnPage,
  skipMessage,
  unexpectedErrors,
  unnamedControls,
  visible,
  watchConsole,
} from './helpers/console.js';

if (!hasChromium) console.warn(skipMessage);

const suffix = Math.random().toString(36).slice(2, 7);

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'identity providers in the admin console (Chromium)'
    : `identity providers in the admin console: ${skipMessage}`,
  { timeout: 90_000 },
  () => {
    let ts: TestServer;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let log: ConsoleLog;
    const slug = `fed-${suffix}`;
    const upstream = `upstream-${suffix}`;
    const unnamed: Record<string, string[]> = {};
    let idpId = '';

    beforeAll(async () => {
      buildConsole();
      [ts, browser] = await Promise.all([startTestServer('sqlite'), launchChromium()]);
      for (const s of [slug, upstream]) {
        const tenant = await ts.api('POST', '/api/v1/tenants', { body: { slug: s, displayName: `Tenant ${s}` } });
        expect(tenant.status, tenant.text).toBe(201);
      }
      const role = await ts.api('POST', `/api/v1/tenants/${slug}/roles`, {
        body: { name: 'engineer', permissions: ['users:read'] },
      });
      expect(role.status, role.text).toBe(201);

      context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
      context.setDefaultTimeout(15_000);
      log = watchConsole(context);
      page = await context.newPage();
      await page.goto(`${ts.url}/admin/tenants/${slug}/identity-providers`);
      await signInOnPage(page, ts.adminEmail, ts.adminPassword);
      await settle(page, 'Identity providers');
    }, 240_000);
    afterEach(async (ctx) => {
      if (ctx.task.result?.state === 'fail') {
        await page
          ?.screenshot({ path: screenshotPath(`identity-providers-failed-${ctx.task.id}.png`) })
          .catch(() => {});
      }
    });
    afterAll(async () => {
      await context?.close();
      await browser?.close();
      await ts?.close();
    });

    /** Toasts sit over the bottom of the page (the save bar): closed before a shot or a click there. */
    async function closeToasts() {
      for (const close of await page.getByRole('button', { name: 'Close notification' }).all()) {
        await close.click().catch(() => {});
      }
      await page
        .locator('.mantine-Notification-root')
        .first()
        .waitFor({ state: 'detached', timeout: 2000 })
        .catch(() => {});
    }

    async function shot(name: string) {
      const found = await unnamedControls(page);
      if (found.length > 0) unnamed[name] = found;
      await page.screenshot({ path: screenshotPath(`identity-providers-${name}.png`), fullPage: true });
    }
    const providers = async () =>
      (await ts.api('GET', `/api/v1/tenants/${slug}/identity-providers`)).body.items as Record<string, unknown>[];
    const dialog = () => page.getByRole('dialog', { name: 'Add an identity provider' });
    const redirectUri = (idpSlug: string) => `${ts.url}/t/${slug}/federation/${idpSlug}/callback`;

    it('adds a provider: the preset fills the issuer, the redirect URI shows as the slug is typed', async () => {
      await page.getByRole('button', { name: 'Add identity provider' }).click();
      await visible(dialog().getByLabel('Slug'));
      const kind = dialog().getByRole('combobox', { name: 'Kind' });
      await kind.click();
      await page.getByRole('option', { name: 'Google' }).click();
      expect(await dialog().getByLabel('Issuer').inputValue()).toBe('https://accounts.google.com');
      expect(await dialog().getByLabel('Slug').inputValue()).toBe('google');
      expect(await dialog().getByLabel('Redirect URI', { exact: true }).textContent()).toBe(redirectUri('google'));
      await kind.click();
      await page.getByRole('option', { name: 'Microsoft' }).click();
      expect(await dialog().getByLabel('Issuer').inputValue()).toBe('https://login.microsoftonline.com/common/v2.0');

      // A plain OpenID Connect provider: another tenant of this server.
      await kind.click();
      await page.getByRole('option', { name: 'OpenID Connect' }).click();
      expect(await dialog().getByLabel('Issuer').inputValue()).toBe('');
      await dialog().getByLabel('Slug').fill('acme');
      await visible(dialog().getByLabel('Redirect URI', { exact: true }));
      expect(await dialog().getByLabel('Redirect URI', { exact: true }).textContent()).toBe(redirectUri('acme'));
      await dialog().getByLabel('Display name').fill('Acme SSO');
      await dialog().getByLabel('Issuer').fill(`${ts.url}/t/${upstream}`);
      await dialog().getByLabel('Client ID').fill('latchkey-downstream');

      // Refused before sending: no secret yet.
      await dialog().getByRole('button', { name: 'Create identity provider' }).click();
      await visible(dialog().getByText('The client secret the provider gave Latchkey'));
      await dialog().getByLabel('Client secret').fill('upstream-secret-1');

      await dialog().getByRole('switch', { name: 'Trust verified emails' }).check();
      await visible(dialog().getByText('Only for a provider you control'));
      await dialog().getByRole('switch', { name: 'Trust verified emails' }).uncheck();
      await dialog().getByRole('switch', { name: 'Allow sign-up' }).check();
      const domains = dialog().getByLabel('Email domains');
      await domains.fill('acme.example');
      await domains.press('Enter');
      await dialog().getByLabel('Roles claim').fill('groups');
      await dialog().getByRole('button', { name: 'Add mapping' }).click();
      await dialog().getByLabel('Mapping 1 upstream value').fill('engineers');
      await dialog().getByRole('combobox', { name: 'Mapping 1 role' }).click();
      await page.getByRole('option', { name: 'engineer', exact: true }).click();
      await shot('create');

      const created = page.waitForRequest(
        (r) => r.method() === 'POST' && r.url().endsWith(`/tenants/${slug}/identity-providers`),
      );
      await dialog().getByRole('button', { name: 'Create identity provider' }).click();
      const sent = (await created).postDataJSON() as Record<string, unknown>;
      expect(sent).toMatchObject({
        slug: 'acme',
        kind: 'oidc',
        clientSecret: 'upstream-secret-1',
        allowSignUp: true,
        trustEmails: false,
        domains: ['acme.example'],
        claims: { roles: 'groups' },
        roleMappings: [{ upstream: 'engineers', role: 'engineer' }],
      });
      await settle(page, 'Acme SSO');
      const [stored] = await providers();
      expect(stored).toMatchObject({ slug: 'acme', displayName: 'Acme SSO', clientSecretSet: true });
      expect(JSON.stringify(stored)).not.toContain('upstream-secret-1');
      idpId = stored?.id as string;
      expect(page.url()).toBe(`${ts.url}/admin/tenants/${slug}/identity-providers/${idpId}`);
    });

    it('shows the redirect URI to register upstream, with a copy button', async () => {
      const panel = page.getByRole('region', { name: 'Register Latchkey at the provider' });
      expect(await panel.getByLabel('Redirect URI', { exact: true }).textContent()).toBe(redirectUri('acme'));
      await visible(panel.getByRole('button', { name: 'Copy redirect uri' }));
    });

    it('lists it with its secret set', async () => {
      await page.getByRole('link', { name: 'Identity providers' }).first().click();
      await settle(page, 'Identity providers');
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Acme SSO' }) });
      await visible(row.getByText('Secret set'));
      await visible(row.getByText('Enabled'));
      await shot('list');
    });

    it('edits it with If-Match, keeping the secret when the field is left empty', async () => {
      await page.getByRole('link', { name: 'Acme SSO' }).click();
      await settle(page, 'Acme SSO');
      await visible(page.getByText('Secret set').first());
      await page.getByLabel('Display name').fill('Acme Login');
      await page.getByRole('switch', { name: 'Enabled' }).uncheck();
      const patched = page.waitForRequest((r: Request) => r.method() === 'PATCH' && r.url().includes(idpId));
      await page.getByRole('button', { name: 'Save changes' }).click();
      const sent = await patched;
      expect(sent.headers()['if-match']).toBe('"1"');
      expect(sent.postDataJSON()).toEqual({ displayName: 'Acme Login', enabled: false });
      await visible(page.getByText('Identity provider Acme Login saved'));
      await visible(page.getByRole('heading', { level: 1, name: 'Acme Login' }));
      const [stored] = await providers();
      expect(stored).toMatchObject({ displayName: 'Acme Login', enabled: false, clientSecretSet: true, version: 2 });

      // Someone else changes it meanwhile: the next save is refused, not lost.
      const behind = await ts.api('PATCH', `/api/v1/tenants/${slug}/identity-providers/${idpId}`, {
        body: { buttonText: 'Continue with Acme' },
        headers: { 'if-match': '"2"' },
      });
      expect(behind.status, behind.text).toBe(200);
      await closeToasts();
      await page.getByLabel('Client secret').fill('upstream-secret-2');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await visible(page.getByText('Changed meanwhile'));
      await page.getByRole('button', { name: 'Reload' }).click();
      await visible(page.getByLabel('Button text'));
      await expect.poll(() => page.getByLabel('Button text').inputValue()).toBe('Continue with Acme');

      // A new slug would change the redirect URI: the new one shows before saving; Discard drops it.
      await page.getByLabel('Slug').fill('acme-login');
      expect(await page.getByLabel('New redirect URI', { exact: true }).textContent()).toBe(redirectUri('acme-login'));
      await closeToasts();
      await page.getByRole('button', { name: 'Discard' }).click();
      expect(await page.getByLabel('New redirect URI', { exact: true }).count()).toBe(0);
      expect(await page.getByLabel('Slug').inputValue()).toBe('acme');
      await shot('edit');
    });

    it('fits a phone and names every control', async () => {
      await page.setViewportSize(phone);
      await settle(page, 'Acme Login');
      expect(await sidewaysScrolling(page)).toEqual([]);
      await shot('phone-provider');
      await page.goto(`${ts.url}/admin/tenants/${slug}/identity-providers`);
      await settle(page, 'Identity providers');
      expect(await sidewaysScrolling(page)).toEqual([]);
      await shot('phone-list');
      await page.setViewportSize(desktop);
    });

    it('deletes it after the slug is typed', async () => {
      await page.getByRole('link', { name: 'Acme Login' }).click();
      await settle(page, 'Acme Login');
      await page.getByRole('button', { name: 'Delete' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete Acme Login?' });
      const button = confirm.getByRole('button', { name: 'Delete identity provider' });
      expect(await button.isDisabled()).toBe(true);
      await confirm.getByLabel('Type acme to confirm').fill('acme');
      await button.click();
      await settle(page, 'Identity providers');
      await visible(page.getByText('No identity providers yet'));
      expect(await providers()).toEqual([]);
    });

    /** A user, and their identity at a provider made through the API (as a federated sign-in would link it). */
    async function seedIdentity(email: string, password: string | null, providerId: string) {
      const user = await ts.api('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email, emailVerified: true, ...(password ? { password } : {}) },
      });
      expect(user.status, user.text).toBe(201);
      const tenant = (await ts.server.ctx.tenants.findBySlug(slug)) as Tenant;
      await ts.server.ctx.identities.link(
        tenant,
        { userId: user.body.id as string, providerId, subject: `sub-${email}`, email },
        { type: 'system', id: null, ip: null, requestId: null },
      );
      return user.body.id as string;
    }

    it('shows a user’s sign-in methods and unlinks an identity; never their last way in', async () => {
      const partner = await ts.api('POST', `/api/v1/tenants/${slug}/identity-providers`, {
        body: {
          slug: 'partner',
          kind: 'oidc',
          displayName: 'Partner SSO',
          issuer: `${ts.url}/t/${upstream}`,
          clientId: 'partner-client',
          clientSecret: 'partner-secret',
        },
      });
      expect(partner.status, partner.text).toBe(201);
      const withPassword = await seedIdentity(
        `ada-${suffix}@fed.example`,
        `ada-${suffix}-correct-horse`,
        partner.body.id,
      );
      const onlyFederated = await seedIdentity(`bob-${suffix}@fed.example`, null, partner.body.id);
      const identities = async (userId: string) =>
        (await ts.api('GET', `/api/v1/tenants/${slug}/users/${userId}/identities`)).body.items as unknown[];

      await page.goto(`${ts.url}/admin/tenants/${slug}/users/${withPassword}`);
      await settle(page, `ada-${suffix}@fed.example`);
      const methods = page.getByRole('region', { name: 'Sign-in methods' });
      await visible(methods.getByText('Password'));
      await visible(methods.getByText('Set', { exact: true }));
      const identity = methods.getByRole('listitem', { name: 'Partner SSO identity' });
      await visible(identity.getByText(`sub-ada-${suffix}@fed.example`));
      await shot('user');
      await identity.getByRole('button', { name: /^Unlink Partner SSO identity/ }).click();
      const confirm = page.getByRole('dialog', { name: `Unlink Partner SSO from ada-${suffix}@fed.example?` });
      await confirm.getByRole('button', { name: 'Unlink' }).click();
      await confirm.waitFor({ state: 'detached' });
      await visible(methods.getByText('No identities at identity providers.'));
      expect(await identities(withPassword)).toEqual([]);

      await page.goto(`${ts.url}/admin/tenants/${slug}/users/${onlyFederated}`);
      await settle(page, `bob-${suffix}@fed.example`);
      await visible(methods.getByText('Not set', { exact: true }));
      await methods.getByRole('button', { name: /^Unlink Partner SSO identity/ }).click();
      const refused = page.getByRole('dialog', { name: `Unlink Partner SSO from bob-${suffix}@fed.example?` });
      await refused.getByRole('button', { name: 'Unlink' }).click();
      const alert = refused.getByRole('alert');
      await visible(alert.getByText('last_sign_in_method', { exact: false }));
      await visible(alert.getByText('This is the only way the user can sign in', { exact: false }));
      await shot('unlink-refused');
      await refused.getByRole('button', { name: 'Cancel' }).click();
      expect(await identities(onlyFederated)).toHaveLength(1);

      expect(unnamed).toEqual({});
      expect(unexpectedErrors(log, [409, 412])).toEqual([]);
      expect(log.failedResponses.map((l) => l.split(' ').slice(0, 2).join(' ')).sort()).toEqual([
        '409 DELETE',
        '412 PATCH',
      ]);
    });

    /** A user of the tenant holding one custom role, signed in to the tenant's own console. */
    async function signInWith(name: string, permissions: string[]): Promise<{ ctx: BrowserContext; p: Page }> {
      const role = await ts.api('POST', `/api/v1/tenants/${slug}/roles`, {
        body: { name: `${name}-${suffix}`, permissions: ['tenant:read', 'roles:read', ...permissions] },
      });
      expect(role.status, role.text).toBe(201);
      const email = `${name}-${suffix}@staff.example`;
      const password = `${name}-${suffix}-correct-horse`;
      const user = await ts.api('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email, password, emailVerified: true },
      });
      expect(user.status, user.text).toBe(201);
      const grant = await ts.api('PUT', `/api/v1/tenants/${slug}/users/${user.body.id}/roles/${name}-${suffix}`);
      expect(grant.status).toBe(204);
      const ctx = await browser.newContext({ viewport: desktop, locale: 'en-US' });
      ctx.setDefaultTimeout(15_000);
      const p = await ctx.newPage();
      await p.goto(`${ts.url}/admin/t/${slug}/identity-providers`);
      await signInOnPage(p, email, password);
      await settle(p, 'Identity providers');
      return { ctx, p };
    }

    it('refuses linking to an admin without tenant-wide reach (the grant rule), and adds the provider without it', async () => {
      const { ctx, p } = await signInWith('idp-writer', ['identity_providers:read', 'identity_providers:write']);
      try {
        await p.getByRole('button', { name: 'Add identity provider' }).click();
        const d = p.getByRole('dialog', { name: 'Add an identity provider' });
        await d.getByLabel('Slug').fill('writer');
        await d.getByLabel('Display name').fill('Writer SSO');
        await d.getByLabel('Issuer').fill(`${ts.url}/t/${upstream}`);
        await d.getByLabel('Client ID').fill('writer-client');
        await d.getByLabel('Client secret').fill('writer-secret');
        await d.getByRole('switch', { name: 'Allow linking' }).check();
        await d.getByRole('button', { name: 'Create identity provider' }).click();
        const alert = d.getByRole('alert').filter({ hasText: 'The identity provider was not created' });
        await visible(alert.getByText('(tenant:admin), which you do not hold', { exact: false }));
        await p.screenshot({ path: screenshotPath('identity-providers-refused.png') });
        expect((await providers()).map((x) => x.slug)).not.toContain('writer');

        await d.getByRole('switch', { name: 'Allow linking' }).uncheck();
        await d.getByRole('button', { name: 'Create identity provider' }).click();
        await settle(p, 'Writer SSO');
        expect(p.url()).toContain(`/admin/t/${slug}/identity-providers/idp_`);
        expect((await providers()).find((x) => x.slug === 'writer')).toMatchObject({ allowLink: false });
      } finally {
        await ctx.close();
      }
    });

    it('shows a reader the providers read only: nothing to add, change or delete', async () => {
      const { ctx, p } = await signInWith('idp-reader', ['identity_providers:read']);
      try {
        await visible(p.getByRole('link', { name: 'Writer SSO' }));
        await p.waitForLoadState('networkidle');
        expect(await p.getByRole('button', { name: 'Add identity provider' }).count()).toBe(0);
        await p.getByRole('link', { name: 'Writer SSO' }).click();
        await settle(p, 'Writer SSO');
        await p.waitForLoadState('networkidle');
        expect(await p.getByLabel('Display name').isDisabled()).toBe(true);
        expect(await p.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
        expect(await p.getByRole('button', { name: 'Delete' }).count()).toBe(0);
        await visible(
          p.getByRole('region', { name: 'Register Latchkey at the provider' }).getByText(redirectUri('writer')),
        );
      } finally {
        await ctx.close();
      }
    });
  },
);
