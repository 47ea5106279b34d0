/**
 * The sign-in, registration, consent, logout and error pages: server-rendered, working
 * without JavaScript, branded per tenant, every form with a CSRF token. Every word comes from
 * the catalog of the page's locale (i18n/), which the route chose (`requestLocale`) and which
 * the page declares (`<html lang>`).
 */
import type { FastifyInstance } from 'fastify';
import { findUnsafeRequestText } from '../http/text.js';
import { messagesFor } from '../i18n/catalog.js';
import { type Locale, requestLocale } from '../i18n/locales.js';
import type { Tenant } from '../tenants/service.js';
import { escapeHtml, html, type SafeHtml, trusted } from './html.js';

/** The content security policy of every server-rendered page: no script, no framing. */
export const pagePolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'";

/** The headers of every page here. */
export const pageHeaders: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy': pagePolicy,
};

/**
 * What every scope of server-rendered pages sets up: form bodies (up to `bodyLimit` bytes)
 * parsed to an object and nothing else, and text no store can hold the same way (a NUL in
 * the email, say) refused as it enters, with an error page.
 */
export function formPages(app: FastifyInstance, pages: Pages, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.addHook('preValidation', async (req, reply) => {
    if (!findUnsafeRequestText(req)) return;
    // Before the tenant is read: the browser's language.
    const locale = requestLocale(undefined, req.headers);
    return reply
      .code(400)
      .headers(pageHeaders)
      .send(pages.error(undefined, locale, 'invalid_request', messagesFor(locale).problems.unsafeText));
  });
}

/** Where the busy page's link goes, cut out of its rendering (`Pages.busyAround`). */
const backUrlSlot = '\u0000back\u0000';

const styles = (color: string) => `
:root { --brand: ${color}; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f5f7; color: #1c1e21; }
main { max-width: 400px; margin: 8vh auto; padding: 32px; background: #fff; border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
h1 { font-size: 1.4rem; margin: 0 0 4px; }
.tenant { color: #5f6368; margin: 0 0 24px; }
.logo { max-height: 48px; max-width: 200px; display: block; margin-bottom: 16px; }
label { display: block; font-weight: 600; margin: 16px 0 6px; }
input[type=email], input[type=password], input[type=text] { width: 100%; padding: 10px 12px; font-size: 1rem; border: 1px solid #c4c7cc; border-radius: 8px; }
input:focus, button:focus, a:focus { outline: 3px solid color-mix(in srgb, var(--brand) 45%, transparent); outline-offset: 1px; }
button { width: 100%; margin-top: 24px; padding: 11px; font-size: 1rem; font-weight: 600; color: #fff; background: var(--brand); border: 0; border-radius: 8px; cursor: pointer; }
button.secondary { background: #fff; color: #1c1e21; border: 1px solid #c4c7cc; margin-top: 12px; }
.error { background: #fdecea; color: #8a1c12; padding: 10px 12px; border-radius: 8px; margin: 16px 0 0; }
.message { background: #eef4ff; padding: 10px 12px; border-radius: 8px; }
.alt { margin-top: 20px; text-align: center; }
ul.scopes { padding-left: 20px; }
a { color: var(--brand); }
.providers { margin-top: 20px; }
.providers p { text-align: center; color: #5f6368; margin: 0 0 4px; }
a.provider { display: flex; align-items: center; justify-content: center; gap: 8px; margin-top: 8px; padding: 10px; font-weight: 600; color: #1c1e21; text-decoration: none; border: 1px solid #c4c7cc; border-radius: 8px; }
a.provider img { width: 20px; height: 20px; }
`;

export function layout(tenant: Tenant, locale: Locale, title: string, body: SafeHtml): string {
  const b = tenant.settings.branding;
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${tenant.displayName}</title>
<style>${trusted(styles(b.primaryColor))}</style>
</head>
<body>
<main>
${b.logoUrl ? html`<img class="logo" src="${b.logoUrl}" alt="${tenant.displayName}">` : ''}
<h1>${title}</h1>
<p class="tenant">${tenant.displayName}</p>
${body}
</main>
</body>
</html>`.value;
}

export interface LoginView {
  action: string;
  csrf: string;
  email?: string;
  error?: string;
  /** A message that is not an error (after registering). */
  notice?: string;
  clientName?: string;
  registerUrl?: string;
  /** The "Forgot password?" form. */
  forgotUrl?: string;
  abortUrl: string;
  /** A button (a link) per enabled identity provider (federation/). */
  providers?: ProviderButton[];
  /**
   * What the form asks: `password` (email and password), `email` (the tenant signs in through
   * providers only, and an email's domain routes to one: email and Continue), or `none`.
   */
  form?: 'password' | 'email' | 'none';
}

export interface ProviderButton {
  url: string;
  label: string;
  iconUrl: string | null;
}

export interface ForgotView {
  action: string;
  csrf: string;
  error?: string;
  /** Back to the sign-in form it came from, if any. */
  backUrl?: string;
}

export interface ResetView {
  action: string;
  csrf: string;
  /** The link's secret, carried by the form (never in the page's URL after this). */
  token: string;
  email: string;
  error?: string;
  minLength: number;
}

export interface RegisterView {
  action: string;
  csrf: string;
  email?: string;
  name?: string;
  error?: string;
  loginUrl: string;
  minLength: number;
}

export interface ConsentView {
  action: string;
  csrf: string;
  clientName: string;
  scopes: string[];
  resources: string[];
  abortUrl: string;
}

export class Pages {
  login(tenant: Tenant, locale: Locale, v: LoginView): string {
    const m = messagesFor(locale);
    const message = tenant.settings.branding.loginMessage;
    return layout(
      tenant,
      locale,
      m.login.title,
      html`
${message ? html`<p class="message">${message}</p>` : ''}
${v.clientName ? html`<p>${m.login.continueTo(html`<strong>${v.clientName}</strong>`)}</p>` : ''}
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${v.notice ? html`<p class="message" role="status">${v.notice}</p>` : ''}
${
  (v.form ?? 'password') === 'none'
    ? html`<p>${m.login.noPasswords}</p>`
    : html`${v.form === 'email' ? html`<p>${m.login.noPasswordsEmail}</p>` : ''}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">${m.fields.email}</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus value="${v.email ?? ''}">
${
  v.form === 'email'
    ? html`<button type="submit">${m.login.continue}</button>`
    : html`<label for="password">${m.fields.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">${m.login.submit}</button>`
}
</form>`
}
${v.providers?.length ? providerButtons(locale, v.providers, (v.form ?? 'password') !== 'none') : ''}
${v.forgotUrl ? html`<p class="alt"><a href="${v.forgotUrl}">${m.login.forgot}</a></p>` : ''}
${v.registerUrl ? html`<p class="alt">${m.login.noAccount} <a href="${v.registerUrl}">${m.login.createOne}</a></p>` : ''}
<p class="alt"><a href="${v.abortUrl}">${m.login.cancel}</a></p>`,
    );
  }

  register(tenant: Tenant, locale: Locale, v: RegisterView): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.register.title,
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">${m.fields.email}</label>
<input id="email" name="email" type="email" autocomplete="email" required autofocus value="${v.email ?? ''}">
<label for="name">${m.fields.name}</label>
<input id="name" name="name" type="text" autocomplete="name" value="${v.name ?? ''}">
<label for="password">${m.fields.password}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.minLength}" aria-describedby="pw-hint">
<p id="pw-hint" class="tenant">${m.register.passwordHint(v.minLength)}</p>
<button type="submit">${m.register.submit}</button>
</form>
<p class="alt">${m.register.haveAccount} <a href="${v.loginUrl}">${m.register.signIn}</a></p>`,
    );
  }

  consent(tenant: Tenant, locale: Locale, v: ConsentView): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.consent.title,
      html`
<p>${m.consent.asks(html`<strong>${v.clientName}</strong>`)}</p>
<ul class="scopes">${v.scopes.map((s) => html`<li>${scopeLabel(locale, s)}</li>`)}${v.resources.map(
        (r) => html`<li>${m.consent.resource(r)}</li>`,
      )}</ul>
<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<button type="submit" name="decision" value="allow">${m.consent.allow}</button>
<button type="submit" name="decision" value="deny" class="secondary">${m.consent.deny}</button>
</form>`,
    );
  }

  /** oidc-provider's logout confirmation; `form` is its own markup with its xsrf field. */
  logout(tenant: Tenant, locale: Locale, form: string): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.logout.title,
      html`
<p>${m.logout.question(tenant.displayName)}</p>
${trusted(form)}
<button type="submit" form="op.logoutForm" name="logout" value="yes">${m.logout.submit}</button>
<button type="submit" form="op.logoutForm" class="secondary">${m.logout.stay}</button>`,
    );
  }

  forgot(tenant: Tenant, locale: Locale, v: ForgotView): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.forgot.title,
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>${m.forgot.intro}</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">${m.fields.email}</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus>
<button type="submit">${m.forgot.submit}</button>
</form>
${v.backUrl ? html`<p class="alt"><a href="${v.backUrl}">${m.forgot.backToSignIn}</a></p>` : ''}`,
    );
  }

  /** The same answer whether or not the address has an account. */
  forgotSent(tenant: Tenant, locale: Locale, backUrl: string | undefined): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.forgotSent.title,
      html`<p class="message" role="status">${m.forgotSent.body}</p>
${backUrl ? html`<p class="alt"><a href="${backUrl}">${m.forgot.backToSignIn}</a></p>` : ''}`,
    );
  }

  reset(tenant: Tenant, locale: Locale, v: ResetView): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.reset.title,
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>${m.reset.forAccount(html`<strong>${v.email}</strong>`)}</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="token" value="${v.token}">
<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
<label for="password">${m.reset.newPassword}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.minLength}" autofocus>
<label for="confirm">${m.reset.newPasswordAgain}</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">${m.reset.submit}</button>
</form>`,
    );
  }

  resetDone(tenant: Tenant, locale: Locale): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.resetDone.title,
      html`<p class="message" role="status">${m.resetDone.body}</p>${accountLink(tenant, locale)}`,
    );
  }

  /** What a verification link opens: a button, so that a mail scanner's GET uses nothing. */
  verify(tenant: Tenant, locale: Locale, v: { action: string; csrf: string; token: string; email: string }): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.verify.title,
      html`<p>${m.verify.confirmThat(html`<strong>${v.email}</strong>`)}</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="token" value="${v.token}">
<button type="submit">${m.verify.submit}</button>
</form>`,
    );
  }

  /**
   * After a right password, for a tenant that requires verified emails: the message again,
   * or the code it holds, which signs in.
   */
  verifyFirst(
    tenant: Tenant,
    locale: Locale,
    v: { action: string; csrf: string; proof: string; error?: string; notice?: string },
  ): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.verifyFirst.title,
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${v.notice ? html`<p class="message" role="status">${v.notice}</p>` : ''}
<p>${m.verifyFirst.body}</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="proof" value="${v.proof}">
<label for="code">${m.fields.code}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus>
<button type="submit" name="action" value="code">${m.verifyFirst.submit}</button>
<button type="submit" name="action" value="resend" class="secondary" formnovalidate>${m.verifyFirst.resend}</button>
</form>`,
    );
  }

  /** Where a verification code is typed, on any device (the message names this page). */
  verifyCode(
    tenant: Tenant,
    locale: Locale,
    v: { action: string; csrf: string; email?: string; error?: string },
  ): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.verifyCode.title,
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>${m.verifyCode.body}</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">${m.fields.email}</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${v.email ?? ''}">
<label for="code">${m.fields.code}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
<button type="submit">${m.verifyCode.submit}</button>
</form>`,
    );
  }

  verified(tenant: Tenant, locale: Locale): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.verified.title,
      html`<p class="message" role="status">${m.verified.body}</p>${accountLink(tenant, locale)}`,
    );
  }

  /** A reset link that is used, expired, tampered with or another tenant's. */
  linkInvalid(tenant: Tenant, locale: Locale, forgotUrl: string | undefined): string {
    const m = messagesFor(locale);
    return layout(
      tenant,
      locale,
      m.linkInvalid.title,
      html`<p class="error" role="alert">${m.linkInvalid.body}</p>
${forgotUrl ? html`<p class="alt"><a href="${forgotUrl}">${m.linkInvalid.askAgain}</a></p>` : html`<p>${m.linkInvalid.elsewhere}</p>`}`,
    );
  }

  loggedOut(tenant: Tenant, locale: Locale): string {
    const m = messagesFor(locale);
    return layout(tenant, locale, m.loggedOut.title, html`<p>${m.loggedOut.body}</p>${accountLink(tenant, locale)}`);
  }

  /**
   * The answer to a client address that tried something too often (HTTP 429, sent with
   * `Retry-After`); for every such limit, on any page.
   */
  tooManyRequests(tenant: Tenant, locale: Locale, retryAfterSeconds: number): string {
    const m = messagesFor(locale);
    const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
    return layout(
      tenant,
      locale,
      m.tooManyRequests.title,
      html`<p class="error" role="alert">${m.tooManyRequests.body(minutes)}</p>`,
    );
  }

  /** Too many attempts wait for a password check (429): the form is not lost, just early. */
  busy(tenant: Tenant, locale: Locale, retryAfterSeconds: number, backUrl: string): string {
    const [before, after] = this.busyAround(tenant, locale, retryAfterSeconds);
    return `${before}${escapeHtml(backUrl)}${after}`;
  }

  /**
   * The busy page in two halves, before and after the (HTML-escaped) URL of its link back to
   * the form: what depends on the tenant, the locale and the delay only, rendered once and kept
   * (login/admission.ts), so that a refusal costs no rendering.
   */
  busyAround(tenant: Tenant, locale: Locale, retryAfterSeconds: number): [before: string, after: string] {
    const m = messagesFor(locale);
    const page = layout(
      tenant,
      locale,
      m.busy.title,
      html`<p class="error" role="alert">${m.busy.body(retryAfterSeconds)}</p>
<p class="alt"><a href="${trusted(backUrlSlot)}">${m.busy.back}</a></p>`,
    );
    // The slot is the page's last interpolation: nothing a tenant chose comes after it.
    const at = page.lastIndexOf(backUrlSlot);
    return [page.slice(0, at), page.slice(at + backUrlSlot.length)];
  }

  /** `description`: what happened, in `locale` where it is ours (a protocol error's may be English). */
  error(tenant: Tenant | undefined, locale: Locale, code: string, description: string): string {
    const m = messagesFor(locale);
    const t: Tenant =
      tenant ??
      ({
        displayName: 'Latchkey',
        settings: { branding: { primaryColor: '#1f6feb', logoUrl: null, loginMessage: null } },
      } as Tenant);
    return layout(
      t,
      locale,
      m.error.title,
      html`<p class="error" role="alert">${description || m.error.fallback}</p>
<p class="tenant">${m.error.code} <code>${code}</code></p>`,
    );
  }
}

/** The identity providers' buttons under the sign-in form: links, so they work without JavaScript. */
function providerButtons(locale: Locale, providers: ProviderButton[], afterForm = true) {
  return html`<div class="providers">
${afterForm ? html`<p>${messagesFor(locale).federation.or}</p>` : ''}
${providers.map(
  (p) =>
    html`<a class="provider" href="${p.url}">${p.iconUrl ? html`<img src="${p.iconUrl}" alt="">` : ''}${p.label}</a>`,
)}
</div>`;
}

/** What a scope lets the application do, in `locale`; another scope (an API's) by its name. */
function scopeLabel(locale: Locale, scope: string): string {
  const labels = messagesFor(locale).consent.scopes;
  return Object.hasOwn(labels, scope) ? labels[scope as keyof typeof labels] : scope;
}

/** "Manage your account": the tenant's account page (accounts/account-page.ts), in the page's language. */
function accountLink(tenant: Tenant, locale: Locale) {
  const query = locale === tenant.settings.defaultLocale ? '' : `?ui_locales=${locale}`;
  return html`<p class="alt"><a href="/t/${tenant.slug}/account${query}">${messagesFor(locale).manageAccount}</a></p>`;
}
