import { describe, expect, it } from 'vitest';
import type { SigningKey } from '../../api/types';
import { lastRotation, nextScheduledRotation, publishedText, sortSigningKeys } from './signingKeys';

const key = (over: Partial<SigningKey>): SigningKey => ({
  kid: 'k',
  alg: 'ES256',
  status: 'current',
  createdAt: '2025-01-01T00:00:00.000Z',
  activatedAt: null,
  retiredAt: null,
  publishedUntil: null,
  publicJwk: {},
  ...over,
});

describe('sortSigningKeys', () => {
  it('lists current, next, then previous keys, newest retired first, ES256 before RS256', () => {
    const keys = [
      key({ kid: 'p1', status: 'previous', retiredAt: '2025-01-02T00:00:00.000Z' }),
      key({ kid: 'n-rs', status: 'next', alg: 'RS256' }),
      key({ kid: 'c-rs', status: 'current', alg: 'RS256' }),
      key({ kid: 'p2', status: 'previous', retiredAt: '2025-02-02T00:00:00.000Z' }),
      key({ kid: 'c-es', status: 'current', alg: 'ES256' }),
      key({ kid: 'n-es', status: 'next', alg: 'ES256' }),
    ];
    expect(sortSigningKeys(keys).map((k) => k.kid)).toEqual(['c-es', 'c-rs', 'n-es', 'n-rs', 'p2', 'p1']);
  });
});

describe('rotation times', () => {
  const keys = [
    key({ kid: 'a', status: 'current', activatedAt: '2025-03-01T00:00:00.000Z' }),
    key({ kid: 'b', status: 'current', alg: 'RS256', activatedAt: '2025-03-01T00:00:01.000Z' }),
    key({ kid: 'c', status: 'next' }),
  ];
  it('the last rotation is when the current ES256 key started signing (or was made)', () => {
    expect(lastRotation(keys)).toBe('2025-03-01T00:00:00.000Z');
    expect(lastRotation([key({ activatedAt: null })])).toBe('2025-01-01T00:00:00.000Z');
    expect(lastRotation([key({ status: 'next' })])).toBeNull();
  });
  it('the next scheduled rotation is a period after the last one', () => {
    expect(nextScheduledRotation(keys, 30)).toBe('2025-03-31T00:00:00.000Z');
    expect(nextScheduledRotation(keys, null)).toBeNull();
    expect(nextScheduledRotation([key({ createdAt: '2025-01-01T00:00:00.000Z' })], 1)).toBe('2025-01-02T00:00:00.000Z');
  });
});

describe('publishedText', () => {
  it('says what is true for each status: a next key is published from its creation, not "while in use"', () => {
    const next = publishedText(key({ status: 'next' }));
    expect(next).toEqual({
      text: expect.stringMatching(/^Since it was created; becomes current at the next rotation/),
    });
    expect(JSON.stringify(next)).not.toMatch(/while in use/i);
    expect(publishedText(key({ status: 'current' }))).toEqual({ text: expect.stringMatching(/^While it signs/) });
    const until = '2025-03-01T00:00:00.000Z';
    expect(publishedText(key({ status: 'previous', publishedUntil: until }))).toEqual({ until });
  });
});
