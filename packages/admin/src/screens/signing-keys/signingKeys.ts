/** Signing keys as the console lists them: grouped by status, the signing one first. */
import type { SigningKey } from '../../api/types';

const STATUS_ORDER: Record<SigningKey['status'], number> = { current: 0, next: 1, previous: 2 };

export const STATUS_INFO: Record<SigningKey['status'], { label: string; color: string; meaning: string }> = {
  current: { label: 'Current', color: 'green', meaning: 'Signs new tokens' },
  next: { label: 'Next', color: 'blue', meaning: 'Published, signs after the next rotation' },
  previous: { label: 'Previous', color: 'gray', meaning: 'Published until the tokens it signed expire' },
};

/**
 * How long a key is published in the JWKS, as true for its status: a next key from its creation
 * (so verifiers have it before it signs), a current one while it signs and then until its
 * tokens expire, a previous one until a known time.
 */
export function publishedText(
  key: Pick<SigningKey, 'status' | 'publishedUntil'>,
): { until: string } | { text: string } {
  if (key.status === 'previous' && key.publishedUntil) return { until: key.publishedUntil };
  if (key.status === 'next') return { text: 'Since it was created; becomes current at the next rotation' };
  if (key.status === 'current') return { text: 'While it signs, then until the tokens it signed expire' };
  return { text: 'Until the tokens it signed expire' };
}

/** Current, then next, then previous (newest retired first); ES256 before RS256 within a status. */
export function sortSigningKeys(keys: readonly SigningKey[]): SigningKey[] {
  return [...keys].sort(
    (a, b) =>
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      (b.retiredAt ?? '').localeCompare(a.retiredAt ?? '') ||
      a.alg.localeCompare(b.alg) ||
      a.kid.localeCompare(b.kid),
  );
}

/** When the current ES256 key started signing: scheduled rotation counts from it, as the server does. */
export function lastRotation(keys: readonly SigningKey[]): string | null {
  const current = keys.find((k) => k.status === 'current' && k.alg === 'ES256');
  return current ? (current.activatedAt ?? current.createdAt) : null;
}

/** When the next scheduled rotation is due, given the tenant's rotation period; null when off or unknown. */
export function nextScheduledRotation(keys: readonly SigningKey[], rotationDays: number | null): string | null {
  if (!rotationDays) return null;
  const since = lastRotation(keys);
  if (!since) return null;
  return new Date(new Date(since).getTime() + rotationDays * 86_400_000).toISOString();
}
