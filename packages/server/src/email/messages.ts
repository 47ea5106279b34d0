/**
 * The messages Latchkey sends, rendered for a tenant: its name, logo and colour in the HTML
 * part, a plain-text part beside it, the tenant's sender name and reply-to (settings.email).
 * The words come from one catalog per language (English and German).
 */
import type { Locale } from '../i18n/locales.js';
import { html, type SafeHtml, trusted } from '../login/html.js';
import type { Tenant } from '../tenants/service.js';
import type { OutgoingEmail } from './outbox.js';

interface Wording {
  subject: (tenant: string) => string;
  /** `detail`: what the message is about where its words name it: an invitation's welcome title, an email change's new address ('' when none). */
  lines: (tenant: string, minutes: number, detail: string) => string[];
  action?: string;
  /** The line that gives a code to type instead of opening the link (on another device). */
  code?: (code: string, url: string) => string;
  after?: string;
}

type Template =
  | 'password_reset'
  | 'password_changed'
  | 'verify_email'
  | 'account_exists'
  | 'invitation'
  | 'email_changed';

/** A lifetime in whole hours, or days from two days on. */
const inHours = (minutes: number, hour: [string, string], day: [string, string]) => {
  const hours = Math.max(1, Math.round(minutes / 60));
  if (hours < 48) return `${hours} ${hours === 1 ? hour[0] : hour[1]}`;
  const days = Math.round(hours / 24);
  return `${days} ${days === 1 ? day[0] : day[1]}`;
};

const catalog: Record<Locale, Record<Template, Wording>> = {
  en: {
    password_reset: {
      subject: (t) => `Reset your ${t} password`,
      lines: (t, minutes) => [
        `Someone asked to reset the password of your ${t} account.`,
        `To choose a new password, open the link below within ${minutes} minutes. It works once.`,
      ],
      action: 'Choose a new password',
      after: 'If you did not ask for this, ignore this message: your password stays as it is.',
    },
    password_changed: {
      subject: (t) => `Your ${t} password was changed`,
      lines: (t) => [
        `The password of your ${t} account was just changed, and every session was signed out.`,
        'If this was not you, reset your password at once and tell the people who run this service.',
      ],
    },
    verify_email: {
      subject: (t) => `Confirm your email address for ${t}`,
      lines: (t, minutes) => [
        `Please confirm that this is the email address of your ${t} account.`,
        `Open the link below within ${Math.round(minutes / 60)} hours. It works once.`,
      ],
      action: 'Confirm my email address',
      code: (code, url) => `On another device? Enter the code ${code} where you are asked for it, or at ${url}.`,
      after: 'If you did not create an account or change your email, ignore this message.',
    },
    email_changed: {
      subject: (t) => `The email address of your ${t} account was changed`,
      lines: (t, _m, to) => [
        `The email address of your ${t} account was just changed from this address to ${to}. Messages about the account go there from now on.`,
        'If this was not you, tell the people who run this service at once.',
      ],
    },
    account_exists: {
      subject: (t) => `Someone tried to create a ${t} account with your email address`,
      lines: (t) => [
        `Someone tried to create a new ${t} account with this email address, which has one already. Nothing was changed.`,
        'If it was you, sign in with your password, or use "Forgot password?" on the sign-in page.',
      ],
    },
    invitation: {
      subject: (t) => `You are invited to ${t}`,
      lines: (t, minutes, title) => [
        ...(title ? [title] : []),
        `You have been invited to ${t}.`,
        `To accept, open the link below within ${inHours(minutes, ['hour', 'hours'], ['day', 'days'])}. It works once.`,
      ],
      action: 'Accept the invitation',
      after: 'If you did not expect this invitation, ignore this message.',
    },
  },
  de: {
    password_reset: {
      subject: (t) => `${t}: Passwort zurücksetzen`,
      lines: (t, minutes) => [
        `Jemand möchte das Passwort Ihres ${t}-Kontos zurücksetzen.`,
        `Öffnen Sie innerhalb von ${minutes} Minuten den Link unten, um ein neues Passwort zu wählen. Er funktioniert nur einmal.`,
      ],
      action: 'Neues Passwort wählen',
      after: 'Wenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht: Ihr Passwort bleibt unverändert.',
    },
    password_changed: {
      subject: (t) => `${t}: Ihr Passwort wurde geändert`,
      lines: (t) => [
        `Das Passwort Ihres ${t}-Kontos wurde soeben geändert, und alle Sitzungen wurden abgemeldet.`,
        'Falls Sie das nicht waren, setzen Sie Ihr Passwort sofort zurück und informieren Sie die Betreiber dieses Dienstes.',
      ],
    },
    verify_email: {
      subject: (t) => `${t}: Bestätigen Sie Ihre E-Mail-Adresse`,
      lines: (t, minutes) => [
        `Bitte bestätigen Sie, dass dies die E-Mail-Adresse Ihres ${t}-Kontos ist.`,
        `Öffnen Sie den Link unten innerhalb von ${Math.round(minutes / 60)} Stunden. Er funktioniert nur einmal.`,
      ],
      action: 'E-Mail-Adresse bestätigen',
      code: (code, url) =>
        `Auf einem anderen Gerät? Geben Sie den Code ${code} dort ein, wo danach gefragt wird, oder unter ${url}.`,
      after:
        'Wenn Sie kein Konto angelegt und Ihre E-Mail-Adresse nicht geändert haben, ignorieren Sie diese Nachricht.',
    },
    email_changed: {
      subject: (t) => `${t}: Die E-Mail-Adresse Ihres Kontos wurde geändert`,
      lines: (t, _m, to) => [
        `Die E-Mail-Adresse Ihres ${t}-Kontos wurde soeben von dieser Adresse zu ${to} geändert. Nachrichten zum Konto gehen ab jetzt dorthin.`,
        'Wenn Sie das nicht waren, wenden Sie sich sofort an die Betreiber dieses Dienstes.',
      ],
    },
    account_exists: {
      subject: (t) => `${t}: Jemand wollte mit Ihrer E-Mail-Adresse ein Konto anlegen`,
      lines: (t) => [
        `Jemand wollte mit dieser E-Mail-Adresse ein neues ${t}-Konto anlegen; sie hat bereits eines. Es wurde nichts geändert.`,
        'Wenn Sie es waren, melden Sie sich mit Ihrem Passwort an, oder nutzen Sie „Passwort vergessen?" auf der Anmeldeseite.',
      ],
    },
    invitation: {
      subject: (t) => `Einladung zu ${t}`,
      lines: (t, minutes, title) => [
        ...(title ? [title] : []),
        `Sie wurden zu ${t} eingeladen.`,
        `Öffnen Sie den Link unten innerhalb von ${inHours(minutes, ['Stunde', 'Stunden'], ['Tag', 'Tagen'])}, um die Einladung anzunehmen. Er funktioniert nur einmal.`,
      ],
      action: 'Einladung annehmen',
      after: 'Wenn Sie keine Einladung erwartet haben, ignorieren Sie diese Nachricht.',
    },
  },
};

/**
 * One message of the catalog for `tenant`, to `to`; `link`: its action's URL (a secret).
 * `locale`: the language of the page that caused it; without one (an admin's request, an
 * invitation), the tenant's default.
 */
export function renderEmail(
  tenant: Tenant,
  template: Template,
  to: string,
  options: {
    link?: string;
    minutes?: number;
    locale?: Locale;
    code?: { code: string; url: string };
    /** What the message is about, where its words name it (see `Wording.lines`). */
    detail?: string;
  } = {},
): OutgoingEmail {
  const locale = options.locale ?? tenant.settings.defaultLocale;
  const words = catalog[locale][template];
  const name = tenant.displayName;
  const lines = words.lines(name, options.minutes ?? 0, options.detail ?? '');
  const codeLine = options.code && words.code ? words.code(options.code.code, options.code.url) : undefined;
  const text = [
    ...lines,
    ...(options.link && words.action ? ['', `${words.action}: ${options.link}`] : []),
    ...(codeLine ? ['', codeLine] : []),
    ...(words.after ? ['', words.after] : []),
    '',
    `— ${name}`,
  ].join('\n');
  const b = tenant.settings.branding;
  const body: SafeHtml = html`${lines.map((l) => html`<p style="margin:0 0 16px">${l}</p>`)}
${
  options.link && words.action
    ? html`<p style="margin:24px 0"><a href="${options.link}" style="display:inline-block;padding:12px 20px;background:${b.primaryColor};color:#fff;text-decoration:none;border-radius:8px;font-weight:600">${words.action}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#5f6368;word-break:break-all">${options.link}</p>`
    : ''
}
${codeLine ? html`<p style="margin:0 0 16px">${codeLine}</p>` : ''}
${words.after ? html`<p style="margin:0 0 16px;color:#5f6368">${words.after}</p>` : ''}`;
  const page = html`<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${words.subject(name)}</title></head>
<body style="margin:0;background:#f4f5f7;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1c1e21">
<div style="max-width:520px;margin:24px auto;padding:32px;background:#fff;border-radius:12px;border-top:4px solid ${trusted(b.primaryColor)}">
${b.logoUrl ? html`<img src="${b.logoUrl}" alt="${name}" style="max-height:48px;max-width:200px;display:block;margin-bottom:16px">` : html`<p style="margin:0 0 16px;font-weight:700;font-size:18px">${name}</p>`}
${body}
</div></body></html>`;
  return {
    to,
    template,
    subject: words.subject(name),
    text,
    html: page.value,
    fromName: tenant.settings.email.fromName ?? name,
    replyTo: tenant.settings.email.replyTo,
  };
}
