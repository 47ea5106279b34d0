/**
 * The sign-in, registration, consent, logout and error pages: server-rendered, working
 * without JavaScript, branded per tenant, every form with a CSRF token.
 */
import type { FastifyInstance } from 'fastify';
import { findUnsafeRequestText, unsafeTextMessage } from '../http/text.js';
import type { Tenant } from '../tenants/service.js';
import { escapeHtml, html, type SafeHtml, trusted } from './html.js';

/** The headers of every page here. */
export const pageHeaders: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'",
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
    return reply
      .code(400)
      .headers(pageHeaders)
      .send(pages.error(undefined, 'invalid_request', unsafeTextMessage));
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
`;

export function layout(tenant: Tenant, title: string, body: SafeHtml): string {
  const b = tenant.settings.branding;
  return html`<!doctype html>
<html lang="en">
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
  login(tenant: Tenant, v: LoginView): string {
    const message = tenant.settings.branding.loginMessage;
    return layout(
      tenant,
      'Sign in',
      html`
${message ? html`<p class="message">${message}</p>` : ''}
${v.clientName ? html`<p>to continue to <strong>${v.clientName}</strong></p>` : ''}
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${v.notice ? html`<p class="message" role="status">${v.notice}</p>` : ''}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus value="${v.email ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
${v.forgotUrl ? html`<p class="alt"><a href="${v.forgotUrl}">Forgot password?</a></p>` : ''}
${v.registerUrl ? html`<p class="alt">No account? <a href="${v.registerUrl}">Create one</a></p>` : ''}
<p class="alt"><a href="${v.abortUrl}">Cancel</a></p>`,
    );
  }

  register(tenant: Tenant, v: RegisterView): string {
    return layout(
      tenant,
      'Create your account',
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required autofocus value="${v.email ?? ''}">
<label for="name">Name</label>
<input id="name" name="name" type="text" autocomplete="name" value="${v.name ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.minLength}" aria-describedby="pw-hint">
<p id="pw-hint" class="tenant">At least ${v.minLength} characters.</p>
<button type="submit">Create account</button>
</form>
<p class="alt">Have an account? <a href="${v.loginUrl}">Sign in</a></p>`,
    );
  }

  consent(tenant: Tenant, v: ConsentView): string {
    return layout(
      tenant,
      'Allow access?',
      html`
<p><strong>${v.clientName}</strong> asks to:</p>
<ul class="scopes">${v.scopes.map((s) => html`<li>${scopeLabel(s)}</li>`)}${v.resources.map(
        (r) => html`<li>use ${r} on your behalf</li>`,
      )}</ul>
<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
    );
  }

  /** oidc-provider's logout confirmation; `form` is its own markup with its xsrf field. */
  logout(tenant: Tenant, form: string): string {
    return layout(
      tenant,
      'Sign out',
      html`
<p>Do you want to sign out of ${tenant.displayName}?</p>
${trusted(form)}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
    );
  }

  forgot(tenant: Tenant, v: ForgotView): string {
    return layout(
      tenant,
      'Reset your password',
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>Enter the email address of your account. If it has one here, we send it a link to choose a new password.</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus>
<button type="submit">Send the link</button>
</form>
${v.backUrl ? html`<p class="alt"><a href="${v.backUrl}">Back to sign-in</a></p>` : ''}`,
    );
  }

  /** The same answer whether or not the address has an account. */
  forgotSent(tenant: Tenant, backUrl: string | undefined): string {
    return layout(
      tenant,
      'Check your email',
      html`<p class="message" role="status">If an account exists for that address, we have sent it a link to choose a new password. The link works once, for a short time.</p>
${backUrl ? html`<p class="alt"><a href="${backUrl}">Back to sign-in</a></p>` : ''}`,
    );
  }

  reset(tenant: Tenant, v: ResetView): string {
    return layout(
      tenant,
      'Choose a new password',
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>For <strong>${v.email}</strong>. Every session of this account is signed out when it changes.</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="token" value="${v.token}">
<input type="email" name="username" value="${v.email}" autocomplete="username" hidden>
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.minLength}" autofocus>
<label for="confirm">New password again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">Change the password</button>
</form>`,
    );
  }

  resetDone(tenant: Tenant): string {
    return layout(
      tenant,
      'Password changed',
      html`<p class="message" role="status">Your password has been changed and every session signed out. Go back to the application and sign in with the new password.</p>`,
    );
  }

  /** What a verification link opens: a button, so that a mail scanner's GET uses nothing. */
  verify(tenant: Tenant, v: { action: string; csrf: string; token: string; email: string }): string {
    return layout(
      tenant,
      'Confirm your email address',
      html`<p>Confirm that <strong>${v.email}</strong> is your email address.</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="token" value="${v.token}">
<button type="submit">Confirm</button>
</form>`,
    );
  }

  /**
   * After a right password, for a tenant that requires verified emails: the message again,
   * or the code it holds, which signs in.
   */
  verifyFirst(
    tenant: Tenant,
    v: { action: string; csrf: string; proof: string; error?: string; notice?: string },
  ): string {
    return layout(
      tenant,
      'Confirm your email address first',
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
${v.notice ? html`<p class="message" role="status">${v.notice}</p>` : ''}
<p>Before you can sign in, confirm your email address: open the link in the message we sent you, or enter its 6-digit code here.</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="proof" value="${v.proof}">
<label for="code">Code</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus>
<button type="submit" name="action" value="code">Confirm and sign in</button>
<button type="submit" name="action" value="resend" class="secondary" formnovalidate>Send the message again</button>
</form>`,
    );
  }

  /** Where a verification code is typed, on any device (the message names this page). */
  verifyCode(tenant: Tenant, v: { action: string; csrf: string; email?: string; error?: string }): string {
    return layout(
      tenant,
      'Confirm your email address',
      html`
${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
<p>Enter your email address and the 6-digit code from the message we sent you.</p>
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${v.email ?? ''}">
<label for="code">Code</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
<button type="submit">Confirm</button>
</form>`,
    );
  }

  verified(tenant: Tenant): string {
    return layout(
      tenant,
      'Email address confirmed',
      html`<p class="message" role="status">Your email address is confirmed. Go back to the application and sign in.</p>`,
    );
  }

  /** A reset link that is used, expired, tampered with or another tenant's. */
  linkInvalid(tenant: Tenant, forgotUrl: string | undefined): string {
    return layout(
      tenant,
      'This link does not work',
      html`<p class="error" role="alert">This link has been used, has expired or is not valid. Links work once, for a short time.</p>
${forgotUrl ? html`<p class="alt"><a href="${forgotUrl}">Ask for a new link</a></p>` : html`<p>Sign in to the application to be sent a new one, or ask its administrators.</p>`}`,
    );
  }

  loggedOut(tenant: Tenant): string {
    return layout(tenant, 'Signed out', html`<p>You have signed out. You can close this window.</p>`);
  }

  /**
   * The answer to a client address that tried something too often (HTTP 429, sent with
   * `Retry-After`); for every such limit, on any page.
   */
  tooManyRequests(tenant: Tenant, retryAfterSeconds: number): string {
    const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
    return layout(
      tenant,
      'Too many attempts',
      html`<p class="error" role="alert">Too many attempts from your network. Try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.</p>`,
    );
  }

  /** Too many attempts wait for a password check (429): the form is not lost, just early. */
  busy(tenant: Tenant, retryAfterSeconds: number, backUrl: string): string {
    const [before, after] = this.busyAround(tenant, retryAfterSeconds);
    return `${before}${escapeHtml(backUrl)}${after}`;
  }

  /**
   * The busy page in two halves, before and after the (HTML-escaped) URL of its link back to
   * the form: what depends on the tenant and the delay only, rendered once and kept
   * (login/admission.ts), so that a refusal costs no rendering.
   */
  busyAround(tenant: Tenant, retryAfterSeconds: number): [before: string, after: string] {
    const page = layout(
      tenant,
      'Try again in a moment',
      html`<p class="error" role="alert">Too many sign-in attempts are being checked right now. Please wait ${retryAfterSeconds} ${retryAfterSeconds === 1 ? 'second' : 'seconds'} and try again.</p>
<p class="alt"><a href="${trusted(backUrlSlot)}">Back to the form</a></p>`,
    );
    // The slot is the page's last interpolation: nothing a tenant chose comes after it.
    const at = page.lastIndexOf(backUrlSlot);
    return [page.slice(0, at), page.slice(at + backUrlSlot.length)];
  }

  error(tenant: Tenant | undefined, code: string, description: string): string {
    const t: Tenant =
      tenant ??
      ({
        displayName: 'Latchkey',
        settings: { branding: { primaryColor: '#1f6feb', logoUrl: null, loginMessage: null } },
      } as Tenant);
    return layout(
      t,
      'Something went wrong',
      html`<p class="error" role="alert">${description || 'The request could not be completed.'}</p>
<p class="tenant">Error code: <code>${code}</code></p>`,
    );
  }
}

function scopeLabel(scope: string): string {
  switch (scope) {
    case 'openid':
      return 'know who you are';
    case 'profile':
      return 'see your name';
    case 'email':
      return 'see your email address';
    case 'offline_access':
      return 'stay signed in';
    default:
      return scope;
  }
}
