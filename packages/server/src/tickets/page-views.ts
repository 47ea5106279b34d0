/**
 * The ticket page's markup (/t/{slug}/tickets/{secret}): the type's welcome (with its
 * agreement), the choice of account (accept as the signed-in user, sign in, or create an
 * account where the type or the tenant allows it), and the answers for a ticket that cannot
 * be used (with "Request a new invitation" for an expired one).
 */

import { fallbackLocale } from '../i18n/locales.js';
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

export function ticketWelcome(tenant: Tenant, welcome: Welcome, v: Form): string {
  return layout(
    tenant,
    fallbackLocale,
    welcome.title || 'You are invited',
    html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${
  welcome.body
    ? welcome.body.split(/\n{2,}/).map((para) => html`<p>${para}</p>`)
    : html`<p>You have been invited to ${tenant.displayName}.</p>`
}
<form method="post" action="${v.base}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
${welcome.agreementRequired ? html`<label><input type="checkbox" name="agree" value="yes" required> I agree</label>` : ''}
<button type="submit">${welcome.okText || 'Continue'}</button>
</form>`,
  );
}

export interface ChoiceView extends Form {
  /** The user signed in on this browser (the account page's session), if any. */
  signedInAs?: string;
  /** The registration form, where the type or the tenant allows it; the email fixed when the ticket names one. */
  register?: { email?: string; minLength: number; name?: string; typedEmail?: string };
}

export function ticketChoice(tenant: Tenant, v: ChoiceView): string {
  const hidden = html`<input type="hidden" name="csrf" value="${v.csrf}">`;
  return layout(
    tenant,
    fallbackLocale,
    'Accept the invitation',
    html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${
  v.signedInAs
    ? html`<form method="post" action="${v.base}/accept" novalidate>${hidden}
<p>You are signed in as <strong>${v.signedInAs}</strong>.</p>
<button type="submit">Accept as ${v.signedInAs}</button>
</form>
<form method="post" action="${v.base}/signin" novalidate>${hidden}
<button type="submit" class="secondary">Use another account</button>
</form>`
    : html`<form method="post" action="${v.base}/signin" novalidate>${hidden}
<p>Have an account here? Sign in to accept the invitation with it.</p>
<button type="submit">Sign in</button>
</form>`
}
${
  v.register
    ? html`<h2 style="font-size:1.1rem;margin-top:28px">Create an account</h2>
<form method="post" action="${v.base}/register" novalidate>${hidden}
<label for="email">Email</label>
${
  v.register.email
    ? html`<input id="email" name="email" type="email" autocomplete="username" value="${v.register.email}" readonly>`
    : html`<input id="email" name="email" type="email" autocomplete="username" required value="${v.register.typedEmail ?? ''}">`
}
<label for="name">Name</label>
<input id="name" name="name" type="text" autocomplete="name" value="${v.register.name ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.register.minLength}" aria-describedby="pw-hint">
<p id="pw-hint" class="tenant">At least ${v.register.minLength} characters.</p>
<button type="submit">Create the account and accept</button>
</form>`
    : ''
}`,
  );
}

const refusals: Record<TicketRefusal, string> = {
  invalid: 'This invitation link is not valid. Check that you opened the whole link from the message.',
  used: 'This invitation has been used already.',
  disabled: 'This invitation has been withdrawn.',
  reissued: 'A newer invitation replaced this one: use the link in the newest message.',
  expired: 'This invitation has expired.',
};

export function ticketRefused(
  tenant: Tenant,
  reason: TicketRefusal,
  v: { base: string; csrf: string; reissue?: 'offer' | 'requested'; continueUrl?: string | null },
): string {
  return layout(
    tenant,
    fallbackLocale,
    'This invitation does not work',
    html`<p class="error" role="alert">${refusals[reason]}</p>
${
  v.reissue === 'offer'
    ? html`<form method="post" action="${v.base}/reissue" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<p>The people who invited you can send you a new one.</p>
<button type="submit">Request a new invitation</button>
</form>`
    : v.reissue === 'requested'
      ? html`<p class="message" role="status">You have asked for a new invitation. It comes by email once it is sent.</p>`
      : ''
}
${v.continueUrl ? html`<p class="alt"><a href="${v.continueUrl}">Continue</a></p>` : ''}`,
  );
}
