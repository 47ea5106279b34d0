/**
 * What the contract check (diff.ts, schema.ts) says of a change, and JSON helpers for both.
 */

export type ChangeKind = 'breaking' | 'additive' | 'docs';

export interface Change {
  kind: ChangeKind;
  /** `PATCH /api/v1/tenants/{slug} request body (application/json) settings.defaultLocale` */
  where: string;
  message: string;
}

export type Obj = Record<string, unknown>;
export type Direction = 'request' | 'response';

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** Deep equality of JSON values (key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (!isObj(a) || !isObj(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameJson(a[k], b[k]));
}

/** Text only: never part of the contract. */
export const annotations = new Set([
  'description',
  'title',
  'summary',
  'examples',
  'example',
  '$comment',
  'externalDocs',
]);

/** Local `$ref`s of one document, resolved by JSON pointer. */
export class Resolver {
  constructor(private readonly doc: unknown) {}

  /** The node a `$ref` points at, with the `$ref`'s own sibling keywords on top; `undefined` if it points nowhere. */
  resolve(node: unknown): unknown {
    let current = node;
    for (let hops = 0; isObj(current) && typeof current.$ref === 'string'; hops++) {
      if (hops > 32) return undefined;
      const { $ref, ...siblings } = current;
      const target = this.pointer($ref as string);
      if (target === undefined) return undefined;
      current = isObj(target) ? { ...target, ...siblings } : target;
    }
    return current;
  }

  private pointer(ref: string): unknown {
    if (!ref.startsWith('#')) return undefined;
    let node: unknown = this.doc;
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObj(node) && !Array.isArray(node)) return undefined;
      node = (node as Obj)[key];
      if (node === undefined) return undefined;
    }
    return node;
  }
}
