/**
 * The checks a JSON request body passes before it is parsed, so that what reaches validation
 * is exactly what the client meant and cheap to validate: the bytes are UTF-8 (else 400
 * `invalid_encoding`, where a lenient decoder would store U+FFFD in their place); no object
 * names a key twice (400 `duplicate_key`, where JSON.parse keeps the last one silently); no
 * number overflows to Infinity (400 `invalid_json`); and the document nests at most
 * `JSON_MAX_DEPTH` levels with at most `JSON_MAX_MEMBERS` members per object or array (400
 * `json_too_complex`), so that no recursive validator or serializer can exhaust the stack.
 * One pass over the text, iterative; syntax errors are left to the parser that follows.
 */
import { badRequest } from './errors.js';

/** Deepest nesting of objects and arrays a body may have (the body itself is level 1). */
export const JSON_MAX_DEPTH = 32;
/** Most keys of one object, or items of one array, a body may have. */
export const JSON_MAX_MEMBERS = 1000;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body's text, or a 400 `invalid_encoding` when its bytes are not UTF-8. */
export function decodeUtf8(body: Buffer): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw badRequest('invalid_encoding', 'The body is not valid UTF-8');
  }
}

interface Frame {
  object: boolean;
  keys: Set<string>;
  members: number;
  path: string;
  /** The last key read in this object, for paths. */
  key: string;
}

/** `path` (a JSON pointer) followed by `key`, escaped as RFC 6901 says. */
export const pointer = (path: string, key: string) => `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route's own bound on members per object or array (a batch of keys); JSON_MAX_MEMBERS otherwise. */
    jsonMaxMembers?: number;
    /**
     * The route reads its body as a stream, as long as it keeps coming (a user import): no
     * deadline for the whole request, but the route's own for silence.
     */
    streamedBody?: boolean;
  }
}

/**
 * Throws the 400 a body breaking one of the rules above gets; returns nothing otherwise.
 * `maxMembers`: the route's bound on members (JSON_MAX_MEMBERS by default).
 */
export function checkJsonShape(text: string, maxMembers = JSON_MAX_MEMBERS): void {
  const stack: Frame[] = [];
  const at = () => stack[stack.length - 1];
  const member = () => {
    const top = at();
    if (!top || top.object) return;
    top.members += 1;
    if (top.members > maxMembers) {
      throw tooComplex(`more than ${maxMembers} items`, top.path || '/', { maxMembers });
    }
  };
  const childPath = () => {
    const top = at();
    if (!top) return '';
    return top.object ? pointer(top.path, top.key) : `${top.path}/${top.members - 1}`;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '{' || c === '[') {
      member();
      const path = childPath();
      if (stack.length >= JSON_MAX_DEPTH) {
        throw tooComplex(`nested deeper than ${JSON_MAX_DEPTH} levels`, path || '/', { maxDepth: JSON_MAX_DEPTH });
      }
      stack.push({ object: c === '{', keys: new Set(), members: 0, path, key: '' });
      i += 1;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i += 1;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      let j = end;
      while (j < text.length && /\s/.test(text[j] ?? '')) j += 1;
      const top = at();
      if (top?.object && text[j] === ':') {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end)) as string;
        } catch {
          return; // malformed: the parser that follows says so
        }
        if (top.keys.has(key)) {
          throw badRequest('duplicate_key', `The body names the key ${pointer(top.path, key)} twice`, {
            path: pointer(top.path, key),
          });
        }
        top.keys.add(key);
        top.key = key;
        top.members += 1;
        if (top.members > maxMembers) {
          throw tooComplex(`more than ${maxMembers} keys`, top.path || '/', { maxMembers });
        }
      } else {
        member();
      }
      i = end;
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      member();
      let j = i + 1;
      while (j < text.length && /[-+0-9.eE]/.test(text[j] ?? '')) j += 1;
      if (!Number.isFinite(Number(text.slice(i, j)))) {
        throw badRequest('invalid_json', `The number at ${childPath() || '/'} is not one a double can hold`);
      }
      i = j;
    } else if (c === 't' || c === 'f' || c === 'n') {
      member();
      while (i < text.length && /[a-z]/.test(text[i] ?? '')) i += 1;
    } else {
      i += 1;
    }
  }
}

/** Index just past the string token starting at `start` (a quote). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i += 1;
  }
  return text.length;
}

function tooComplex(what: string, path: string, limits: Record<string, number>) {
  return badRequest('json_too_complex', `The body is too complex: ${path} has ${what}`, { path, ...limits });
}

/** How many levels of objects and arrays `value` nests (a scalar is 0). Iterative. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    for (const v of Object.values(item)) pending.push([v, depth + 1]);
  }
  return deepest;
}
