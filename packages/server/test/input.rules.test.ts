/**
 * The pure rules behind the bad-input checks (http/text.ts, http/json.ts), as tables: what
 * text may hold, and what a JSON body's shape may be. The black-box tests are in
 * input.security.test.ts; these pin the edges that are cheaper to state here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/http/errors.js';
import { checkJsonShape, decodeUtf8, JSON_MAX_DEPTH, JSON_MAX_MEMBERS, jsonDepth } from '../src/http/json.js';
import { findUnsafeText, isUnsafeText } from '../src/http/text.js';
import { invalidParameters } from '../src/oidc/routes.js';

/** The code `fn` throws, or undefined. */
function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
}

describe('the text rule', () => {
  it.each([
    ['plain', 'Alice', false],
    ['tab, line feed, carriage return', 'a\tb\nc\r\n', false],
    ['a paired surrogate (emoji)', '😀', false],
    ['combining marks', 'e\u0301\u0302', false],
    ['DEL and C1 controls', '\u007f\u0085\u009f', false],
    ['U+FFFD and noncharacters', '\ufffd\uffff', false],
    ['NUL', 'a\u0000b', true],
    ['other C0 controls', '\u0001', true],
    ['escape', '\u001b[31m', true],
    ['vertical tab', '\u000b', true],
    ['form feed', '\u000c', true],
    ['a lone high surrogate', 'x\ud800', true],
    ['a lone low surrogate', '\udc00x', true],
    ['surrogates in the wrong order', '\udc00\ud800', true],
  ])('%s', (_name, text, unsafe) => {
    expect(isUnsafeText(text)).toBe(unsafe);
  });

  it('names where in a value the first bad text is, keys included', () => {
    expect(findUnsafeText({ a: ['ok', { b: 'x\u0000' }] })).toBe('/a/1/b');
    expect(findUnsafeText({ 'k\u0001': 1 })).toBe('/k\u0001');
    expect(findUnsafeText({ 'a/b': { '~': '\ud800' } })).toBe('/a~1b/~0');
    expect(findUnsafeText('\u0000')).toBe('/');
    expect(findUnsafeText({ a: [1, true, null, 'fine'] })).toBeUndefined();
  });
});

describe('the JSON body rules', () => {
  const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  it.each([
    ['a flat object', '{"a":1,"b":"x"}', undefined],
    ['brackets and quotes inside strings', '{"a":"[[[{{\\"}}","b\\"":1}', undefined],
    ['the same key in sibling objects', '[{"a":1},{"a":2}]', undefined],
    ['a key named twice', '{"a":1,"a":2}', 'duplicate_key'],
    ['a key named twice, once escaped', '{"a":1, "\\u0061" :2}', 'duplicate_key'],
    ['a key named twice deep down', '{"x":[{"y":{"a":1,"a":1}}]}', 'duplicate_key'],
    [`${JSON_MAX_DEPTH} levels`, nested(JSON_MAX_DEPTH), undefined],
    [`${JSON_MAX_DEPTH + 1} levels`, nested(JSON_MAX_DEPTH + 1), 'json_too_complex'],
    ['100,000 levels', nested(100_000), 'json_too_complex'],
    [`${JSON_MAX_MEMBERS} items`, `[${Array(JSON_MAX_MEMBERS).fill(0).join(',')}]`, undefined],
    [
      `${JSON_MAX_MEMBERS + 1} items`,
      `[${Array(JSON_MAX_MEMBERS + 1)
        .fill('"x"')
        .join(',')}]`,
      'json_too_complex',
    ],
    [
      `${JSON_MAX_MEMBERS + 1} keys`,
      `{${Array.from({ length: JSON_MAX_MEMBERS + 1 }, (_, i) => `"${i}":null`).join(',')}}`,
      'json_too_complex',
    ],
    ['a large but finite number', '[1.7976931348623157e308, -1e-400]', undefined],
    ['a number that overflows', '{"n":-1e309}', 'invalid_json'],
    ['malformed (left to the parser)', '{"a":', undefined],
  ])('%s', (_name, text, code) => {
    expect(codeOf(() => checkJsonShape(text))).toBe(code);
  });

  it('decodes UTF-8 strictly', () => {
    expect(decodeUtf8(Buffer.from('{"a":"é😀"}'))).toBe('{"a":"é😀"}');
    for (const bytes of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98]]) {
      expect(codeOf(() => decodeUtf8(Buffer.from(bytes)))).toBe('invalid_encoding');
    }
  });

  it('measures depth without recursion', () => {
    expect(jsonDepth(1)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep)).toBe(100_000);
  });
});

describe("the provider's parameter check skips parsing only where parsing could find nothing", () => {
  // oidc/routes.ts: most form-encoded parameters are passed without parsing them; this says the
  // quick answer is always the full one, on text built to break it (percent-escapes of controls,
  // surrogates and invalid UTF-8, raw controls, and lengths about the bounds).
  const pieces = fc.oneof(
    fc.constantFrom(
      '%00',
      '%01',
      '%09',
      '%0A',
      '%0d',
      '%1F',
      '%1f',
      '%20',
      '%7F',
      '%ED%A0%80',
      '%F0%9F%98%80',
      '%C0%80',
      '%',
      '%%',
      '%0',
      '%g0',
    ),
    fc.constantFrom(
      '\u0000',
      '\t',
      '\u001b',
      '\u0100',
      '\u2000',
      '+',
      '&',
      '=',
      '?',
      'a=b',
      'x'.repeat(1000),
      '😀',
      '\ud800',
    ),
    fc.string({ maxLength: 12 }),
  );
  const text = fc.array(pieces, { maxLength: 12 }).map((parts) => parts.join(''));
  it('for the query and a form body alike', () => {
    fc.assert(
      fc.property(text, text, (query, form) => {
        const req = { url: `/token?${query}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
        const body = Buffer.from(form, 'utf8');
        expect(invalidParameters(req, body)).toBe(invalidParameters(req, body, { quick: false }));
      }),
      { numRuns: 3000 },
    );
  });
  it('and the full check still refuses what it refused', () => {
    const req = { url: '/token?state=a%00b', headers: {} };
    expect(invalidParameters(req, undefined)).toMatch(/control characters/);
    const long = { url: `/token?state=${'x'.repeat(4097)}`, headers: {} };
    expect(invalidParameters(long, undefined)).toMatch(/longer than 4096/);
  });
});
