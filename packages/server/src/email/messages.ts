/**
 * The messages Latchkey sends, rendered for a tenant: its name, logo and colour in the HTML
 * part, a plain-text part beside it, the tenant's sender name and reply-to (settings.email).
 * The words come from the catalog of the message's language (i18n/en.ts, de.ts: `email`), the
 * same catalog as the pages'.
 */
import { messagesFor } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import { html, type SafeHtml, trusted } from '../login/html.js';
import type { Tenant } from '../tenants/service.js';
import type { OutgoingEmail } from './outbox.js';
import type { EmailTemplate, EmailWording } from './wording.js';

/**
 * One message of the catalog for `tenant`, to `to`; `link`: its action's URL (a secret).
 * `locale`: the language of the page that caused it; without one (an admin's request, an
 * invitation), the tenant's default.
 */
export function renderEmail(
  tenant: Tenant,
  template: EmailTemplate,
  to: string,
  options: {
    link?: string;
    minutes?: number;
    locale?: Locale;
    code?: { code: string; url: string };
    /** What the message is about, where its words name it (see `EmailWording.lines`, email/wording.ts). */
    detail?: string;
  } = {},
): OutgoingEmail {
  const locale = options.locale ?? tenant.settings.defaultLocale;
  const words: EmailWording = messagesFor(locale).email[template];
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
