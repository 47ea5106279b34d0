/**
 * The account page's markup (/t/{slug}/account): one page of sections, each a form of its own
 * that posts to its own path with the CSRF token, working without JavaScript and on a phone.
 */

import { fallbackLocale } from '../i18n/locales.js';
import { html, type SafeHtml } from '../login/html.js';
import { layout } from '../login/pages.js';
import type { Tenant } from '../tenants/service.js';
import type { SessionView } from './self-service.js';

export interface AccountView {
  base: string;
  csrf: string;
  email: string;
  emailVerified: boolean;
  displayName: string | null;
  minLength: number;
  sessions: SessionView[];
  activity: { at: string; action: string; outcome: string; ip: string | null; reason: string | null }[];
  selfDeletion: boolean;
  notice?: string;
  error?: string;
}

const sectionStyles = html`<style>
main { max-width: 560px; }
section { border-top: 1px solid #e3e5e8; margin-top: 28px; padding-top: 8px; }
h2 { font-size: 1.1rem; margin: 12px 0 4px; }
ul.plain { list-style: none; padding: 0; margin: 8px 0 0; }
ul.plain li { padding: 8px 0; border-bottom: 1px solid #f0f1f3; }
.muted { color: #5f6368; font-size: .9rem; }
.badge { display: inline-block; font-size: .8rem; padding: 1px 8px; border-radius: 10px; background: #e6f4ea; color: #137333; }
.badge.warn { background: #fef7e0; color: #8a5a00; }
button.danger { background: #b3261e; }
</style>`;

/** "14 Mar 2026, 09:30 UTC": the server knows no time zone of the reader. */
function when(iso: string | null): string {
  if (!iso) return '—';
  return `${new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })} UTC`;
}

const activityLabels: Record<string, [success: string, failure: string]> = {
  'login.password': ['Signed in', 'Failed sign-in'],
  'user.reauthenticate': ['Password confirmed', 'Wrong password entered'],
  'user.password.change': ['Password changed', 'Password change failed'],
  'user.password.reset': ['Password reset by email link', 'Password reset failed'],
  'user.password.set': ['Password set by an administrator', 'Password set failed'],
  'user.email.change': ['Email address changed', 'Email change failed'],
  'user.email.verify': ['Email address confirmed', 'Email confirmation failed'],
  'user.sessions.end': ['Signed out of sessions', 'Signing out of sessions failed'],
  'user.disable': ['Account disabled', 'Disabling failed'],
  'user.enable': ['Account enabled', 'Enabling failed'],
};

export function accountPage(tenant: Tenant, v: AccountView): string {
  const form = (path: string, body: SafeHtml) =>
    html`<form method="post" action="${v.base}/${path}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
${body}
</form>`;
  return layout(
    tenant,
    fallbackLocale,
    'Your account',
    html`${sectionStyles}
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${v.notice ? html`<p class="message" role="status">${v.notice}</p>` : ''}
<p><strong>${v.displayName ?? v.email}</strong><br><span class="muted">${v.email}</span>
${v.emailVerified ? html`<span class="badge">confirmed</span>` : html`<span class="badge warn">not confirmed</span>`}</p>
${
  v.emailVerified
    ? ''
    : form('verification', html`<button type="submit" class="secondary">Send the confirmation message again</button>`)
}

<section aria-labelledby="profile">
<h2 id="profile">Profile</h2>
${form(
  'profile',
  html`<label for="name">Name</label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="200" value="${v.displayName ?? ''}">
<button type="submit">Save</button>`,
)}
</section>

<section aria-labelledby="email-h">
<h2 id="email-h">Email address</h2>
<p class="muted">The new address takes effect once you open the link we send to it. Your current address is told.</p>
${form(
  'email',
  html`<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
<label for="new-email">New email address</label>
<input id="new-email" name="email" type="email" autocomplete="email" required>
<label for="email-password">Your password</label>
<input id="email-password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Change the email address</button>`,
)}
</section>

<section aria-labelledby="password-h">
<h2 id="password-h">Password</h2>
<p class="muted">Changing it signs you out everywhere else.</p>
${form(
  'password',
  html`<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
<label for="current">Current password</label>
<input id="current" name="current" type="password" autocomplete="current-password" required>
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.minLength}" aria-describedby="pw-hint">
<p id="pw-hint" class="muted">At least ${v.minLength} characters.</p>
<label for="confirm">New password again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">Change the password</button>`,
)}
</section>

<section aria-labelledby="sessions-h">
<h2 id="sessions-h">Where you are signed in</h2>
<ul class="plain">${v.sessions.map(
      (
        s,
      ) => html`<li><strong>${s.device ?? 'Unknown device'}</strong>${s.current ? html` <span class="badge">this browser</span>` : ''}<br>
<span class="muted">Signed in ${when(s.signedInAt)}${s.ip ? html` from ${s.ip}` : ''} · last used ${when(s.lastUsedAt)}</span>
${s.applications.length > 0 ? html`<br><span class="muted">${s.applications.join(', ')}</span>` : ''}</li>`,
    )}</ul>
${
  v.sessions.some((s) => !s.current)
    ? form('sessions', html`<button type="submit" class="secondary">Sign out everywhere else</button>`)
    : html`<p class="muted">You are signed in only here.</p>`
}
</section>

<section aria-labelledby="activity-h">
<h2 id="activity-h">Recent security activity</h2>
${
  v.activity.length === 0
    ? html`<p class="muted">Nothing yet.</p>`
    : html`<ul class="plain">${v.activity.map((a) => {
        const label = activityLabels[a.action]?.[a.outcome === 'failure' ? 1 : 0] ?? a.action;
        return html`<li>${label}<br><span class="muted">${when(a.at)}${a.ip ? html` · ${a.ip}` : ''}</span></li>`;
      })}</ul>`
}
</section>

${
  v.selfDeletion
    ? html`<section aria-labelledby="delete-h">
<h2 id="delete-h">Delete your account</h2>
<p class="muted">This deletes your account here for good, and signs you out everywhere.</p>
${form(
  'delete',
  html`<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
<label for="delete-password">Your password</label>
<input id="delete-password" name="password" type="password" autocomplete="current-password" required>
<label><input type="checkbox" name="confirm" value="yes" required> I want to delete my account</label>
<button type="submit" class="danger">Delete my account</button>`,
)}
</section>`
    : ''
}

<section>
${form('signout', html`<button type="submit" class="secondary">Sign out</button>`)}
</section>`,
  );
}

/** After the account was deleted. */
export function accountDeleted(tenant: Tenant): string {
  return layout(
    tenant,
    fallbackLocale,
    'Account deleted',
    html`<p class="message" role="status">Your account has been deleted, and every session of it signed out.</p>`,
  );
}
