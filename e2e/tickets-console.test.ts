/**
 * Invitation tickets in the admin console, end to end in headless Chromium against a real server
 * (SQLite): the system admin creates a ticket type granting a role, issues a batch pasted as text
 * (trimmed, blank lines and a repeat left out), watches the bar and the result rows, downloads the
 * links as CSV, meets "skipped" on a second batch and the guard that keeps unsaved links from
 * being left behind; a batch of 1,201 keys goes in chunks of 500, and a refused one (the type
 * turned off meanwhile) stops the rest until, the type turned on in its settings, they are sent
 * again. A CSV file gives its first column, without its header row. The list filters by state and
 * foreign key and disables a selected ticket; the reissue queue answers a request in one click;
 * the settings save with If-Match; deleting the type asks first. An admin who may only read
 * tickets sees no action that would change anything.
 *
 * Screenshots go to test-results/screenshots/tickets-*.png; phone screens must not scroll sideways.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
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
  hasChromium ? 'tickets in the admin console (Chromium)' : `tickets in the admin console: ${skipMessage}`,
  { timeout: 60_000 },
  () => {
    let ts: TestServer;
    let browser: Browser;
    const slug = `tickets-${suffix}`;
    const typeName = `Partners ${suffix}`;
    const unnamed: Record<string, string[]> = {};
    const base = () => `/api/v1/tenants/${slug}`;

    beforeAll(async () => {
      buildConsole();
      [ts, browser] = await Promise.all([startTestServer('sqlite'), launchChromium()]);
      const tenant = await ts.api('POST', '/api/v1/tenants', { body: { slug, displayName: `Tickets ${suffix}` } });
      expect(tenant.status).toBe(201);
      const role = await ts.api('POST', `${base()}/roles`, { body: { name: 'member', permissions: ['users:read'] } });
      expect(role.status, role.text).toBe(201);
    }, 240_000);
    afterAll(async () => {
      await browser?.close();
      await ts?.close();
    });

    /** Toasts sit over the bottom of the page (the save bar): closed before a shot or a click there. */
    async function closeToasts(page: Page) {
      for (const close of await page.getByRole('button', { name: 'Close notification' }).all()) {
        await close.click().catch(() => {});
      }
      await page
        .locator('.mantine-Notification-root')
        .first()
        .waitFor({ state: 'detached', timeout: 2000 })
        .catch(() => {});
    }

    async function shot(page: Page, name: string) {
      const found = await unnamedControls(page);
      if (found.length > 0) unnamed[name] = found;
      await closeToasts(page);
      await page.screenshot({ path: screenshotPath(`tickets-${name}.png`) });
    }

    const row = (page: Page, text: string) => page.getByRole('row').filter({ hasText: text });
    const tickets = async (typeId: string, query = '') =>
      (await ts.api('GET', `${base()}/ticket-types/${typeId}/tickets${query}`)).body.items as {
        id: string;
        foreignKey: string;
        state: string;
      }[];

    describe('a system admin', () => {
      let context: BrowserContext;
      let page: Page;
      let log: ConsoleLog;
      let typeId = '';
      let adaUrl = '';

      beforeAll(async () => {
        context = await browser.newContext({ viewport: desktop, acceptDownloads: true, locale: 'en-US' });
        context.setDefaultTimeout(15_000);
        log = watchConsole(context);
        page = await context.newPage();
        await page.goto(`${ts.url}/admin/tenants/${slug}/tickets`);
        await signInOnPage(page, ts.adminEmail, ts.adminPassword);
        await settle(page, 'Tickets');
      });
      afterEach(async (ctx) => {
        if (ctx.task.result?.state === 'fail') {
          await page.screenshot({ path: screenshotPath(`tickets-failed-${ctx.task.id}.png`) }).catch(() => {});
        }
      });
      afterAll(async () => {
        await context?.close();
      });

      it('creates a ticket type granting a role, and lands on its Issue tab', async () => {
        await visible(page.getByText('No ticket types yet: create one to issue tickets.'));
        await page.getByRole('button', { name: 'Create ticket type' }).click();
        const dialog = page.getByRole('dialog', { name: 'Create a ticket type' });
        await dialog.getByLabel(/^Name/).fill(typeName);
        await dialog.getByLabel('Description', { exact: true }).fill('People from our partners');
        await dialog.getByLabel('Roles', { exact: true }).click();
        await page.getByRole('option', { name: 'member' }).click();
        await dialog.getByLabel('Each ticket works for', { exact: true }).fill('3');
        await dialog.getByLabel('Unit of each ticket works for').selectOption('days');
        await shot(page, 'create');
        await dialog.getByRole('button', { name: 'Create ticket type' }).click();
        await settle(page, typeName);
        expect(new URL(page.url()).searchParams.get('tab')).toBe('issue');
        typeId = page.url().match(/\/tickets\/(ttp_[^/?]+)/)?.[1] ?? '';
        expect(typeId).not.toBe('');
        const stored = await ts.api('GET', `${base()}/ticket-types/${typeId}`);
        expect(stored.body).toMatchObject({
          name: typeName,
          description: 'People from our partners',
          roles: ['member'],
          validityHours: 72,
          enabled: true,
          allowUserCreation: false,
        });
      });

      it('issues a batch pasted as text: the bar, one row per key with its link, and the CSV', async () => {
        const posts: string[][] = [];
        page.on('request', (r) => {
          if (r.method() === 'POST' && r.url().endsWith(`/ticket-types/${typeId}/tickets`)) {
            posts.push((r.postDataJSON() as { foreignKeys: string[] }).foreignKeys);
          }
        });
        await page
          .getByLabel('Foreign keys')
          .fill('  ada@e2e.example \n\ncrm-1042\n\n   \nbob@e2e.example\nADA@e2e.example\n');
        await visible(page.getByText('3 keys · 1 repeat left out'));
        await page.getByRole('button', { name: 'Issue 3 tickets' }).click();
        await visible(page.getByRole('heading', { name: 'Batch issued' }));
        const bar = page.getByRole('progressbar', { name: 'Keys issued' });
        expect(await bar.getAttribute('aria-valuenow')).toBe('3');
        expect(await bar.getAttribute('aria-valuetext')).toBe('3 of 3 keys');
        expect(posts).toEqual([['ada@e2e.example', 'crm-1042', 'bob@e2e.example']]);

        const results = page.getByRole('table', { name: 'Issued tickets' });
        for (const key of ['ada@e2e.example', 'crm-1042', 'bob@e2e.example']) {
          await visible(row(page, key).getByText('Issued', { exact: true }).filter({ visible: true }));
          const link = await results.getByLabel(`Link for ${key}`, { exact: true }).textContent();
          expect(link).toMatch(new RegExp(`^${ts.url}/t/${slug}/tickets/[A-Za-z0-9_-]{43}$`));
          if (key === 'ada@e2e.example') adaUrl = link ?? '';
        }
        await visible(page.getByRole('button', { name: 'Copy link for crm-1042' }));
        await shot(page, 'issued');

        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Download CSV' }).click(),
        ]);
        expect(download.suggestedFilename()).toMatch(/^tickets-partners-[a-z0-9]+-\d{4}-\d{2}-\d{2}-\d{4}\.csv$/);
        const csv = readFileSync((await download.path()) as string, 'utf8')
          .trimEnd()
          .split('\r\n');
        expect(csv[0]).toBe('foreignKey,result,ticketId,url');
        expect(csv.slice(1).map((l) => l.split(',').slice(0, 2))).toEqual([
          ['ada@e2e.example', 'issued'],
          ['crm-1042', 'issued'],
          ['bob@e2e.example', 'issued'],
        ]);
        expect(csv[1]?.split(',')[3]).toBe(adaUrl);
        await visible(page.getByText('Links downloaded'));
      });

      it('skips a key whose ticket still works, and asks before leaving links not downloaded', async () => {
        await page.getByRole('button', { name: 'Issue another batch' }).click();
        await page.getByLabel('Foreign keys', { exact: true }).fill('crm-1042\ncarol@e2e.example');
        await page.getByRole('button', { name: 'Issue 2 tickets' }).click();
        await visible(page.getByRole('heading', { name: 'Batch issued' }));
        await visible(row(page, 'crm-1042').getByText('Skipped', { exact: true }).filter({ visible: true }));
        await visible(row(page, 'crm-1042').getByText('Its ticket still works: no new link'));
        await visible(row(page, 'carol@e2e.example').getByText('Issued', { exact: true }).filter({ visible: true }));
        await visible(page.getByText('1 issued, 1 skipped').first());

        // Leaving the page now would lose carol's link: the console asks first.
        await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Tickets' }).click();
        const guard = page.getByRole('dialog', { name: 'Leave without the links?' });
        await visible(guard);
        await shot(page, 'leave-guard');
        await guard.getByRole('button', { name: 'Stay' }).click();
        await guard.waitFor({ state: 'detached' });
        expect(new URL(page.url()).pathname).toBe(`/admin/tenants/${slug}/tickets/${typeId}`);
        await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Tickets' }).click();
        await page
          .getByRole('dialog', { name: 'Leave without the links?' })
          .getByRole('button', { name: 'Leave anyway' })
          .click();
        await settle(page, 'Tickets');
        await visible(row(page, typeName).getByText('Enabled'));
        await shot(page, 'types');
      });

      it('sends 1,201 keys in three requests; a refused one stops the rest, which go when sent again', async () => {
        await page.getByRole('link', { name: typeName }).click();
        await settle(page, typeName);
        await page.getByRole('tab', { name: 'Issue tickets' }).click();
        const keys = Array.from({ length: 1201 }, (_, i) => `emp-${String(i + 1).padStart(4, '0')}`);
        await page.getByLabel('Foreign keys', { exact: true }).fill(keys.join('\n'));
        await visible(page.getByText('1,201 keys'));

        // The second request waits until the bar has been seen at 500, and meanwhile the type is
        // turned off: the server refuses that chunk (409 ticket_type_disabled).
        const sizes: number[] = [];
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const hold = async (route: Route) => {
          if (route.request().method() !== 'POST') return route.continue();
          const body = route.request().postDataJSON() as { foreignKeys: string[] };
          sizes.push(body.foreignKeys.length);
          if (sizes.length === 2) await gate;
          await route.continue();
        };
        await page.route(`**/api/v1/tenants/${slug}/ticket-types/${typeId}/tickets`, hold);
        await page.getByRole('button', { name: 'Issue 1,201 tickets' }).click();
        const bar = page.getByRole('progressbar', { name: 'Keys issued' });
        await expect.poll(() => bar.getAttribute('aria-valuenow')).toBe('500');
        await visible(page.getByRole('heading', { name: 'Issuing…' }));
        expect(await bar.getAttribute('aria-valuetext')).toBe('500 of 1,201 keys');
        await visible(page.getByRole('button', { name: 'Stop after this group' }));
        await shot(page, 'progress');
        const off = await ts.api('PATCH', `${base()}/ticket-types/${typeId}`, { body: { enabled: false } });
        expect(off.status, off.text).toBe(200);
        release();

        await visible(page.getByRole('heading', { name: 'Batch stopped by an error' }));
        const alert = page.getByRole('alert').filter({ hasText: 'A group of keys was refused' });
        await visible(alert.getByText('ticket_type_disabled'));
        await visible(alert.getByText('500 keys were answered before it; the other 701 were not issued.'));
        expect(await bar.getAttribute('aria-valuenow')).toBe('500');
        await shot(page, 'refused');
        expect(sizes).toEqual([500, 500]);
        expect(await tickets(typeId, '?limit=200&foreignKey=emp-0501')).toEqual([]);

        // The page now knows the type is off: turned on in its settings, the rest can go. Changing
        // tabs keeps the batch and its links.
        const disabled = page.getByRole('alert').filter({ hasText: 'This type is disabled' });
        await visible(disabled);
        expect(await page.getByRole('button', { name: 'Send the other 701 keys' }).count()).toBe(0);
        await disabled.getByRole('button', { name: 'Open the settings' }).click();
        await page.getByRole('switch', { name: 'Enabled' }).check();
        await page.getByRole('button', { name: 'Save changes' }).click();
        await visible(page.getByText(`Ticket type ${typeName} saved`));
        await closeToasts(page);
        await page.getByRole('tab', { name: 'Issue tickets' }).click();
        await visible(page.getByText('500 keys were answered before it; the other 701 were not issued.'));
        await page.getByRole('button', { name: 'Send the other 701 keys' }).click();
        await visible(page.getByRole('heading', { name: 'Batch issued' }));
        expect(await bar.getAttribute('aria-valuetext')).toBe('1,201 of 1,201 keys');
        expect(sizes).toEqual([500, 500, 500, 201]);
        await visible(page.getByText('Issued (1,201)'));
        // Fifty rows a page.
        expect(await page.getByRole('table', { name: 'Issued tickets' }).locator('tbody tr').count()).toBe(50);
        await page.getByRole('button', { name: 'Next' }).click();
        await visible(row(page, 'emp-0051'));
        await page.unroute(`**/api/v1/tenants/${slug}/ticket-types/${typeId}/tickets`, hold);
        for (const key of ['emp-0001', 'emp-0501', 'emp-1201']) {
          expect((await tickets(typeId, `?foreignKey=${key}`)).map((t) => t.state)).toEqual(['usable']);
        }
        // Downloaded, the links may be left.
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('button', { name: 'Download CSV' }).click(),
        ]);
        expect(
          readFileSync((await download.path()) as string, 'utf8')
            .trimEnd()
            .split('\r\n'),
        ).toHaveLength(1202);
      });

      it('lists the tickets, filters them by state and foreign key, and disables a selected one', async () => {
        await page.getByRole('tab', { name: 'Tickets', exact: true }).click();
        const list = page.getByRole('table', { name: `Tickets of ${typeName}` });
        // 1,206 tickets, fifty a page.
        await expect.poll(() => list.locator('tbody tr').count()).toBe(50);
        await visible(page.getByRole('button', { name: 'Next' }));
        await page.getByRole('combobox', { name: 'State' }).click();
        await page.getByRole('option', { name: 'Used' }).click();
        await visible(page.getByText('No ticket matches these filters.'));
        expect(new URL(page.url()).searchParams.get('state')).toBe('used');
        await page.getByRole('combobox', { name: 'State' }).click();
        // A slow machine (the CPU 20 times slower): the router renders the state's change as a
        // transition, still pending when the key is typed; the key must not bring "Used" back.
        const cdp = await page.context().newCDPSession(page);
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 });
        await page.getByRole('option', { name: 'Any state' }).click();
        // An email address matches in any case (the API normalises it); other keys exactly.
        await page.getByLabel('Foreign key', { exact: true }).fill('ADA@E2E.example');
        await visible(row(page, 'ada@e2e.example'), 30_000);
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
        await cdp.detach();
        expect(new URL(page.url()).searchParams.get('state')).toBeNull();
        await expect.poll(() => list.locator('tbody tr').count()).toBe(1);
        await page.getByLabel('Foreign key', { exact: true }).fill('crm-1042');
        await visible(row(page, 'crm-1042'));
        await expect.poll(() => list.locator('tbody tr').count()).toBe(1);
        await page.getByRole('checkbox', { name: 'Select crm-1042' }).check();
        await visible(page.getByRole('region', { name: 'Actions on selected tickets' }).getByText('1 selected'));
        await shot(page, 'list-selected');
        await page.getByRole('button', { name: 'Disable selected' }).click();
        const confirm = page.getByRole('dialog', { name: 'Disable the ticket of crm-1042?' });
        await confirm.getByRole('button', { name: 'Disable' }).click();
        await confirm.waitFor({ state: 'detached' });
        await visible(page.getByText('1 ticket disabled'));
        await visible(row(page, 'crm-1042').getByText('Disabled', { exact: true }));
        expect((await tickets(typeId, '?foreignKey=crm-1042')).map((t) => t.state)).toEqual(['disabled']);

        await page.getByLabel('Foreign key', { exact: true }).fill('');
        await page.getByRole('combobox', { name: 'State' }).click();
        await page.getByRole('option', { name: 'Disabled' }).click();
        await expect.poll(() => list.locator('tbody tr').count()).toBe(1);
        await visible(row(page, 'crm-1042'));
        await shot(page, 'list-disabled');
      });

      it('answers a reissue request in one click and shows the new link once', async () => {
        const ada = (await tickets(typeId, '?foreignKey=ada@e2e.example'))[0];
        expect(ada?.state).toBe('usable');
        await ts.server.ctx.database.db
          .updateTable('tickets')
          .set({ expires_at: Date.now() - 1000 })
          .where('id', '=', ada?.id as string)
          .execute();
        const tenant = (await ts.server.ctx.tenants.findBySlug(slug)) as Tenant;
        const secret = adaUrl.split('/').pop() as string;
        expect(await ts.server.ctx.tickets.requestReissue(tenant, secret)).toEqual({
          ok: true,
          alreadyRequested: false,
        });

        await page.goto(`${ts.url}/admin/tenants/${slug}/tickets?tab=requests`);
        await settle(page, 'Tickets');
        const request = row(page, 'ada@e2e.example');
        await visible(request.getByRole('link', { name: typeName }));
        await shot(page, 'requests');
        await request.getByRole('button', { name: 'Reissue the ticket of ada@e2e.example' }).click();
        const modal = page.getByRole('dialog', { name: 'New ticket link' });
        const link = await modal.getByLabel('Ticket link', { exact: true }).textContent();
        expect(link).toMatch(new RegExp(`^${ts.url}/t/${slug}/tickets/[A-Za-z0-9_-]{43}$`));
        expect(link).not.toBe(adaUrl);
        await visible(modal.getByText('The invitation with this link is on its way to that address.'));
        await shot(page, 'reissued');
        await modal.getByRole('button', { name: 'I have copied it' }).click();
        await visible(page.getByText('Nobody is waiting for a new ticket.'));
        const states = (await tickets(typeId, '?foreignKey=ada@e2e.example')).map((t) => t.state);
        expect(states).toEqual(['usable', 'reissued']);
      });

      it('saves the settings with If-Match, and says "changed meanwhile" when someone saved first', async () => {
        await page.goto(`${ts.url}/admin/tenants/${slug}/tickets/${typeId}?tab=settings`);
        await settle(page, typeName);
        const version = (await ts.api('GET', `${base()}/ticket-types/${typeId}`)).body.version as number;
        await page.getByLabel('Welcome title').fill('Welcome aboard');
        await page.getByLabel('Ask to tick “I agree” before going on').check();
        await page.getByLabel('After use, go to').fill('http://app.example.com/');
        await page.getByRole('button', { name: 'Save changes' }).click();
        await visible(page.getByText('https, or http on localhost and 127.0.0.1'));
        await page.getByLabel('After use, go to').fill(`${ts.url}/t/${slug}/account`);
        const patch = page.waitForRequest((r) => r.method() === 'PATCH' && r.url().endsWith(`/ticket-types/${typeId}`));
        await page.getByRole('button', { name: 'Save changes' }).click();
        const sent = await patch;
        expect(sent.headers()['if-match']).toBe(`"${version}"`);
        expect(sent.postDataJSON()).toEqual({
          postUseUrl: `${ts.url}/t/${slug}/account`,
          welcome: { title: 'Welcome aboard', agreementRequired: true },
        });
        await visible(page.getByText(`Ticket type ${typeName} saved`));
        await closeToasts(page);
        const stored = (await ts.api('GET', `${base()}/ticket-types/${typeId}`)).body;
        expect(stored.welcome).toEqual({ title: 'Welcome aboard', body: '', okText: '', agreementRequired: true });

        await page.getByLabel('Description', { exact: true }).fill('Mine');
        const theirs = await ts.api('PATCH', `${base()}/ticket-types/${typeId}`, { body: { description: 'Theirs' } });
        expect(theirs.status).toBe(200);
        await page.getByRole('button', { name: 'Save changes' }).click();
        await visible(page.getByText('Changed meanwhile'));
        await page.getByRole('button', { name: 'Reload' }).click();
        await expect.poll(() => page.getByLabel('Description', { exact: true }).inputValue()).toBe('Theirs');
        await shot(page, 'settings');
      });

      it('fits a phone without scrolling sideways', async () => {
        await page.setViewportSize(phone);
        for (const [url, title, name] of [
          [`/admin/tenants/${slug}/tickets`, 'Tickets', 'types-phone'],
          [`/admin/tenants/${slug}/tickets/${typeId}`, typeName, 'list-phone'],
          [`/admin/tenants/${slug}/tickets/${typeId}?tab=settings`, typeName, 'settings-phone'],
        ] as const) {
          await page.goto(`${ts.url}${url}`);
          await settle(page, title);
          expect(await sidewaysScrolling(page), name).toEqual([]);
          await shot(page, name);
        }
        await page.getByRole('tab', { name: 'Issue tickets' }).click();
        // A CSV file: its first column, the header row left out.
        await page.locator('input[type="file"]').setInputFiles({
          name: 'invite.csv',
          mimeType: 'text/csv',
          buffer: Buffer.from('email,name\r\ndora@e2e.example,Dora\r\n"emp-9999",Emp\r\n'),
        });
        await visible(page.getByText('From invite.csv: its first column, under the header “email”'));
        expect(await page.getByLabel('Foreign keys', { exact: true }).inputValue()).toBe('dora@e2e.example\nemp-9999');
        await page.getByRole('button', { name: 'Issue 2 tickets' }).click();
        await visible(page.getByRole('heading', { name: 'Batch issued' }));
        await visible(row(page, 'dora@e2e.example'));
        expect(await sidewaysScrolling(page), 'issue-phone').toEqual([]);
        await page.getByRole('table', { name: 'Issued tickets' }).scrollIntoViewIfNeeded();
        await shot(page, 'issued-phone');
        await page.getByRole('button', { name: 'Download CSV' }).click();
        await page.setViewportSize(desktop);
      });

      it('deletes the type after its name is typed, saying that its tickets go with it', async () => {
        await page.goto(`${ts.url}/admin/tenants/${slug}/tickets/${typeId}`);
        await settle(page, typeName);
        await page.getByRole('button', { name: 'Delete' }).click();
        const confirm = page.getByRole('dialog', { name: `Delete ${typeName}?` });
        await visible(confirm.getByText(/Every ticket of this type is deleted with it/));
        const button = confirm.getByRole('button', { name: 'Delete ticket type' });
        expect(await button.isDisabled()).toBe(true);
        await confirm.getByLabel(/Type .* to confirm/).fill(typeName);
        await shot(page, 'delete');
        await button.click();
        await settle(page, 'Tickets');
        await visible(page.getByText(`Ticket type ${typeName} deleted`));
        expect((await ts.api('GET', `${base()}/ticket-types/${typeId}`)).status).toBe(404);
      });

      it('kept the browser console clean and every control named', () => {
        // The refused chunk (409), the bad URL is caught before sending, the stale save (412).
        expect(unexpectedErrors(log, [409, 412]), log.failedResponses.join('\n')).toEqual([]);
        expect(unnamed).toEqual({});
      });
    });

    describe('an admin who may only read tickets', () => {
      let context: BrowserContext;
      let page: Page;
      const email = `viewer-${suffix}@e2e.example`;
      const password = `Viewer-${suffix}-correct-horse`;
      const readName = `Read only ${suffix}`;
      let readTypeId = '';

      beforeAll(async () => {
        const role = await ts.api('POST', `${base()}/roles`, {
          body: { name: `ticket-viewer-${suffix}`, permissions: ['tenant:read', 'roles:read', 'tickets:read'] },
        });
        expect(role.status, role.text).toBe(201);
        const user = await ts.api('POST', `${base()}/users`, { body: { email, password, emailVerified: true } });
        expect(user.status, user.text).toBe(201);
        const grant = await ts.api('PUT', `${base()}/users/${user.body.id}/roles/ticket-viewer-${suffix}`);
        expect(grant.status).toBe(204);
        const type = await ts.api('POST', `${base()}/ticket-types`, { body: { name: readName } });
        expect(type.status, type.text).toBe(201);
        readTypeId = type.body.id;
        const issued = await ts.api('POST', `${base()}/ticket-types/${readTypeId}/tickets`, {
          body: { foreignKeys: ['visitor-1'] },
        });
        expect(issued.status, issued.text).toBe(200);
        context = await browser.newContext({ viewport: desktop, locale: 'en-US' });
        context.setDefaultTimeout(15_000);
        page = await context.newPage();
        await page.goto(`${ts.url}/admin/t/${slug}/tickets`);
        await signInOnPage(page, email, password);
        await settle(page, 'Tickets');
      });
      afterAll(async () => {
        await context?.close();
      });

      it('sees the types, their tickets and settings, but nothing that changes them', async () => {
        await visible(row(page, readName));
        expect(await page.getByRole('button', { name: 'Create ticket type' }).count()).toBe(0);
        await page.getByRole('link', { name: readName }).click();
        await settle(page, readName);
        await visible(row(page, 'visitor-1').getByText('Usable'));
        expect(await page.getByRole('tab', { name: 'Issue tickets' }).count()).toBe(0);
        expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
        expect(await page.getByRole('checkbox', { name: 'Select visitor-1' }).count()).toBe(0);
        expect(await page.getByRole('button', { name: 'Reissue the ticket of visitor-1' }).count()).toBe(0);
        await shot(page, 'read-only-list');
        await page.getByRole('tab', { name: 'Settings' }).click();
        await visible(page.getByText('Changing ticket types needs the permission tickets:write.'));
        expect(await page.getByRole('button', { name: 'Save changes' }).count()).toBe(0);
        expect(await page.getByLabel(/^Name/).isDisabled()).toBe(true);
        await shot(page, 'read-only-settings');
        // ?tab=issue typed by hand shows the tickets instead.
        await page.goto(`${ts.url}/admin/t/${slug}/tickets/${readTypeId}?tab=issue`);
        await settle(page, readName);
        expect(await page.getByLabel('Foreign keys', { exact: true }).count()).toBe(0);
        await visible(row(page, 'visitor-1'));
      });
    });
  },
);
