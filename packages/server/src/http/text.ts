/**
 * What text may hold, wherever it enters (admin API bodies, query strings and path
 * parameters; the sign-in pages' forms; oidc-provider's parameters): any Unicode text except
 * the C0 control characters other than tab, line feed and carriage return (NUL above all,
 * which PostgreSQL refuses in text while SQLite stores it, so that one request would answer
 * 500 on one database and store on the other), and unpaired UTF-16 surrogates (which no
 * UTF-8 store can hold: both drivers would silently store U+FFFD instead). One rule, checked
 * once per entry kind before any route or library sees the value, so that a field added later
 * is covered without a thought.
 */
import { badRequest } from './errors.js';
import { pointer } from './json.js';

/** C0 controls except \t \n \r, and surrogates not part of a pair. */
const unsafeText =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this rule's purpose
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when the string breaks the rule above. */
export function isUnsafeText(value: string): boolean {
  return unsafeText.test(value);
}

/**
 * The JSON-pointer-like path (`/attributes/nick`) of the first string or key in `value` that
 * breaks the rule, or undefined. Iterative, so that no input can exhaust the stack.
 */
export function findUnsafeText(value: unknown): string | undefined {
  const pending: [unknown, string][] = [[value, '']];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, path] = next;
    if (typeof item === 'string') {
      if (isUnsafeText(item)) return path || '/';
    } else if (Array.isArray(item)) {
      item.forEach((v, i) => {
        pending.push([v, `${path}/${i}`]);
      });
    } else if (item !== null && typeof item === 'object') {
      for (const [k, v] of Object.entries(item)) {
        const at = pointer(path, k);
        if (isUnsafeText(k)) return at;
        pending.push([v, at]);
      }
    }
  }
  return undefined;
}

/** The 400 for text that breaks the rule: `in` is body, querystring or params. */
export function invalidText(where: string, path: string) {
  return badRequest(
    'invalid_text',
    `Invalid ${where}: ${path} holds a control character or an unpaired surrogate, which text may not hold`,
    { in: where, path },
  );
}

/** Where in a request (path parameters, query string, body) text first breaks the rule. */
export function findUnsafeRequestText(req: {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}): { in: string; path: string } | undefined {
  for (const [where, value] of [
    ['params', req.params],
    ['querystring', req.query],
    ['body', req.body],
  ] as const) {
    const path = findUnsafeText(value);
    // The path may hold the offending key itself: only printable ASCII of it is repeated.
    if (path !== undefined) return { in: where, path: path.replace(/[^\x20-\x7e]/g, '?') };
  }
  return undefined;
}

/** Throws `invalid_text` for unsafe text in a request: the admin API's preValidation hook. */
export function assertSafeRequestText(req: { params?: unknown; query?: unknown; body?: unknown }): void {
  const found = findUnsafeRequestText(req);
  if (found) throw invalidText(found.in, found.path);
}
