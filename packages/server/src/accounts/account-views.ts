/**
 * The account page's markup (/t/{slug}/account): one page of sections, each a form of its own
 * that posts to its own path with the CSRF token, working without JavaScript and on a phone.
 * Its words are the catalog's of `locale` (i18n/); its forms carry the page's `ui_locales` on.
 */

import type { SignInMethods } from '../federation/account-links.js';
import { messagesFor } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import { html, type SafeHtml } from '../login/html.js';
import { layout } from '../login/pages.js';
import type { Tenant } from '../tenants/service.js';
import { withQuery } from './forms.js';
import type { SessionView } from './self-service.js';

export interface AccountView {
  base: string;
  locale: Locale;
  /** The `ui_locales` the page was asked with, for its forms' actions. */
  ui?: Locale | undefined;
  csrf: string;
  email: string;
  emailVerified: boolean;
  /** Without one (an account made by a provider): no password fields; a recent sign-in instead. */
  hasPassword: boolean;
  /** The tenant's setting: off, no password section (sign-in is through its providers only). */
  passwordSignIn: boolean;
  displayName: string | null;
  minLength: number;
  sessions: SessionView[];
  /** The password and the identities at the tenant's providers; what may be linked. */
  methods: SignInMethods;
  activity: { at: string; action: string; outcome: string; ip: string | null; reason: string | null }[];
  selfDeletion: boolean;
  notice?: string;
  error?: string;
}

const sectionStyles = html`<style>
main { max-width: 560px; }
section { border-top: 1px solid #e3e5e8; margin-top: 28px; padding-top: 8px; }
h2 { font-size: 1.1rem; margin: 12px 0 4px; }
h3 { font-size: 1rem; margin: 16px 0 4px; }
ul.plain { list-style: none; padding: 0; margin: 8px 0 0; }
ul.plain li { padding: 8px 0; border-bottom: 1px solid #f0f1f3; }
.muted { color: #5f6368; font-size: .9rem; }
.badge { display: inline-block; font-size: .8rem; padding: 1px 8px; border-radius: 10px; background: #e6f4ea; color: #137333; }
.badge.warn { background: #fef7e0; color: #8a5a00; }
button.danger { background: #b3261e; }
</style>`;

/** "14 Mar 2026, 09:30 UTC" (as the catalog writes dates): the server knows no time zone of the reader. */
function when(intlLocale: string, iso: string | null): string {
  if (!iso) return '—';
  return `${new Date(iso).toLocaleString(intlLocale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })} UTC`;
}

export function accountPage(tenant: Tenant, v: AccountView): string {
  const t = messagesFor(v.locale);
  const m = t.account;
  const at = (iso: string | null) => when(m.intlLocale, iso);
  const labels: Record<string, { ok: string; failed: string } | undefined> = m.activity;
  const form = (path: string, body: SafeHtml) =>
    html`<form method="post" action="${withQuery(`${v.base}/${path}`, { ui_locales: v.ui })}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
${body}
</form>`;
  return layout(
    tenant,
    v.locale,
    m.title,
    html`${sectionStyles}
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${v.notice ? html`<p class="message" role="status">${v.notice}</p>` : ''}
<p><strong>${v.displayName ?? v.email}</strong><br><span class="muted">${v.email}</span>
${v.emailVerified ? html`<span class="badge">${m.confirmed}</span>` : html`<span class="badge warn">${m.notConfirmed}</span>`}</p>
${
  v.emailVerified
    ? ''
    : form('verification', html`<button type="submit" class="secondary">${m.resendConfirmation}</button>`)
}

<section aria-labelledby="profile">
<h2 id="profile">${m.profileTitle}</h2>
${form(
  'profile',
  html`<label for="name">${t.fields.name}</label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="200" value="${v.displayName ?? ''}">
<button type="submit">${m.save}</button>`,
)}
</section>

<section aria-labelledby="email-h">
<h2 id="email-h">${m.emailTitle}</h2>
<p class="muted">${m.emailIntro}</p>
${form(
  'email',
  html`<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
<label for="new-email">${m.newEmail}</label>
<input id="new-email" name="email" type="email" autocomplete="email" required>
${
  v.hasPassword
    ? html`<label for="email-password">${m.yourPassword}</label>
<input id="email-password" name="password" type="password" autocomplete="current-password" required>`
    : ''
}
<button type="submit">${m.changeEmail}</button>`,
)}
</section>

${
  v.passwordSignIn
    ? html`<section aria-labelledby="password-h">
<h2 id="password-h">${m.passwordTitle}</h2>
<p class="muted">${v.hasPassword ? m.passwordIntro : m.noPasswordIntro}</p>
${form(
  'password',
  html`<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
${
  v.hasPassword
    ? html`<label for="current">${m.currentPassword}</label>
<input id="current" name="current" type="password" autocomplete="current-password" required>`
    : ''
}
<label for="password">${t.reset.newPassword}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.minLength}" aria-describedby="pw-hint">
<p id="pw-hint" class="muted">${t.register.passwordHint(v.minLength)}</p>
<label for="confirm">${t.reset.newPasswordAgain}</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">${v.hasPassword ? t.reset.submit : m.setPassword}</button>`,
)}
</section>`
    : ''
}

${methodsSection(v, form)}

<section aria-labelledby="sessions-h">
<h2 id="sessions-h">${m.sessionsTitle}</h2>
<ul class="plain">${v.sessions.map(
      (
        s,
      ) => html`<li><strong>${s.device ?? m.unknownDevice}</strong>${s.current ? html` <span class="badge">${m.thisBrowser}</span>` : ''}<br>
<span class="muted">${m.session(at(s.signedInAt), s.ip ?? '', at(s.lastUsedAt))}</span>
${s.applications.length > 0 ? html`<br><span class="muted">${s.applications.join(', ')}</span>` : ''}</li>`,
    )}</ul>
${
  v.sessions.some((s) => !s.current)
    ? form('sessions', html`<button type="submit" class="secondary">${m.signOutOthers}</button>`)
    : html`<p class="muted">${m.onlyHere}</p>`
}
</section>

<section aria-labelledby="activity-h">
<h2 id="activity-h">${m.activityTitle}</h2>
${
  v.activity.length === 0
    ? html`<p class="muted">${m.nothingYet}</p>`
    : html`<ul class="plain">${v.activity.map((a) => {
        const known = Object.hasOwn(labels, a.action) ? labels[a.action] : undefined;
        const label = (a.outcome === 'failure' ? known?.failed : known?.ok) ?? a.action;
        return html`<li>${label}<br><span class="muted">${at(a.at)}${a.ip ? html` · ${a.ip}` : ''}</span></li>`;
      })}</ul>`
}
</section>

${
  v.selfDeletion
    ? html`<section aria-labelledby="delete-h">
<h2 id="delete-h">${m.deleteTitle}</h2>
<p class="muted">${m.deleteIntro}</p>
${form(
  'delete',
  html`<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
${
  v.hasPassword
    ? html`<label for="delete-password">${m.yourPassword}</label>
<input id="delete-password" name="password" type="password" autocomplete="current-password" required>`
    : ''
}
<label><input type="checkbox" name="confirm" value="yes" required> ${m.deleteConfirm}</label>
<button type="submit" class="danger">${m.deleteSubmit}</button>`,
)}
</section>`
    : ''
}

<section>
${form('signout', html`<button type="submit" class="secondary">${m.signOut}</button>`)}
</section>`,
  );
}

/** "Ways to sign in": the password and each identity (Unlink where allowed), then what may be linked. */
function methodsSection(v: AccountView, form: (path: string, body: SafeHtml) => SafeHtml): SafeHtml | string {
  const m = messagesFor(v.locale).account;
  const { methods } = v;
  if (methods.identities.length === 0 && methods.linkable.length === 0) return '';
  return html`<section aria-labelledby="methods-h">
<h2 id="methods-h">${m.methodsTitle}</h2>
<ul class="plain" aria-labelledby="methods-h">${methods.password ? html`<li><strong>${m.passwordMethod}</strong></li>` : ''}${methods.identities.map(
    (
      i,
    ) => html`<li><strong>${i.provider}</strong><br><span class="muted">${m.linkedIdentity(i.email, when(m.intlLocale, i.linkedAt))}</span>
${
  i.canUnlink
    ? form(
        'identities/unlink',
        html`<input type="hidden" name="identity" value="${i.id}">
<button type="submit" class="secondary" aria-label="${m.unlinkLabel(i.provider)}">${m.unlink}</button>`,
      )
    : ''
}</li>`,
  )}</ul>
${
  methods.linkable.length > 0
    ? html`<h3>${m.linkTitle}</h3>
<p class="muted">${m.linkIntro}</p>
${form(
  'identities/link',
  html`${
    v.hasPassword
      ? html`<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
<label for="link-password">${m.linkPassword}</label>
<input id="link-password" name="password" type="password" autocomplete="current-password" required>`
      : ''
  }
${methods.linkable.map((p) => html`<button type="submit" class="secondary" name="provider" value="${p.slug}">${m.linkWith(p.name)}</button>`)}`,
)}`
    : ''
}
</section>`;
}

/** After the account was deleted. */
export function accountDeleted(tenant: Tenant, locale: Locale): string {
  const m = messagesFor(locale).account;
  return layout(tenant, locale, m.deletedTitle, html`<p class="message" role="status">${m.deletedBody}</p>`);
}
