/**
 * What a language's catalog (i18n/en.ts, de.ts) holds for each message Latchkey sends: its
 * subject, its lines, and the words around its link and code. email/messages.ts renders them.
 */

export type EmailTemplate =
  | 'password_reset'
  | 'password_changed'
  | 'verify_email'
  | 'account_exists'
  | 'invitation'
  | 'email_changed';

export interface EmailWording {
  subject: (tenant: string) => string;
  /** `detail`: what the message is about where its words name it: an invitation's welcome title, an email change's new address ('' when none). */
  lines: (tenant: string, minutes: number, detail: string) => string[];
  action?: string;
  /** The line that gives a code to type instead of opening the link (on another device). */
  code?: (code: string, url: string) => string;
  after?: string;
}

/** A lifetime in whole hours, or days from two days on, with each language's words for them. */
export const inHours = (minutes: number, hour: [string, string], day: [string, string]) => {
  const hours = Math.max(1, Math.round(minutes / 60));
  if (hours < 48) return `${hours} ${hours === 1 ? hour[0] : hour[1]}`;
  const days = Math.round(hours / 24);
  return `${days} ${days === 1 ? day[0] : day[1]}`;
};
