/**
 * The ticket page's markup (/t/{slug}/tickets/{secret}): the type's welcome (with its
 * agreement), the choice of account (accept as the signed-in user, sign in, or create an
 * account where the type or the tenant allows it), and the answers for a ticket that cannot
 * be used (with "Request a new invitation" for an expired one). The words are the catalog's of
 * `locale` (i18n/), but for the welcome's own, which the ticket type's admin wrote.
 */
import { messagesFor } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import { html } from '../login/html.js';
import { layout } from '../login/pages.js';
import type { Tenant } from '../tenants/service.js';
import type { TicketRefusal } from './service.js';
import type { Welcome } from './types.js';

interface Form {
  base: string;
  csrf: string;
  error?: string;
}

export function ticketWelcome(tenant: Tenant, locale: Locale, welcome: Welcome, v: Form): string {
  const m = messagesFor(locale).ticket;
  return layout(
    tenant,
    locale,
    welcome.title || m.invited,
    html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${
  welcome.body
    ? welcome.body.split(/\n{2,}/).map((para) => html`<p>${para}</p>`)
    : html`<p>${m.invitedTo(tenant.displayName)}</p>`
}
<form method="post" action="${v.base}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
${welcome.agreementRequired ? html`<label><input type="checkbox" name="agree" value="yes" required> ${m.agree}</label>` : ''}
<button type="submit">${welcome.okText || m.continue}</button>
</form>`,
  );
}

export interface ChoiceView extends Form {
  /** The user signed in on this browser (the account page's session), if any. */
  signedInAs?: string;
  /** The address the invitation names, when the signed-in user's is another: only that account may accept. */
  invitedEmail?: string;
  /** The registration form, where the type or the tenant allows it; the email fixed when the ticket names one. */
  register?: { email?: string; minLength: number; name?: string; typedEmail?: string };
}

export function ticketChoice(tenant: Tenant, locale: Locale, v: ChoiceView): string {
  const t = messagesFor(locale);
  const m = t.ticket;
  const hidden = html`<input type="hidden" name="csrf" value="${v.csrf}">`;
  return layout(
    tenant,
    locale,
    m.acceptTitle,
    html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${
  v.signedInAs && v.invitedEmail
    ? html`<form method="post" action="${v.base}/signin" novalidate>${hidden}
<p>${m.forAnother(html`<strong>${v.invitedEmail}</strong>`, html`<strong>${v.signedInAs}</strong>`)}</p>
<button type="submit">${m.signInAs(v.invitedEmail)}</button>
</form>`
    : v.signedInAs
      ? html`<form method="post" action="${v.base}/accept" novalidate>${hidden}
<p>${m.signedInAs(html`<strong>${v.signedInAs}</strong>`)}</p>
<button type="submit">${m.acceptAs(v.signedInAs)}</button>
</form>
<form method="post" action="${v.base}/signin" novalidate>${hidden}
<button type="submit" class="secondary">${m.otherAccount}</button>
</form>`
      : html`<form method="post" action="${v.base}/signin" novalidate>${hidden}
<p>${m.haveAccount}</p>
<button type="submit">${m.signIn}</button>
</form>`
}
${
  v.register
    ? html`<h2 style="font-size:1.1rem;margin-top:28px">${m.createTitle}</h2>
<form method="post" action="${v.base}/register" novalidate>${hidden}
<label for="email">${t.fields.email}</label>
${
  v.register.email
    ? html`<input id="email" name="email" type="email" autocomplete="username" value="${v.register.email}" readonly>`
    : html`<input id="email" name="email" type="email" autocomplete="username" required value="${v.register.typedEmail ?? ''}">`
}
<label for="name">${t.fields.name}</label>
<input id="name" name="name" type="text" autocomplete="name" value="${v.register.name ?? ''}">
<label for="password">${t.fields.password}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.register.minLength}" aria-describedby="pw-hint">
<p id="pw-hint" class="tenant">${t.register.passwordHint(v.register.minLength)}</p>
<button type="submit">${m.createSubmit}</button>
</form>`
    : ''
}`,
  );
}

export function ticketRefused(
  tenant: Tenant,
  locale: Locale,
  reason: TicketRefusal,
  v: { base: string; csrf: string; reissue?: 'offer' | 'requested'; continueUrl?: string | null },
): string {
  const m = messagesFor(locale).ticket;
  const refusals: Record<TicketRefusal, string> = m.refusals;
  return layout(
    tenant,
    locale,
    m.refusedTitle,
    html`<p class="error" role="alert">${refusals[reason]}</p>
${
  v.reissue === 'offer'
    ? html`<form method="post" action="${v.base}/reissue" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<p>${m.reissueIntro}</p>
<button type="submit">${m.reissueSubmit}</button>
</form>`
    : v.reissue === 'requested'
      ? html`<p class="message" role="status">${m.reissueRequested}</p>`
      : ''
}
${v.continueUrl ? html`<p class="alt"><a href="${v.continueUrl}">${m.continue}</a></p>` : ''}`,
  );
}

/** After registering with an address the invitation did not name: the same page, new address or taken. */
export function ticketRegistered(tenant: Tenant, locale: Locale): string {
  const m = messagesFor(locale).ticket;
  return layout(tenant, locale, m.registeredTitle, html`<p class="message" role="status">${m.registered}</p>`);
}
