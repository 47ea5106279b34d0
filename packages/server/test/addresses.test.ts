/** The source key every per-address limit counts by (http/addresses.ts): a table of cases. */
import { describe, expect, it } from 'vitest';
import { sourceOf } from '../src/http/addresses.js';

describe('sourceOf', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::ffff:cb00:7107', '203.0.113.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::c', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8:1:3::1', '2001:db8:1:3::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::203.0.113.7', '64:ff9b:0:0::/64'],
    [null, 'unknown'],
    [undefined, 'unknown'],
    ['', 'unknown'],
    ['not an address', 'not an address'],
  ])('%s counts as %s', (ip, source) => {
    expect(sourceOf(ip)).toBe(source);
  });
});
