/**
 * The pages' and emails' language (issue 11) through the real thing: a Latchkey server on each
 * database and a real SMTP server. The sign-in page in German when the application asks
 * (`ui_locales`), when the browser does (`Accept-Language`), and when the tenant's default says
 * so; in English for a language that does not ship; the choice carried on to the
 * forgot-password pages and to the messages they and the registration form send; the account
 * page and the ticket page; the setting's validation; the error page oidc-provider renders;
 * the discovery document.
 * The rule itself, as a table, is in languages.rules.test.ts.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorizationRequest, authorize, discover } from './helpers/oidc.js';
import { type ApiClient, startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';

const redirectUri = 'http://127.0.0.1:9/callback';
const german = { 'accept-language': 'de-DE,de;q=0.9' };

const langOf = (page: Page) => /<html lang="([^"]*)">/.exec(page.html)?.[1];
const linkOf = (page: Page, text: string) => {
  const href = new RegExp(`<a href="([^"]*)">${text}</a>`).exec(page.html)?.[1];
  if (!href) throw new Error(`no link "${text}" on ${page.url}`);
  return new URL(href.replace(/&amp;/g, '&'), page.url);
};

describe.each(dialects)('languages of pages and emails (%s)', (dialect) => {
  let smtp: TestSmtp;
  let ts: TestServer;

  interface Tenant {
    slug: string;
    api: ApiClient;
    config: oidc.Configuration;
  }

  /** A tenant with a first-party web app and these settings. */
  async function tenant(settings: Record<string, unknown> = {}): Promise<Tenant> {
    const t = await tenantWithAdmin(ts);
    const patch = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, {
      body: { displayName: 'Sprachtest', settings },
    });
    expect(patch.status, patch.text).toBe(200);
    const app = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'web', name: 'Sprach-App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(app.status, app.text).toBe(201);
    return { slug: t.slug, api: t.api, config: await discover(ts, t.slug, app.body) };
  }

  /** The sign-in page of an authorization request with `params`, in a browser sending `headers`. */
  async function signInPage(t: Tenant, params: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const request = await authorizationRequest(t.config, redirectUri, params);
    const browser = new Browser(headers);
    const page = await browser.go(request.url);
    expect(page.status, page.html.slice(0, 300)).toBe(200);
    expect(page.url.pathname).toMatch(/\/interaction\/[\w-]+$/);
    return { browser, page };
  }

  const expectGermanSignIn = (page: Page) => {
    expect(langOf(page)).toBe('de');
    expect(page.html).toContain('<label for="email">E-Mail</label>');
    expect(page.html).toContain('<label for="password">Passwort</label>');
    expect(page.html).toContain('<button type="submit">Anmelden</button>');
    expect(page.html).toContain('Passwort vergessen?');
    expect(page.html).not.toContain('Sign in');
  };
  const expectEnglishSignIn = (page: Page) => {
    expect(langOf(page)).toBe('en');
    expect(page.html).toContain('<label for="email">Email</label>');
    expect(page.html).toContain('<button type="submit">Sign in</button>');
  };

  beforeAll(async () => {
    smtp = await startSmtp();
    ts = await startTestServer(dialect, { SMTP_URL: smtp.url, EMAIL_FROM: 'Latchkey <auth@latchkey.test>' });
  });
  afterAll(async () => {
    await ts?.close();
    await smtp?.stop();
  });

  it('shows the sign-in page in German when the authorization request asks with ui_locales', async () => {
    const t = await tenant();
    const { page } = await signInPage(t, { ui_locales: 'fr-CA de-CH en' });
    expectGermanSignIn(page);
    expect(page.html).toContain('um mit <strong>Sprach-App</strong> fortzufahren');
    // ui_locales comes before the browser's language.
    expectGermanSignIn((await signInPage(t, { ui_locales: 'de' }, { 'accept-language': 'en' })).page);
    expectEnglishSignIn((await signInPage(t, { ui_locales: 'en' }, german)).page);
  });

  it('shows it in German for a browser that asks for German, in English for one that asks for French', async () => {
    const t = await tenant();
    expectGermanSignIn((await signInPage(t, {}, german)).page);
    expectEnglishSignIn((await signInPage(t, {}, { 'accept-language': 'fr' })).page);
    expectEnglishSignIn((await signInPage(t)).page);
  });

  it('shows it in the tenant’s default language when nothing else chooses one that ships', async () => {
    const t = await tenant({ defaultLocale: 'de' });
    const got = await t.api('GET', `/api/v1/tenants/${t.slug}`);
    expect(got.body.settings.defaultLocale).toBe('de');
    expectGermanSignIn((await signInPage(t)).page);
    expectGermanSignIn((await signInPage(t, {}, { 'accept-language': 'fr' })).page);
    expectEnglishSignIn((await signInPage(t, {}, { 'accept-language': 'en-GB' })).page);
    // A wrong password's answer is in the same language.
    const { browser, page } = await signInPage(t);
    const wrong = await browser.submit(page, { email: 'nobody@example.test', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('E-Mail-Adresse oder Passwort ist falsch.');
  });

  it('keeps defaultLocale to the languages that ship, English unless set', async () => {
    const t = await tenantWithAdmin(ts);
    const fresh = await t.api('GET', `/api/v1/tenants/${t.slug}`);
    expect(fresh.body.settings.defaultLocale).toBe('en');
    for (const bad of ['fr', 'DE', 'de-CH', '', null]) {
      const res = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { settings: { defaultLocale: bad } } });
      expect(res.status, `${String(bad)}: ${res.text}`).toBe(400);
    }
    const ok = await t.api('PATCH', `/api/v1/tenants/${t.slug}`, { body: { settings: { defaultLocale: 'de' } } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.settings.defaultLocale).toBe('de');
  });

  it('sends the forgot-password message in the form’s language, and opens its link in the browser’s', async () => {
    const t = await tenant();
    const email = `vergessen-${dialect}@example.test`;
    const created = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email, password: 'first password 123' },
    });
    expect(created.status, created.text).toBe(201);

    const browser = new Browser(german);
    const form = await browser.go(`${ts.url}/t/${t.slug}/account/forgot`);
    expect(langOf(form)).toBe('de');
    expect(form.html).toContain('Passwort zurücksetzen');
    const sent = await browser.submit(form, { email });
    expect(sent.status).toBe(200);
    expect(langOf(sent)).toBe('de');
    expect(sent.html).toContain('Sehen Sie in Ihren E-Mails nach');

    const message = await smtp.messageTo(email);
    expect(message.subject).toBe('Sprachtest: Passwort zurücksetzen');
    expect(message.text).toContain('Neues Passwort wählen');
    expect(message.html).toContain('<html lang="de">');
    const link = /https?:\/\/\S+\/account\/reset\?token=[A-Za-z0-9_-]+/.exec(message.text)?.[0];
    expect(link, message.text).toBeTruthy();
    const reset = await browser.go(link as string);
    expect(reset.status).toBe(200);
    expect(langOf(reset)).toBe('de');
    expect(reset.html).toContain('<label for="password">Neues Passwort</label>');
    const mismatch = await browser.submit(reset, { password: 'a new password 456', confirm: 'another one 789' });
    expect(mismatch.html).toContain('Die beiden Passwörter stimmen nicht überein.');
    const weak = await browser.submit(reset, { password: 'short', confirm: 'short' });
    expect(weak.html).toContain('Das Passwort ist zu kurz. Verwenden Sie mindestens 8 Zeichen.');
    const done = await browser.submit(reset, { password: 'a new password 456', confirm: 'a new password 456' });
    expect(done.status).toBe(200);
    expect(done.html).toContain('Passwort geändert');
    const changed = await smtp.messageTo(email, 2);
    expect(changed.subject).toBe('Sprachtest: Ihr Passwort wurde geändert');
  });

  it('carries the application’s ui_locales from the sign-in page to the forgot-password pages and message', async () => {
    const t = await tenant();
    const email = `ui-locales-${dialect}@example.test`;
    const created = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email, password: 'first password 123' },
    });
    expect(created.status, created.text).toBe(201);
    // A browser that prefers English, an application that asks for German.
    const { browser, page } = await signInPage(t, { ui_locales: 'de' }, { 'accept-language': 'en' });
    const forgotUrl = linkOf(page, 'Passwort vergessen\\?');
    expect(forgotUrl.searchParams.get('ui_locales')).toBe('de');
    const form = await browser.go(forgotUrl);
    expect(langOf(form)).toBe('de');
    const sent = await browser.submit(form, { email });
    expect(sent.url.searchParams.get('sent')).toBe('1');
    expect(sent.url.searchParams.get('ui_locales')).toBe('de');
    expect(langOf(sent)).toBe('de');
    // Back to the same sign-in form, still German.
    const back = await browser.go(linkOf(sent, 'Zurück zur Anmeldung'));
    expectGermanSignIn(back);
    expect((await smtp.messageTo(email)).subject).toBe('Sprachtest: Passwort zurücksetzen');
  });

  it('sends the registration’s verification message in the registration page’s language', async () => {
    const t = await tenant({ selfRegistration: true });
    const email = `neu-${dialect}@example.test`;
    const { browser, page } = await signInPage(t, { ui_locales: 'de' });
    const form = await browser.go(linkOf(page, 'Jetzt anlegen'));
    expect(langOf(form)).toBe('de');
    expect(form.html).toContain('Mindestens 8 Zeichen.');
    const weak = await browser.submit(form, { email, password: 'short' });
    expect(weak.html).toContain('Das Passwort ist zu kurz.');
    const registered = await browser.submit(weak, { email, password: 'a fine new password' });
    expect(langOf(registered)).toBe('de');
    expect(registered.html).toContain('Sehen Sie in Ihrem Posteingang nach');
    const message = await smtp.messageTo(email);
    expect(message.subject).toBe('Sprachtest: Bestätigen Sie Ihre E-Mail-Adresse');
    // The verification page, opened in a German browser.
    const link = /https?:\/\/\S+\/account\/verify\?token=[A-Za-z0-9_-]+/.exec(message.text)?.[0];
    const confirm = await new Browser(german).go(link as string);
    expect(langOf(confirm)).toBe('de');
    expect(confirm.html).toContain('<button type="submit">Bestätigen</button>');
  });

  it('sends messages no page caused (an admin’s reset link) in the tenant’s default language', async () => {
    const t = await tenant({ defaultLocale: 'de' });
    const email = `admin-reset-${dialect}@example.test`;
    const created = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email, password: 'first password 123' },
    });
    expect(created.status, created.text).toBe(201);
    const sent = await t.api('POST', `/api/v1/tenants/${t.slug}/users/${created.body.id}/password-reset`);
    expect(sent.status, sent.text).toBe(202);
    const message = await smtp.messageTo(email);
    expect(message.subject).toBe('Sprachtest: Passwort zurücksetzen');
    expect(message.html).toContain('<html lang="de">');
  });

  it('previews the branded sign-in page in the language asked for, else the tenant’s default', async () => {
    const t = await tenant({ defaultLocale: 'de' });
    const preview = (body: Record<string, unknown>) =>
      t.api('POST', `/api/v1/tenants/${t.slug}/branding-preview`, { body });
    const byDefault = await preview({});
    expect(byDefault.status, byDefault.text).toBe(200);
    expect(byDefault.text).toContain('<html lang="de">');
    expect(byDefault.text).toContain('<button type="submit">Anmelden</button>');
    const english = await preview({ locale: 'en' });
    expect(english.text).toContain('<button type="submit">Sign in</button>');
    expect((await preview({ locale: 'fr' })).status).toBe(400);
  });

  it('asks to sign out in the language of the end-session request’s ui_locales', async () => {
    const t = await tenant();
    const who = { email: `abmelden-${dialect}@example.test`, password: 'signs out in german' };
    const created = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, { body: who });
    expect(created.status, created.text).toBe(201);
    const browser = new Browser();
    await authorize(t.config, browser, redirectUri, who);
    const confirm = await browser.go(oidc.buildEndSessionUrl(t.config, { ui_locales: 'de' }));
    expect(confirm.status).toBe(200);
    expect(langOf(confirm)).toBe('de');
    expect(confirm.html).toContain('Möchten Sie sich von Sprachtest abmelden?');
    expect(confirm.html).toContain('Angemeldet bleiben');
    expect(confirm.html).toContain('name="xsrf"');
  });

  it('shows the account page in the language of its ui_locales, through its sign-in and its forms', async () => {
    const t = await tenant();
    const who = { email: `konto-${dialect}@example.test`, password: 'my account in german' };
    const created = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { ...who, emailVerified: true },
    });
    expect(created.status, created.text).toBe(201);
    // An English browser; the application links to the page asking for German.
    const browser = new Browser({ 'accept-language': 'en' });
    const signIn = await browser.go(`${ts.url}/t/${t.slug}/account?ui_locales=de`);
    expectGermanSignIn(signIn);
    const page = await browser.submit(signIn, who);
    expect(page.url.pathname).toBe(`/t/${t.slug}/account`);
    expect(page.url.searchParams.get('ui_locales')).toBe('de');
    expect(langOf(page)).toBe('de');
    expect(page.html).toContain('<h1>Ihr Konto</h1>');
    expect(page.html).toContain('Wo Sie angemeldet sind');
    expect(page.html).toContain('dieser Browser');
    expect(page.html).toContain('Angemeldet am');
    // A form's answer and the page it goes back to keep the language.
    const saved = await browser.submit(page, { name: 'Grete' });
    expect(saved.url.searchParams.get('done')).toBe('profile');
    expect(langOf(saved)).toBe('de');
    expect(saved.html).toContain('Ihr Profil ist gespeichert.');
    const wrong = await browser.submit(
      saved,
      { current: 'not my password', password: 'a new password 456', confirm: 'a new password 456' },
      { action: '/password' },
    );
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('Das ist nicht Ihr aktuelles Passwort.');
    // Without ui_locales, the browser's language.
    expect(langOf(await browser.go(`${ts.url}/t/${t.slug}/account`))).toBe('en');
    expect(langOf(await new Browser(german).go(`${ts.url}/t/${t.slug}/account`))).toBe('de');
  });

  it('shows the ticket page in the browser’s language, with the words a ticket type left empty', async () => {
    const t = await tenant();
    const type = await t.api('POST', `/api/v1/tenants/${t.slug}/ticket-types`, {
      body: { name: 'Einladung', allowUserCreation: true, welcome: { agreementRequired: true } },
    });
    expect(type.status, type.text).toBe(201);
    const issued = await t.api('POST', `/api/v1/tenants/${t.slug}/ticket-types/${type.body.id}/tickets`, {
      body: { foreignKeys: [`eingeladen-${dialect}@example.test`] },
    });
    expect(issued.status, issued.text).toBe(200);
    const url = issued.body.items[0].url as string;
    const browser = new Browser(german);
    const welcome = await browser.go(url);
    expect(welcome.status).toBe(200);
    expect(langOf(welcome)).toBe('de');
    expect(welcome.html).toContain('Sie sind eingeladen');
    expect(welcome.html).toContain('Sie wurden zu Sprachtest eingeladen.');
    expect(welcome.html).toContain('Ich stimme zu');
    const refused = await browser.submit(welcome, {});
    expect(refused.html).toContain('Setzen Sie das Häkchen, um zuzustimmen, bevor Sie fortfahren.');
    const choice = await browser.submit(welcome, { agree: 'yes' });
    expect(langOf(choice)).toBe('de');
    expect(choice.html).toContain('Einladung annehmen');
    expect(choice.html).toContain('Konto anlegen und annehmen');
    const tampered = await browser.go(`${url.slice(0, -4)}AAAA`);
    expect(tampered.html).toContain('Diese Einladung funktioniert nicht');
    // The same page in English for an English browser.
    expect((await new Browser({ 'accept-language': 'en' }).go(url)).html).toContain('You are invited');
  });

  it('renders oidc-provider’s error page in the browser’s language, and lists the languages in discovery', async () => {
    const t = await tenant();
    const url = new URL(`${ts.url}/t/${t.slug}/auth`);
    url.search = new URLSearchParams({
      client_id: 'cli_nonexistent',
      response_type: 'code',
      scope: 'openid',
    }).toString();
    const res = await fetch(url, { headers: german, redirect: 'manual' });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain('<html lang="de">');
    expect(body).toContain('Etwas ist schiefgelaufen');
    expect(body).toContain('Fehlercode:');
    const discovery = await fetch(`${ts.url}/t/${t.slug}/.well-known/openid-configuration`);
    const metadata = (await discovery.json()) as { ui_locales_supported?: string[] };
    expect(metadata.ui_locales_supported).toEqual(['en', 'de']);
  });
});
