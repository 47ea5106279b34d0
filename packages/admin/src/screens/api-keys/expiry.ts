/** When a new API key expires (a preset or a chosen day), and how an existing key's expiry reads. */

export const EXPIRY_CHOICES = [
  { value: 'never', label: 'Never' },
  { value: '30d', label: '30 days' },
  { value: '90d', label: '90 days' },
  { value: '365d', label: '1 year' },
  { value: 'custom', label: 'On a date' },
] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]['value'];

const DAY = 86_400_000;

/** `YYYY-MM-DD` of a time, in the browser's time zone (what `<input type="date">` shows). */
export function localDate(t: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
}

export type ExpiryResult = { ok: true; expiresAt: string | null } | { ok: false; error: string };

/**
 * The `expiresAt` to send: null for never, now + N days for a preset, the end of the chosen day
 * (local time) for a date. A date today or earlier is refused, as the server would.
 */
export function expiresAtFor(choice: ExpiryChoice, date: string, now: Date = new Date()): ExpiryResult {
  switch (choice) {
    case 'never':
      return { ok: true, expiresAt: null };
    case '30d':
    case '90d':
    case '365d':
      return { ok: true, expiresAt: new Date(now.getTime() + Number.parseInt(choice, 10) * DAY).toISOString() };
    case 'custom': {
      const m = date.match(/^(\d{4})-(\d{2})-(\d{2})$/);
      if (!m) return { ok: false, error: 'Pick a day' };
      const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59);
      if (Number.isNaN(end.getTime()) || localDate(end) !== date) return { ok: false, error: 'Not a valid day' };
      if (end.getTime() <= now.getTime()) return { ok: false, error: 'Pick a day in the future' };
      return { ok: true, expiresAt: end.toISOString() };
    }
  }
}

export type ExpiryState = 'never' | 'active' | 'soon' | 'expired';

/** Expired, expiring within a week, or fine. */
export function expiryState(expiresAt: string | null, now: number = Date.now()): ExpiryState {
  if (!expiresAt) return 'never';
  const t = new Date(expiresAt).getTime();
  if (Number.isNaN(t)) return 'active';
  if (t <= now) return 'expired';
  return t - now < 7 * DAY ? 'soon' : 'active';
}
