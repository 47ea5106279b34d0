/**
 * The languages Latchkey's pages and emails ship in, and the one rule that picks one for a
 * request (issue 11): the OpenID Connect `ui_locales` parameter (the application's choice)
 * before the browser's `Accept-Language`, before the tenant's `defaultLocale`, before English.
 * A regional tag counts as its language (`de-CH` is `de`); a language not shipped is skipped.
 */

/** Every language with a catalog (i18n/en.ts, i18n/de.ts), in the order the docs list them. */
export const supportedLocales = ['en', 'de'] as const;

export type Locale = (typeof supportedLocales)[number];

/** Each language by its own name, for a choice of languages (the console's tenant settings). */
export const localeNames: Record<Locale, string> = { en: 'English', de: 'Deutsch' };

/** The language when nothing else chooses. */
export const fallbackLocale: Locale = 'en';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (supportedLocales as readonly string[]).includes(value);
}

/** The shipped language of a BCP 47 tag (its primary subtag, any case), if any. */
function localeOfTag(tag: string): Locale | undefined {
  const primary = tag.trim().split('-', 1)[0]?.toLowerCase();
  return isLocale(primary) ? primary : undefined;
}

/**
 * Headers and parameters are read only this far: enough for any real browser or application,
 * and a huge value costs no more than a short one.
 */
const MAX_INPUT = 1024;
const MAX_ENTRIES = 32;

/** `ui_locales`: space-separated tags in order of preference; the first shipped one. */
function fromUiLocales(value: string): Locale | undefined {
  for (const tag of value.slice(0, MAX_INPUT).split(' ').slice(0, MAX_ENTRIES)) {
    const locale = localeOfTag(tag);
    if (locale) return locale;
  }
  return undefined;
}

/**
 * `Accept-Language` (RFC 9110): comma-separated tags, each with an optional `;q=` weight
 * (1 when absent, 0 meaning "not this one"); the shipped language of the heaviest tag, the
 * earlier of equal weights. `*` names no language: the tenant's default then applies.
 */
function fromAcceptLanguage(value: string): Locale | undefined {
  let best: { locale: Locale; q: number } | undefined;
  for (const entry of value.slice(0, MAX_INPUT).split(',').slice(0, MAX_ENTRIES)) {
    const [tag = '', ...params] = entry.split(';');
    const locale = localeOfTag(tag);
    if (!locale) continue;
    let q = 1;
    for (const param of params) {
      const [name, weight] = param.split('=').map((s) => s.trim());
      if (name?.toLowerCase() !== 'q') continue;
      q = weight !== undefined && /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/.test(weight) ? Number(weight) : 0;
    }
    if (q > 0 && (!best || q > best.q)) best = { locale, q };
  }
  return best?.locale;
}

export interface LocaleSources {
  /** The authorization request's `ui_locales` (or a page's `?ui_locales=`). */
  uiLocales?: unknown;
  /** The request's `Accept-Language` header. */
  acceptLanguage?: string | string[] | undefined;
  /** The tenant's `settings.defaultLocale`. */
  tenantDefault?: Locale | undefined;
}

/** The language of a page (and of the emails it sends): see the module's header. */
export function chooseLocale({ uiLocales, acceptLanguage, tenantDefault }: LocaleSources): Locale {
  const header = Array.isArray(acceptLanguage) ? acceptLanguage.join(',') : acceptLanguage;
  return (
    (typeof uiLocales === 'string' ? fromUiLocales(uiLocales) : undefined) ??
    (typeof header === 'string' ? fromAcceptLanguage(header) : undefined) ??
    tenantDefault ??
    fallbackLocale
  );
}

/**
 * `chooseLocale` for a request to a tenant's page: its `Accept-Language` header, the tenant's
 * default, and `uiLocales` (the interaction's parameter, or the page's query) when given.
 */
export function requestLocale(
  tenant: { settings: { defaultLocale: Locale } } | undefined,
  headers: { 'accept-language'?: string | string[] | undefined },
  uiLocales?: unknown,
): Locale {
  return chooseLocale({
    uiLocales,
    acceptLanguage: headers['accept-language'],
    tenantDefault: tenant?.settings.defaultLocale,
  });
}
