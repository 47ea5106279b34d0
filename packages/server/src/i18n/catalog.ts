/**
 * One catalog per language (en.ts, de.ts), by locale: a locale added to `supportedLocales`
 * without its catalog fails to compile here.
 */
import { PASSWORD_MAX_LENGTH } from '../passwords/policy.js';
import { de } from './de.js';
import { en, type Messages } from './en.js';
import type { Locale } from './locales.js';

export type { Messages } from './en.js';

const catalogs: Record<Locale, Messages> = { en, de };

/** The words of `locale`. */
export function messagesFor(locale: Locale): Messages {
  return catalogs[locale];
}

/**
 * Why the password policy refused a new password (its error code, passwords/policy.ts), in
 * the catalog's words; undefined for another code.
 */
export function passwordProblem(m: Messages, code: string, minLength: number): string | undefined {
  const p = m.passwordProblems;
  switch (code) {
    case 'password_too_short':
      return p.password_too_short(minLength);
    case 'password_too_long':
      return p.password_too_long(PASSWORD_MAX_LENGTH);
    case 'password_too_common':
    case 'password_is_email':
      return p[code];
    default:
      return undefined;
  }
}
