/**
 * What changed between two OpenAPI 3.1 documents, from the side of a client written against the
 * first: each change is `breaking` (such a client can fail), `additive` (the contract changed and
 * stays compatible: a minor version) or `docs` (text only). docs/api.md, "Versioning and the
 * contract", is the policy in words. Paths, operations, parameters, bodies, responses, headers
 * and security here; schemas in schema.ts. Anything of a document this module does not know
 * counts as breaking when it changes.
 */
import {
  annotations,
  type Change,
  type ChangeKind,
  type Direction,
  isObj,
  type Obj,
  Resolver,
  sameJson,
  show,
} from './common.js';
import { SchemaDiff } from './schema.js';

export type { Change, ChangeKind } from './common.js';

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

export class DocumentDiff {
  readonly changes: Change[] = [];
  private readonly before: Resolver;
  private readonly after: Resolver;
  private readonly schemas: SchemaDiff;

  constructor(
    private readonly beforeDoc: Obj,
    private readonly afterDoc: Obj,
  ) {
    this.before = new Resolver(beforeDoc);
    this.after = new Resolver(afterDoc);
    this.schemas = new SchemaDiff(this.before, this.after, this.changes);
  }

  private add(kind: ChangeKind, where: string, message: string): void {
    this.changes.push({ kind, where, message });
  }

  private compareSchema(rawB: unknown, rawA: unknown, dir: Direction, where: string): void {
    this.schemas.compare(rawB, rawA, dir, where, '');
  }

  compare(): Change[] {
    this.compareTopLevel();
    const beforePaths = pathIndex(this.beforeDoc);
    const afterPaths = pathIndex(this.afterDoc);
    for (const [key, b] of beforePaths) {
      const a = afterPaths.get(key);
      if (!a) this.add('breaking', b.path, 'path removed');
      else this.comparePathItem(b, a);
    }
    for (const [key, a] of afterPaths) if (!beforePaths.has(key)) this.add('additive', a.path, 'path added');
    return this.changes;
  }

  private compareTopLevel(): void {
    const b = this.beforeDoc;
    const a = this.afterDoc;
    const handled = new Set(['openapi', 'info', 'paths', 'components', 'security', 'tags', 'externalDocs']);
    if (b.openapi !== a.openapi) this.add('docs', 'openapi', `OpenAPI version ${show(b.openapi)} → ${show(a.openapi)}`);
    const bInfo = isObj(b.info) ? b.info : {};
    const aInfo = isObj(a.info) ? a.info : {};
    for (const key of new Set([...Object.keys(bInfo), ...Object.keys(aInfo)])) {
      if (key !== 'version' && !sameJson(bInfo[key], aInfo[key])) this.add('docs', `info.${key}`, 'changed');
    }
    for (const key of ['tags', 'externalDocs']) if (!sameJson(b[key], a[key])) this.add('docs', key, 'changed');
    const bSchemes = securitySchemes(b);
    const aSchemes = securitySchemes(a);
    for (const [name, scheme] of Object.entries(bSchemes)) {
      const where = `security scheme ${name}`;
      if (!(name in aSchemes)) this.add('breaking', where, 'removed');
      else if (!sameJson(withoutAnnotations(scheme), withoutAnnotations(aSchemes[name]))) {
        this.add('breaking', where, 'changed');
      } else if (!sameJson(scheme, aSchemes[name])) this.add('docs', where, 'description changed');
    }
    for (const name of Object.keys(aSchemes)) {
      if (!(name in bSchemes)) this.add('additive', `security scheme ${name}`, 'added');
    }
    for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (!handled.has(key) && !sameJson(b[key], a[key])) {
        this.add('breaking', key, `changed \`${key}\` (not classified by the contract check)`);
      }
    }
  }

  private comparePathItem(b: PathEntry, a: PathEntry): void {
    for (const method of methods) {
      const bOp = b.item[method];
      const aOp = a.item[method];
      const where = `${method.toUpperCase()} ${a.path}`;
      if (isObj(bOp) && !isObj(aOp)) this.add('breaking', where, 'operation removed');
      else if (!isObj(bOp) && isObj(aOp)) this.add('additive', where, 'operation added');
      else if (isObj(bOp) && isObj(aOp)) this.compareOperation(where, b, bOp, a, aOp);
    }
    const known = new Set<string>([...methods, 'parameters', 'summary', 'description', '$ref']);
    for (const key of new Set([...Object.keys(b.item), ...Object.keys(a.item)])) {
      if (known.has(key) || sameJson(b.item[key], a.item[key])) continue;
      this.add('breaking', a.path, `changed \`${key}\` (not classified by the contract check)`);
    }
  }

  private compareOperation(where: string, bPath: PathEntry, b: Obj, aPath: PathEntry, a: Obj): void {
    for (const key of ['summary', 'description', 'tags', 'externalDocs']) {
      if (!sameJson(b[key], a[key])) this.add('docs', where, `${key} changed`);
    }
    if (b.operationId !== a.operationId) {
      if (b.operationId === undefined) this.add('additive', where, `operationId ${show(a.operationId)} added`);
      else this.add('breaking', where, `operationId ${show(b.operationId)} → ${show(a.operationId)}`);
    }
    if (Boolean(b.deprecated) !== Boolean(a.deprecated)) {
      this.add('additive', where, a.deprecated ? 'deprecated' : 'no longer deprecated');
    }
    this.compareSecurity(where, b, a);
    this.compareParameters(where, this.parameters(this.before, bPath, b), this.parameters(this.after, aPath, a));
    this.compareRequestBody(where, b.requestBody, a.requestBody);
    this.compareResponses(where, b.responses, a.responses);
    const known = new Set([
      'summary',
      'description',
      'tags',
      'externalDocs',
      'operationId',
      'deprecated',
      'security',
      'parameters',
      'requestBody',
      'responses',
    ]);
    for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (!known.has(key) && !sameJson(b[key], a[key])) {
        this.add('breaking', where, `changed \`${key}\` (not classified by the contract check)`);
      }
    }
  }

  /** Each alternative a client could authenticate with; `{}` is "no credential". */
  private compareSecurity(where: string, b: Obj, a: Obj): void {
    const alternatives = (doc: Obj, op: Obj): Map<string, string> => {
      const list = (op.security ?? doc.security ?? []) as unknown[];
      const entries = (list.length === 0 ? [{}] : list).map((req) => {
        const canon = Object.entries(isObj(req) ? req : {})
          .map(([name, scopes]) => [name, Array.isArray(scopes) ? [...scopes].sort() : []] as const)
          .sort(([x], [y]) => (x < y ? -1 : 1));
        const label =
          canon.length === 0
            ? 'no credential'
            : canon.map(([n, s]) => (s.length ? `${n} (${s.join(' ')})` : n)).join(' + ');
        return [JSON.stringify(canon), label] as const;
      });
      return new Map(entries);
    };
    const before = alternatives(this.beforeDoc, b);
    const after = alternatives(this.afterDoc, a);
    for (const [key, label] of before) if (!after.has(key)) this.add('breaking', where, `no longer accepts ${label}`);
    for (const [key, label] of after) if (!before.has(key)) this.add('additive', where, `now also accepts ${label}`);
  }

  /** Path-level and operation-level parameters; path parameters by position (renaming one changes no URL). */
  private parameters(resolver: Resolver, path: PathEntry, op: Obj): Map<string, Obj> {
    const out = new Map<string, Obj>();
    const positions = [...path.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const list of [path.item.parameters, op.parameters]) {
      for (const raw of Array.isArray(list) ? list : []) {
        const p = resolver.resolve(raw);
        if (!isObj(p) || typeof p.name !== 'string' || typeof p.in !== 'string') continue;
        const key =
          p.in === 'path'
            ? `path parameter #${positions.indexOf(p.name) + 1}`
            : `${p.in} parameter ${p.in === 'header' ? p.name.toLowerCase() : p.name}`;
        out.set(key, p);
      }
    }
    return out;
  }

  private compareParameters(where: string, before: Map<string, Obj>, after: Map<string, Obj>): void {
    for (const [key, b] of before) {
      const a = after.get(key);
      const at = `${where} ${key.startsWith('path') ? `path parameter ${String(b.name)}` : key}`;
      if (!a) {
        this.add('breaking', at, 'parameter removed');
        continue;
      }
      if (!b.required && a.required) this.add('breaking', at, 'now required');
      if (b.required && !a.required) this.add('additive', at, 'now optional');
      if (Boolean(b.deprecated) !== Boolean(a.deprecated))
        this.add('additive', at, a.deprecated ? 'deprecated' : 'no longer deprecated');
      for (const k of ['style', 'explode', 'allowReserved', 'allowEmptyValue', 'content']) {
        if (!sameJson(b[k], a[k])) this.add('breaking', at, `${k} changed`);
      }
      for (const k of ['description', 'example', 'examples'])
        if (!sameJson(b[k], a[k])) this.add('docs', at, `${k} changed`);
      this.compareSchema(b.schema ?? {}, a.schema ?? {}, 'request', at);
    }
    for (const [key, a] of after) {
      if (before.has(key)) continue;
      const at = `${where} ${key.startsWith('path') ? `path parameter ${String(a.name)}` : key}`;
      if (a.required) this.add('breaking', at, 'new required parameter');
      else this.add('additive', at, 'new optional parameter');
    }
  }

  private compareRequestBody(where: string, rawB: unknown, rawA: unknown): void {
    const b = this.before.resolve(rawB);
    const a = this.after.resolve(rawA);
    const at = `${where} request body`;
    if (!isObj(b) && !isObj(a)) return;
    if (!isObj(a)) {
      this.add('breaking', at, 'removed: the operation no longer takes a body');
      return;
    }
    if (!isObj(b)) {
      this.add(
        a.required ? 'breaking' : 'additive',
        at,
        a.required ? 'new required request body' : 'new optional request body',
      );
      return;
    }
    if (!b.required && a.required) this.add('breaking', at, 'now required');
    if (b.required && !a.required) this.add('additive', at, 'now optional');
    if (!sameJson(b.description, a.description)) this.add('docs', at, 'description changed');
    this.compareContent(at, b.content, a.content, 'request');
  }

  private compareResponses(where: string, rawB: unknown, rawA: unknown): void {
    const b = isObj(rawB) ? rawB : {};
    const a = isObj(rawA) ? rawA : {};
    for (const status of Object.keys(b)) {
      const at = `${where} response ${status}`;
      if (!(status in a)) {
        this.add('breaking', at, `status ${status} removed`);
        continue;
      }
      const bRes = this.before.resolve(b[status]);
      const aRes = this.after.resolve(a[status]);
      if (!isObj(bRes) || !isObj(aRes)) {
        if (!sameJson(bRes, aRes)) this.add('breaking', at, 'response cannot be resolved');
        continue;
      }
      if (!sameJson(bRes.description, aRes.description)) this.add('docs', at, 'description changed');
      this.compareContent(at, bRes.content, aRes.content, 'response');
      this.compareHeaders(at, bRes.headers, aRes.headers);
    }
    for (const status of Object.keys(a)) {
      if (!(status in b)) this.add('additive', `${where} response ${status}`, `status ${status} added`);
    }
  }

  private compareHeaders(where: string, rawB: unknown, rawA: unknown): void {
    const b = isObj(rawB) ? rawB : {};
    const a = isObj(rawA) ? rawA : {};
    const bKeys = new Map(Object.keys(b).map((k) => [k.toLowerCase(), k]));
    const aKeys = new Map(Object.keys(a).map((k) => [k.toLowerCase(), k]));
    for (const [lower, name] of bKeys) {
      const at = `${where} header ${name}`;
      const aName = aKeys.get(lower);
      if (aName === undefined) {
        this.add('breaking', at, 'header removed');
        continue;
      }
      const bH = this.before.resolve(b[name]);
      const aH = this.after.resolve(a[aName]);
      if (!isObj(bH) || !isObj(aH)) continue;
      if (bH.required && !aH.required) this.add('breaking', at, 'may now be missing');
      this.compareSchema(bH.schema ?? {}, aH.schema ?? {}, 'response', at);
    }
    for (const [lower, name] of aKeys)
      if (!bKeys.has(lower)) this.add('additive', `${where} header ${name}`, 'header added');
  }

  private compareContent(where: string, rawB: unknown, rawA: unknown, dir: Direction): void {
    const b = isObj(rawB) ? rawB : {};
    const a = isObj(rawA) ? rawA : {};
    for (const type of Object.keys(b)) {
      const at = `${where} (${type})`;
      const bMedia = b[type];
      const aMedia = a[type];
      if (!isObj(aMedia)) {
        this.add('breaking', at, `media type ${type} removed`);
        continue;
      }
      if (isObj(bMedia)) this.compareSchema(bMedia.schema ?? {}, aMedia.schema ?? {}, dir, at);
    }
    for (const type of Object.keys(a))
      if (!(type in b)) this.add('additive', `${where} (${type})`, `media type ${type} added`);
  }
}

interface PathEntry {
  path: string;
  item: Obj;
}

/** Paths by template with parameter names blanked (`/t/{slug}` and `/t/{tenant}` are one URL). */
function pathIndex(doc: Obj): Map<string, PathEntry> {
  const paths = isObj(doc.paths) ? doc.paths : {};
  return new Map(
    Object.entries(paths)
      .filter((entry): entry is [string, Obj] => isObj(entry[1]))
      .map(([path, item]) => [path.replace(/\{[^}]+\}/g, '{}'), { path, item }]),
  );
}

function securitySchemes(doc: Obj): Obj {
  const components = isObj(doc.components) ? doc.components : {};
  return isObj(components.securitySchemes) ? components.securitySchemes : {};
}

function withoutAnnotations(v: unknown): unknown {
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !annotations.has(k)));
}

/** Every change from `before` to `after`, in document order. */
export function diffDocuments(before: unknown, after: unknown): Change[] {
  if (!isObj(before) || !isObj(after)) throw new TypeError('an OpenAPI document is a JSON object');
  return new DocumentDiff(before, after).compare();
}
