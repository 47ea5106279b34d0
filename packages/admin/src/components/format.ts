/** Display helpers: dates in the admin's locale, durations in words. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const number = new Intl.NumberFormat();

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export function formatNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : number.format(n);
}

/** "3 minutes ago", "in 2 days". */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const seconds = Math.round((t - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return relative.format(seconds, 'second');
  if (abs < 45 * 60) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 22 * 3600) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 26 * 86400) return relative.format(Math.round(seconds / 86400), 'day');
  if (abs < 320 * 86400) return relative.format(Math.round(seconds / (30 * 86400)), 'month');
  return relative.format(Math.round(seconds / (365 * 86400)), 'year');
}

/** 90 → "1 min 30 s", 3600 → "1 h", 1209600 → "14 days". */
export function formatDuration(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return '—';
  const units: [number, string, string][] = [
    [86_400, ' day', ' days'],
    [3_600, ' h', ' h'],
    [60, ' min', ' min'],
    [1, ' s', ' s'],
  ];
  const parts: string[] = [];
  let rest = Math.round(totalSeconds);
  for (const [size, one, many] of units) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      rest -= n * size;
      parts.push(`${n}${n === 1 ? one : many}`);
    }
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' ') : '0 s';
}
