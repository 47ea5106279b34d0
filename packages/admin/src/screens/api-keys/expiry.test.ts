import { describe, expect, it } from 'vitest';
import { expiresAtFor, expiryState, localDate } from './expiry';

const now = new Date(2025, 2, 10, 15, 30, 0); // 10 March 2025, 15:30 local

describe('expiresAtFor', () => {
  it('never expires: null', () => {
    expect(expiresAtFor('never', '', now)).toEqual({ ok: true, expiresAt: null });
  });
  it('presets count days from now', () => {
    const r = expiresAtFor('30d', '', now);
    expect(r.ok && r.expiresAt && new Date(r.expiresAt).getTime() - now.getTime()).toBe(30 * 86_400_000);
    const y = expiresAtFor('365d', '', now);
    expect(y.ok && y.expiresAt && new Date(y.expiresAt).getTime() - now.getTime()).toBe(365 * 86_400_000);
  });
  it('a chosen day lasts until its end, local time', () => {
    const r = expiresAtFor('custom', '2025-03-11', now);
    expect(r.ok).toBe(true);
    if (!r.ok || !r.expiresAt) return;
    const t = new Date(r.expiresAt);
    expect(localDate(t)).toBe('2025-03-11');
    expect([t.getHours(), t.getMinutes(), t.getSeconds()]).toEqual([23, 59, 59]);
  });
  it('today, past days and impossible days are refused', () => {
    expect(expiresAtFor('custom', '2025-03-09', now)).toEqual({ ok: false, error: 'Pick a day in the future' });
    // The end of today is still ahead, so today is allowed.
    expect(expiresAtFor('custom', '2025-03-10', now).ok).toBe(true);
    expect(expiresAtFor('custom', '2025-02-30', now)).toEqual({ ok: false, error: 'Not a valid day' });
    expect(expiresAtFor('custom', '', now)).toEqual({ ok: false, error: 'Pick a day' });
  });
});

describe('expiryState', () => {
  const t = now.getTime();
  it('reads never, expired, soon and active', () => {
    expect(expiryState(null, t)).toBe('never');
    expect(expiryState(new Date(t - 1000).toISOString(), t)).toBe('expired');
    expect(expiryState(new Date(t + 3 * 86_400_000).toISOString(), t)).toBe('soon');
    expect(expiryState(new Date(t + 30 * 86_400_000).toISOString(), t)).toBe('active');
  });
});
