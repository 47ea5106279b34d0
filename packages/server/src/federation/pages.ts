/**
 * The pages of federated sign-in that are not the sign-in form: "link your account" (the
 * password of the existing account with the upstream's email) and, for a new email, "create
 * an account or link one you have". Server-rendered like every page (login/pages.ts), in the
 * tenant's branding, every form with the interaction's CSRF token.
 */
import { messagesFor } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import { html } from '../login/html.js';
import { layout } from '../login/pages.js';
import type { Tenant } from '../tenants/service.js';

export interface LinkView {
  action: string;
  csrf: string;
  provider: string;
  email: string;
  error?: string | undefined;
  abortUrl: string;
}

/** The existing account with the upstream's email: its password links it (and signs in). */
export function linkPage(tenant: Tenant, locale: Locale, v: LinkView): string {
  const m = messagesFor(locale);
  return layout(
    tenant,
    locale,
    m.federation.linkTitle,
    html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>${m.federation.linkBody(html`<strong>${v.provider}</strong>`, html`<strong>${v.email}</strong>`)}</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="email" value="${v.email}">
<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
<label for="password">${m.fields.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">${m.federation.linkSubmit}</button>
</form>
<p class="alt"><a href="${v.abortUrl}">${m.login.cancel}</a></p>`,
  );
}

export interface ChooseView {
  /** The form that creates the account, when the provider may. */
  createAction?: string | undefined;
  /** The form that links an account by its email and password, when the provider may. */
  linkAction?: string | undefined;
  csrf: string;
  provider: string;
  email: string | null;
  error?: string | undefined;
  abortUrl: string;
}

/** A first sign-in with a new email: create an account, or link one the user has here. */
export function choosePage(tenant: Tenant, locale: Locale, v: ChooseView): string {
  const m = messagesFor(locale);
  return layout(
    tenant,
    locale,
    m.federation.chooseTitle,
    html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>${m.federation.chooseBody(html`<strong>${v.provider}</strong>`)}</p>
${
  v.createAction
    ? html`<form method="post" action="${v.createAction}">
<input type="hidden" name="csrf" value="${v.csrf}">
<button type="submit">${m.federation.create}</button>
</form>`
    : ''
}
${
  v.linkAction
    ? html`<h2>${m.federation.linkExisting}</h2>
<p>${m.federation.linkExistingBody}</p>
<form method="post" action="${v.linkAction}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">${m.fields.email}</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${v.email ?? ''}">
<label for="password">${m.fields.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="secondary">${m.federation.linkSubmit}</button>
</form>`
    : ''
}
<p class="alt"><a href="${v.abortUrl}">${m.login.cancel}</a></p>`,
  );
}
