/**
 * The rule that picks the language of a page and of the emails it sends (i18n/locales.ts), as
 * a table: `ui_locales` before `Accept-Language` before the tenant's default before English.
 * And the catalogs: each language's says every sentence in its own words (a copy of the
 * English one is a translation forgotten; the compiler sees only that the key is there).
 * The black-box tests, over HTTP, are in languages.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { messagesFor } from '../src/i18n/catalog.js';
import { chooseLocale, type Locale, type LocaleSources, supportedLocales } from '../src/i18n/locales.js';
import { SafeHtml } from '../src/login/html.js';

describe('chooseLocale', () => {
  it.each<[string, LocaleSources, Locale]>([
    ['nothing at all', {}, 'en'],
    ['only the tenant default', { tenantDefault: 'de' }, 'de'],
    ['ui_locales', { uiLocales: 'de' }, 'de'],
    ['ui_locales: the first shipped tag wins', { uiLocales: 'fr-CA fr de en' }, 'de'],
    ['ui_locales: a regional tag', { uiLocales: 'de-CH' }, 'de'],
    ['ui_locales: any case', { uiLocales: 'DE-at' }, 'de'],
    ['ui_locales beats Accept-Language', { uiLocales: 'en', acceptLanguage: 'de' }, 'en'],
    ['ui_locales beats the tenant default', { uiLocales: 'en', tenantDefault: 'de' }, 'en'],
    ['ui_locales with nothing shipped: Accept-Language', { uiLocales: 'fr ja', acceptLanguage: 'de' }, 'de'],
    ['ui_locales empty: Accept-Language', { uiLocales: '', acceptLanguage: 'de' }, 'de'],
    ['ui_locales not a string (a repeated parameter)', { uiLocales: ['de'], acceptLanguage: 'en' }, 'en'],
    ['Accept-Language', { acceptLanguage: 'de' }, 'de'],
    ['Accept-Language, a browser’s', { acceptLanguage: 'de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7' }, 'de'],
    ['Accept-Language: q-values, not order', { acceptLanguage: 'en;q=0.5, de;q=0.8' }, 'de'],
    ['Accept-Language: no q is 1', { acceptLanguage: 'en;q=0.9, de' }, 'de'],
    ['Accept-Language: equal weights, the earlier', { acceptLanguage: 'de;q=0.7, en;q=0.7' }, 'de'],
    ['Accept-Language: unshipped tags skipped', { acceptLanguage: 'fr-FR, fr;q=0.9, de;q=0.1' }, 'de'],
    ['Accept-Language: q=0 means not this one', { acceptLanguage: 'de;q=0, en;q=0.1' }, 'en'],
    ['Accept-Language: nothing shipped: the tenant default', { acceptLanguage: 'fr', tenantDefault: 'de' }, 'de'],
    ['Accept-Language: nothing shipped, no default: English', { acceptLanguage: 'fr, ja;q=0.5' }, 'en'],
    ['Accept-Language: * is the tenant default', { acceptLanguage: '*', tenantDefault: 'de' }, 'de'],
    ['Accept-Language: a malformed q is no weight', { acceptLanguage: 'de;q=2, en;q=0.5' }, 'en'],
    ['Accept-Language: spaces and case', { acceptLanguage: ' EN-gb ; Q=0.2 ,  De-ch ; q=0.4 ' }, 'de'],
    ['Accept-Language beats the tenant default', { acceptLanguage: 'en', tenantDefault: 'de' }, 'en'],
    ['Accept-Language repeated (string[])', { acceptLanguage: ['fr', 'de;q=0.5'] }, 'de'],
    ['Accept-Language: garbage', { acceptLanguage: ';;,,=;q=', tenantDefault: 'de' }, 'de'],
  ])('%s', (_name, sources, expected) => {
    expect(chooseLocale(sources)).toBe(expected);
  });

  it('reads no further than its bound into a huge header or parameter', () => {
    const huge = `${'fr;q=0.9, '.repeat(10_000)}de`;
    expect(chooseLocale({ acceptLanguage: huge, tenantDefault: 'en' })).toBe('en');
    expect(chooseLocale({ uiLocales: `${'fr '.repeat(10_000)}de`, tenantDefault: 'en' })).toBe('en');
  });
});

/** An argument for any catalog entry: markup where one is placed, 2 where one is counted. */
class Sample extends SafeHtml {
  override valueOf() {
    return 2;
  }
}

/** Every entry of a catalog, by path, as the text it renders (functions called with samples). */
function entries(value: unknown, path = ''): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (typeof value === 'function') {
    const args = Array.from({ length: value.length }, () => new Sample('«x»'));
    return entries(value(...args), path);
  }
  if (value instanceof SafeHtml) return [[path, value.value]];
  if (Array.isArray(value)) return [[path, value.join('\n')]];
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, v]) => entries(v, path ? `${path}.${key}` : key));
  }
  return [[path, String(value)]];
}

describe('the catalogs', () => {
  const english = new Map(entries(messagesFor('en')));

  it.each(supportedLocales.filter((l) => l !== 'en'))('%s says every sentence in its own words', (locale) => {
    const translated = entries(messagesFor(locale));
    expect(translated.map(([path]) => path).sort()).toEqual([...english.keys()].sort());
    for (const [path, text] of translated) {
      expect(text.trim(), path).not.toBe('');
      // A label may be the same word in both (Name, Code); a sentence may not.
      if (text.split(/\s+/).length >= 3) expect(text, path).not.toBe(english.get(path));
    }
  });
});
