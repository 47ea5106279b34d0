/**
 * The in-process cache (cache.ts): entries expire, and past its bound the least recently used
 * goes first (its order kept to the second: a read re-orders an entry at most once a second).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TtlCache } from '../src/cache.js';

describe('TtlCache', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('forgets an entry when its time is up', () => {
    const cache = new TtlCache<string, number>(5000, 10);
    cache.set('a', 1);
    vi.advanceTimersByTime(4999);
    expect(cache.get('a')).toBe(1);
    vi.advanceTimersByTime(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry past its bound', () => {
    const cache = new TtlCache<string, number>(60_000, 2);
    cache.set('a', 1);
    cache.set('b', 2);
    vi.advanceTimersByTime(1000);
    expect(cache.get('a')).toBe(1); // a is now the more recent
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('keeps nothing when its lifetime is zero', () => {
    const cache = new TtlCache<string, number>(0, 2);
    cache.set('a', 1);
    expect(cache.get('a')).toBeUndefined();
  });
});
