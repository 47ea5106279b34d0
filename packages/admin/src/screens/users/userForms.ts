/** Error-code → field maps shared by the user forms. */
export const PASSWORD_CODES = {
  password_too_short: 'password',
  password_too_long: 'password',
  password_too_common: 'password',
  password_is_email: 'password',
} as const;

export const EMAIL_CODES = { email_taken: 'email' } as const;

export function validateEmail(v: string): string | null {
  const t = v.trim();
  if (!t) return 'Required';
  return /^[^\s@]+@[^\s@]+$/.test(t) ? null : 'An email address like ada@example.com';
}
