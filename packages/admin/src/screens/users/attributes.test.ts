import { describe, expect, it } from 'vitest';
import { formatAttributes, parseAttributes } from './attributes';

describe('user attributes', () => {
  it('accepts a JSON object, and empty text as {}', () => {
    expect(parseAttributes('{"plan":"pro","seats":3}')).toEqual({ ok: true, value: { plan: 'pro', seats: 3 } });
    expect(parseAttributes('  ')).toEqual({ ok: true, value: {} });
  });

  it('refuses what the server would: not JSON, not an object, too many keys, too big, bad keys', () => {
    expect(parseAttributes('{plan: pro}').ok).toBe(false);
    expect(parseAttributes('[1,2]')).toMatchObject({ ok: false, error: expect.stringMatching(/JSON object/) });
    expect(parseAttributes('null').ok).toBe(false);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]));
    expect(parseAttributes(JSON.stringify(many))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/100 keys/),
    });
    expect(parseAttributes(JSON.stringify({ big: 'x'.repeat(16_400) }))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/16384 bytes/),
    });
    // Bytes, not characters: 6000 three-byte characters are over the limit.
    expect(parseAttributes(JSON.stringify({ s: '€'.repeat(6000) })).ok).toBe(false);
    expect(parseAttributes('{"":1}').ok).toBe(false);
  });

  it('formats for editing', () => {
    expect(formatAttributes({})).toBe('{}');
    expect(formatAttributes({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});
