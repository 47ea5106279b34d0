/**
 * Password policy (NIST SP 800-63B, as DESIGN.md says): a length floor set per tenant
 * (8 by default), a ceiling of 256, no composition rules, no truncation, Unicode NFKC,
 * and a shipped blocklist of the 30,000 most common passwords.
 */
import { readFileSync } from 'node:fs';
import { badRequest } from '../http/errors.js';

export const PASSWORD_MAX_LENGTH = 256;

let blocklist: Set<string> | undefined;

/** Loaded on first use so that starting the server costs nothing for it. */
function commonPasswords(): Set<string> {
  if (!blocklist) {
    const text = readFileSync(new URL('../../assets/common-passwords.txt', import.meta.url), 'utf8');
    blocklist = new Set(text.split('\n').filter((line) => line.length > 0));
  }
  return blocklist;
}

/** The form a password is checked and hashed in. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Throws a 400 naming the rule the password breaks; returns the normalised password. */
export function checkPassword(password: string, options: { minLength: number; email?: string }): string {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < options.minLength) {
    throw badRequest('password_too_short', `The password must have at least ${options.minLength} characters`, {
      minLength: options.minLength,
    });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw badRequest('password_too_long', `The password must have at most ${PASSWORD_MAX_LENGTH} characters`, {
      maxLength: PASSWORD_MAX_LENGTH,
    });
  }
  const lower = normalized.toLowerCase();
  if (commonPasswords().has(lower)) {
    throw badRequest('password_too_common', 'The password is one of the most commonly used passwords');
  }
  if (options.email && lower === options.email.toLowerCase()) {
    throw badRequest('password_is_email', 'The password must not be the email address');
  }
  return normalized;
}
