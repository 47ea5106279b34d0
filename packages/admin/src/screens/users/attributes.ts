/** The user's `attributes`: a JSON object of at most 100 keys and 16 KiB, as the server requires. */

export const ATTRIBUTES_MAX_KEYS = 100;
export const ATTRIBUTES_MAX_BYTES = 16_384;

export type AttributesResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

export function parseAttributes(text: string): AttributesResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'Must be a JSON object, like {"plan": "pro"}' };
  }
  const keys = Object.keys(value);
  if (keys.length > ATTRIBUTES_MAX_KEYS)
    return { ok: false, error: `At most ${ATTRIBUTES_MAX_KEYS} keys (${keys.length} given)` };
  const badKey = keys.find((k) => k.length === 0 || k.length > 100);
  if (badKey !== undefined) return { ok: false, error: 'Keys must be 1 to 100 characters long' };
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > ATTRIBUTES_MAX_BYTES)
    return { ok: false, error: `At most ${ATTRIBUTES_MAX_BYTES} bytes as JSON (${bytes} given)` };
  return { ok: true, value: value as Record<string, unknown> };
}

export function formatAttributes(value: Record<string, unknown>): string {
  return Object.keys(value).length === 0 ? '{}' : JSON.stringify(value, null, 2);
}
