/**
 * Driving the admin console in headless Chromium: build it when stale, sign in through the real
 * sign-in page, wait for a screen to settle, take screenshots, and collect what the browser
 * console reports so that a test can assert it stayed clean.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Locator, Page } from 'playwright-core';

export {
  hasChromium,
  launchChromium,
  screenshotPath,
  skipMessage,
} from '../../packages/server/test/helpers/chromium.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Builds packages/admin/dist unless it is newer than its sources (scripts/build-admin.mjs decides). */
export function buildConsole(): void {
  const result = spawnSync(process.execPath, ['scripts/build-admin.mjs'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`building the admin console failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

export const desktop = { width: 1280, height: 800 };
export const phone = { width: 390, height: 844 };

/** What the browser console reported: errors, uncaught exceptions, and failed loads (with status). */
export interface ConsoleLog {
  /** Every error line, as text. */
  errors: string[];
  /** Responses with status ≥ 400 the page fetched: "404 GET http://…". */
  failedResponses: string[];
}

/** Starts collecting console errors, page errors and 4xx/5xx responses of every page of `context`. */
export function watchConsole(context: BrowserContext): ConsoleLog {
  const log: ConsoleLog = { errors: [], failedResponses: [] };
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') log.errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => log.errors.push(`pageerror: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) log.failedResponses.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
  };
  for (const page of context.pages()) watch(page);
  context.on('page', watch);
  return log;
}

/**
 * The errors that matter: "Failed to load resource" lines are Chromium's echo of a 4xx/5xx
 * response; those are dropped only when `allowStatus` lists the status (a deliberate probe).
 */
export function unexpectedErrors(log: ConsoleLog, allowStatus: number[] = []): string[] {
  return log.errors.filter((line) => {
    const m = /Failed to load resource: the server responded with a status of (\d{3})/.exec(line);
    return !(m && allowStatus.includes(Number(m[1])));
  });
}

/** On the tenant's sign-in page: fills the form by its labels and signs in. */
export async function signInOnPage(page: Page, email: string, password: string): Promise<void> {
  await page.waitForURL(/\/t\/[^/]+\/interaction\//, { timeout: 15_000 });
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Waits until the current screen has loaded: its h1 is visible (matching `title` when given),
 * and no loader, skeleton or busy table remains.
 */
export async function settle(page: Page, title?: string | RegExp): Promise<void> {
  const heading = page.getByRole('heading', { level: 1, ...(title ? { name: title } : {}) }).first();
  await heading.waitFor({ state: 'visible', timeout: 15_000 });
  await page.waitForFunction(
    () =>
      !document.querySelector(
        '[aria-busy="true"], .mantine-Skeleton-root, .mantine-Loader-root, [aria-label="Loading"], [aria-label="Updating"]',
      ),
    undefined,
    { timeout: 15_000 },
  );
  // Mantine's transitions (modals closing, notifications) last up to ~200 ms.
  await page.waitForTimeout(250);
}

/**
 * Visible controls (buttons, links, form fields) without an accessible name: an icon button a
 * screen reader announces as just "button". A plain approximation of the accessible name
 * computation: aria-label, aria-labelledby, a <label>, title, text, an image's alt, a value.
 */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const selector =
      'button, a[href], input:not([type="hidden"]), select, textarea, [role="button"], [role="link"], [role="checkbox"], [role="switch"], [role="tab"], [role="combobox"], [role="menuitem"]';
    const text = (el: Element | null) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
    const nameOf = (el: Element): string => {
      const aria = el.getAttribute('aria-label')?.trim();
      if (aria) return aria;
      const by = el.getAttribute('aria-labelledby');
      if (by) {
        const t = by
          .split(/\s+/)
          .map((id) => text(document.getElementById(id)))
          .join(' ')
          .trim();
        if (t) return t;
      }
      const labels = (el as HTMLInputElement).labels;
      if (labels && labels.length > 0) {
        const t = Array.from(labels).map(text).join(' ').trim();
        if (t) return t;
      }
      const title = el.getAttribute('title')?.trim();
      if (title) return title;
      if (el instanceof HTMLInputElement && ['submit', 'button', 'reset'].includes(el.type) && el.value)
        return el.value;
      if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement)) {
        const t = text(el);
        if (t) return t;
        const alt = Array.from(el.querySelectorAll('img[alt]'))
          .map((i) => i.getAttribute('alt')?.trim())
          .filter(Boolean)
          .join(' ');
        if (alt) return alt;
      }
      return '';
    };
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll(selector))) {
      if (!(el as HTMLElement).checkVisibility?.()) continue;
      if (el.closest('[aria-hidden="true"]')) continue;
      if (nameOf(el)) continue;
      const html = el.outerHTML.replace(/\s+/g, ' ');
      out.push(html.length > 200 ? `${html.slice(0, 200)}…` : html);
    }
    return out;
  });
}

/**
 * What scrolls sideways on the page: the document itself, and every scroll container around a
 * table whose content is wider than it (scrollWidth past clientWidth). Empty when all fits.
 */
export function sidewaysScrolling(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth + 1) out.push(`document: ${root.scrollWidth} > ${root.clientWidth}`);
    for (const table of Array.from(document.querySelectorAll('table'))) {
      if (!table.checkVisibility()) continue;
      for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
        const overflow = getComputedStyle(el).overflowX;
        if ((overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
          const name = table.querySelector('caption')?.textContent?.trim() || 'table';
          out.push(`${name}: ${el.scrollWidth} > ${el.clientWidth}`);
          break;
        }
      }
    }
    return out;
  });
}

/** Waits for the locator (one element) to be visible; fails with what it was looking for. */
export async function visible(locator: Locator, timeout = 15_000): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout });
}

/** The console's session in this tab (sessionStorage), or null. */
export function storedSession(page: Page, tenant: string): Promise<{ accessToken: string } | null> {
  return page.evaluate((key) => {
    const raw = window.sessionStorage.getItem(key);
    return raw ? (JSON.parse(raw) as { accessToken: string }) : null;
  }, `latchkey.admin.session.${tenant}`);
}

/** A fetch from inside the page (same origin, as the console would make it); answers status and text. */
export function fetchInPage(
  page: Page,
  path: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; text: string }> {
  return page.evaluate(
    async ({ path, token, method, body }) => {
      const res = await fetch(path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    },
    { path, token, method: init.method ?? 'GET', body: init.body },
  );
}
