/**
 * One schema position compared, in the direction it travels. A request schema is what the
 * server accepts: narrowing it breaks clients (a field removed or made required; a type, enum
 * value or bound taken away). A response schema is what clients read: a field removed or made
 * optional, a new type (null too) or an enum value removed breaks them; new fields and new enum
 * values do not (clients ignore what they do not know), and bounds are additive either way.
 *
 * The features zod 4 emits: `type` arrays, `anyOf` with null, `const`, `propertyNames`, boolean
 * `additionalProperties`, local `$ref`s (a cycle is compared once). A keyword not listed in
 * `schemaKeywords` counts as breaking when it changes, so no new kind of schema slips past.
 */
import {
  annotations,
  type Change,
  type ChangeKind,
  type Direction,
  isObj,
  type Obj,
  type Resolver,
  sameJson,
  show,
} from './common.js';

const lowerBounds = ['minLength', 'minItems', 'minProperties', 'minimum', 'exclusiveMinimum'] as const;
const upperBounds = ['maxLength', 'maxItems', 'maxProperties', 'maximum', 'exclusiveMaximum'] as const;

/** Schema keywords compared below; any other one is compared as a whole. */
const schemaKeywords = new Set<string>([
  ...annotations,
  ...lowerBounds,
  ...upperBounds,
  'type',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'pattern',
  'format',
  'multipleOf',
  'uniqueItems',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

/** A schema with `anyOf: [X, {type: 'null'}]` folded into X, and `const` as a one-value enum. */
interface Shape {
  schema: Obj;
  /** Types it accepts; `undefined`: any. */
  types: Set<string> | undefined;
  values: unknown[] | undefined;
  /** Two or more alternatives (anyOf/oneOf) that did not fold. */
  branches: unknown[] | undefined;
  /** A `{type: 'null'}` alternative was folded into `types`. */
  foldedNull: boolean;
}

const isNullSchema = (s: unknown): boolean => isObj(s) && s.type === 'null' && Object.keys(s).length === 1;

export class SchemaDiff {
  constructor(
    private readonly before: Resolver,
    private readonly after: Resolver,
    readonly changes: Change[] = [],
    /** Schema pairs being compared, against `$ref` cycles. */
    private readonly active = new Map<unknown, Set<unknown>>(),
  ) {}

  private add(kind: ChangeKind, where: string, message: string): void {
    this.changes.push({ kind, where, message });
  }

  /** Narrowing a request or widening a response breaks clients; the other way is additive. */
  private narrowed(dir: Direction, where: string, message: string): void {
    this.add(dir === 'request' ? 'breaking' : 'additive', where, message);
  }
  private widened(dir: Direction, where: string, message: string): void {
    this.add(dir === 'request' ? 'additive' : 'breaking', where, message);
  }

  /** Compares one schema position; `field` is the dotted path to it inside the body (`''` for the body itself). */
  compare(rawB: unknown, rawA: unknown, dir: Direction, where: string, field: string, depth = 0): void {
    // A `$ref` cycle: the pair is already being compared further up.
    if (this.active.get(rawB)?.has(rawA) || depth > 64) return;
    const pairs = this.active.get(rawB) ?? new Set<unknown>();
    this.active.set(rawB, pairs.add(rawA));
    try {
      this.compareResolved(rawB, rawA, dir, where, field, depth);
    } finally {
      pairs.delete(rawA);
    }
  }

  private compareResolved(
    rawB: unknown,
    rawA: unknown,
    dir: Direction,
    where: string,
    field: string,
    depth: number,
  ): void {
    const at = field ? `${where} ${field}` : where;
    const b = this.before.resolve(rawB);
    const a = this.after.resolve(rawA);
    if (b === undefined || a === undefined) {
      // A `$ref` that points nowhere: the same dangling reference on both sides is no change.
      if (!sameJson(rawB, rawA))
        this.add('breaking', at, `schema ${show(b === undefined ? rawB : rawA)} cannot be resolved`);
      return;
    }
    if (typeof b === 'boolean' || typeof a === 'boolean') {
      if (sameJson(normalBoolean(b), normalBoolean(a))) return;
      if (a === false) this.narrowed(dir, at, 'accepts no value any more');
      else if (b === false) this.widened(dir, at, 'now accepts values');
      else if (a === true) this.widened(dir, at, 'no longer constrained');
      else this.narrowed(dir, at, 'now constrained');
      return;
    }
    if (!isObj(b) || !isObj(a)) {
      if (!sameJson(b, a)) this.add('breaking', at, 'schema is not an object');
      return;
    }
    const bShape = this.shape(this.before, b);
    const aShape = this.shape(this.after, a);
    if (bShape.branches || aShape.branches) {
      this.compareBranches(bShape, aShape, dir, where, field, depth);
      return;
    }
    this.compareShapes(bShape, aShape, dir, where, field, depth);
  }

  private shape(resolver: Resolver, schema: Obj): Shape {
    let s = schema;
    let nullable = false;
    const alternatives = (s.anyOf ?? s.oneOf) as unknown;
    if (Array.isArray(alternatives)) {
      const rest = alternatives.filter((x) => !isNullSchema(resolver.resolve(x)));
      nullable = rest.length < alternatives.length;
      const { anyOf: _a, oneOf: _o, ...outer } = s;
      if (rest.length === 1) {
        const inner = resolver.resolve(rest[0]);
        s = { ...(isObj(inner) ? inner : {}), ...outer };
      } else {
        const branches = rest.map((x) => {
          const r = resolver.resolve(x);
          return isObj(r) ? { ...outer, ...r } : r;
        });
        if (nullable) branches.push({ type: 'null' });
        return { schema: outer, types: undefined, values: undefined, branches, foldedNull: false };
      }
    }
    const foldedNull = nullable;
    let types: Set<string> | undefined;
    if (typeof s.type === 'string') types = new Set([s.type]);
    else if (Array.isArray(s.type)) types = new Set(s.type.map(String));
    if (types && nullable) types.add('null');
    let values: unknown[] | undefined = Array.isArray(s.enum) ? [...s.enum] : undefined;
    if ('const' in s) values = values ? values.filter((v) => sameJson(v, s.const)) : [s.const];
    if (values && nullable && !values.some((v) => v === null)) values.push(null);
    return { schema: s, types, values, branches: undefined, foldedNull };
  }

  /**
   * Alternatives: in a request, each shape a client could send must still be accepted by one of
   * the new alternatives; in a response, each shape the server may now send must be one a client
   * already knew.
   */
  private compareBranches(b: Shape, a: Shape, dir: Direction, where: string, field: string, depth: number): void {
    const at = field ? `${where} ${field}` : where;
    const list = (s: Shape) => s.branches ?? (s.foldedNull ? [s.schema, { type: 'null' }] : [s.schema]);
    const bList = list(b);
    const aList = list(a);
    const [from, to] = dir === 'request' ? [bList, aList] : [aList, bList];
    const matched = new Set<number>();
    for (const [i, x] of from.entries()) {
      let best: Change[] | undefined;
      let bestIndex = -1;
      for (const [j, y] of to.entries()) {
        const trial = new SchemaDiff(this.before, this.after, [], this.active);
        if (dir === 'request') trial.compare(x, y, dir, where, field, depth + 1);
        else trial.compare(y, x, dir, where, field, depth + 1);
        if (trial.changes.some((c) => c.kind === 'breaking')) continue;
        if (!best || trial.changes.length < best.length) {
          best = trial.changes;
          bestIndex = j;
        }
      }
      if (!best) {
        this.add(
          'breaking',
          at,
          dir === 'request'
            ? `alternative ${i + 1} of ${from.length} is no longer accepted`
            : `may now be of a shape it never had (alternative ${i + 1} of ${from.length})`,
        );
        continue;
      }
      matched.add(bestIndex);
      this.changes.push(...best);
    }
    for (const j of to.keys()) {
      if (!matched.has(j)) {
        this.add(
          'additive',
          at,
          dir === 'request' ? `now also accepts alternative ${j + 1}` : `alternative ${j + 1} no longer returned`,
        );
      }
    }
  }

  private compareShapes(b: Shape, a: Shape, dir: Direction, where: string, field: string, depth: number): void {
    const at = field ? `${where} ${field}` : where;
    const bs = b.schema;
    const as = a.schema;
    this.compareTypes(b.types, a.types, dir, at);
    this.compareValues(b.values, a.values, dir, at);
    for (const key of lowerBounds) this.compareBound(key, bs[key], as[key], 'lower', dir, at);
    for (const key of upperBounds) this.compareBound(key, bs[key], as[key], 'upper', dir, at);
    // Like bounds (compareBound), these constrain what a request may send; in a response they are additive.
    const constraint = (tighter: boolean, message: string) =>
      this.add(dir === 'request' && tighter ? 'breaking' : 'additive', at, message);
    for (const key of ['pattern', 'format', 'multipleOf'] as const) {
      if (sameJson(bs[key], as[key])) continue;
      if (bs[key] === undefined) constraint(true, `${key} ${show(as[key])} added`);
      else if (as[key] === undefined) constraint(false, `${key} ${show(bs[key])} removed`);
      else constraint(true, `${key} ${show(bs[key])} → ${show(as[key])}`);
    }
    if (Boolean(bs.uniqueItems) !== Boolean(as.uniqueItems)) {
      constraint(
        Boolean(as.uniqueItems),
        as.uniqueItems ? 'items must now be unique' : 'items need no longer be unique',
      );
    }
    if (!sameJson(bs.default, as.default)) {
      // What the server does with an omitted field changes under clients that omit it.
      if (dir === 'request' && 'default' in bs && 'default' in as) {
        this.add('breaking', at, `default ${show(bs.default)} → ${show(as.default)}`);
      } else this.add(dir === 'request' ? 'additive' : 'docs', at, `default ${show(bs.default)} → ${show(as.default)}`);
    }
    for (const key of ['deprecated', 'readOnly', 'writeOnly']) {
      if (Boolean(bs[key]) !== Boolean(as[key])) this.add('additive', at, `${key}: ${Boolean(as[key])}`);
    }
    for (const key of annotations) if (!sameJson(bs[key], as[key])) this.add('docs', at, `${key} changed`);
    this.compareObject(bs, as, dir, where, field, depth);
    if ('items' in bs || 'items' in as) {
      this.compare(bs.items ?? {}, as.items ?? {}, dir, where, `${field}[]`, depth + 1);
    }
    if ('propertyNames' in bs || 'propertyNames' in as) {
      this.compare(bs.propertyNames ?? {}, as.propertyNames ?? {}, dir, where, `${field}{keys}`, depth + 1);
    }
    for (const key of new Set([...Object.keys(bs), ...Object.keys(as)])) {
      if (schemaKeywords.has(key) || sameJson(bs[key], as[key])) continue;
      this.add('breaking', at, `changed \`${key}\` (a keyword the contract check does not classify)`);
    }
  }

  private compareTypes(b: Set<string> | undefined, a: Set<string> | undefined, dir: Direction, at: string): void {
    const accepts = (set: Set<string> | undefined, t: string) =>
      set === undefined || set.has(t) || (t === 'integer' && set.has('number'));
    if (b === undefined && a === undefined) return;
    if (b === undefined) {
      this.narrowed(dir, at, `type now limited to ${[...(a ?? [])].join(' | ')}`);
      return;
    }
    if (a === undefined) {
      this.widened(dir, at, `type no longer limited to ${[...b].join(' | ')}`);
      return;
    }
    const lost = [...b].filter((t) => !accepts(a, t));
    const gained = [...a].filter((t) => !accepts(b, t));
    if (lost.length)
      this.narrowed(dir, at, `type ${lost.join(' | ')} no longer ${dir === 'request' ? 'accepted' : 'returned'}`);
    if (gained.length) {
      this.widened(
        dir,
        at,
        dir === 'request' ? `now also accepts ${gained.join(' | ')}` : `may now be ${gained.join(' | ')}`,
      );
    }
  }

  private compareValues(b: unknown[] | undefined, a: unknown[] | undefined, dir: Direction, at: string): void {
    if (b === undefined && a === undefined) return;
    if (b === undefined) {
      this.narrowed(dir, at, `now limited to ${a?.map(show).join(', ')}`);
      return;
    }
    if (a === undefined) {
      // A response enum that becomes open breaks clients generated with its values as a type.
      this.add(dir === 'request' ? 'additive' : 'breaking', at, `no longer limited to ${b.map(show).join(', ')}`);
      return;
    }
    const removed = b.filter((v) => !a.some((w) => sameJson(v, w)));
    const added = a.filter((v) => !b.some((w) => sameJson(v, w)));
    // A value removed breaks both sides: requests that send it, clients that test for it.
    if (removed.length)
      this.add('breaking', at, `enum value${removed.length > 1 ? 's' : ''} ${removed.map(show).join(', ')} removed`);
    if (added.length)
      this.add('additive', at, `enum value${added.length > 1 ? 's' : ''} ${added.map(show).join(', ')} added`);
  }

  /**
   * A request bound tightened (or added) is breaking, loosened additive. A response's bounds are
   * additive either way: the same zod schema bounds a field in requests and responses, and raising
   * a limit (a longer name) is the usual, compatible growth.
   */
  private compareBound(
    key: string,
    bv: unknown,
    av: unknown,
    side: 'lower' | 'upper',
    dir: Direction,
    at: string,
  ): void {
    if (sameJson(bv, av)) return;
    const tighter =
      av !== undefined && (bv === undefined || (side === 'lower' ? Number(av) > Number(bv) : Number(av) < Number(bv)));
    const message =
      bv === undefined
        ? `${key} ${show(av)} added`
        : av === undefined
          ? `${key} ${show(bv)} removed`
          : `${key} ${show(bv)} → ${show(av)}`;
    this.add(
      dir === 'request' && tighter ? 'breaking' : 'additive',
      at,
      tighter ? `${message} (tighter)` : `${message} (looser)`,
    );
  }

  private compareObject(bs: Obj, as: Obj, dir: Direction, where: string, field: string, depth: number): void {
    const bProps = isObj(bs.properties) ? bs.properties : {};
    const aProps = isObj(as.properties) ? as.properties : {};
    const bReq = new Set(Array.isArray(bs.required) ? bs.required.map(String) : []);
    const aReq = new Set(Array.isArray(as.required) ? as.required.map(String) : []);
    const child = (name: string) => (field ? `${field}.${name}` : name);
    for (const name of Object.keys(bProps)) {
      const at = `${where} ${child(name)}`;
      if (!(name in aProps)) {
        this.add('breaking', at, dir === 'request' ? 'request field removed' : 'response field removed');
        continue;
      }
      if (dir === 'request' && !bReq.has(name) && aReq.has(name))
        this.add('breaking', at, 'request field now required');
      if (dir === 'request' && bReq.has(name) && !aReq.has(name))
        this.add('additive', at, 'request field now optional');
      if (dir === 'response' && bReq.has(name) && !aReq.has(name))
        this.add('breaking', at, 'response field may now be missing');
      if (dir === 'response' && !bReq.has(name) && aReq.has(name))
        this.add('additive', at, 'response field now always present');
      this.compare(bProps[name], aProps[name], dir, where, child(name), depth + 1);
    }
    for (const name of Object.keys(aProps)) {
      if (name in bProps) continue;
      const at = `${where} ${child(name)}`;
      if (dir === 'request' && aReq.has(name)) this.add('breaking', at, 'new required request field');
      else this.add('additive', at, dir === 'request' ? 'new optional request field' : 'new response field');
    }
    // Names required without a property schema of their own.
    for (const name of aReq) {
      if (!(name in aProps) && !bReq.has(name)) this.narrowed(dir, `${where} ${child(name)}`, 'now required');
    }
    this.compareAdditional(bs.additionalProperties, as.additionalProperties, dir, where, field, depth);
  }

  /** `additionalProperties`: absent, `true` and `{}` allow anything, `false` nothing, a schema its values. */
  private compareAdditional(
    rawB: unknown,
    rawA: unknown,
    dir: Direction,
    where: string,
    field: string,
    depth: number,
  ): void {
    const kind = (v: unknown) =>
      v === undefined || v === true || (isObj(v) && Object.keys(v).length === 0)
        ? 'any'
        : v === false
          ? 'none'
          : 'schema';
    const b = kind(rawB);
    const a = kind(rawA);
    const at = field ? `${where} ${field}` : where;
    if (b === 'schema' && a === 'schema') {
      this.compare(rawB, rawA, dir, where, `${field}{}`, depth + 1);
      return;
    }
    if (b === a) return;
    if (dir === 'request') {
      if (b === 'any' || (b === 'schema' && a === 'none'))
        this.add('breaking', at, 'fields it does not name are now refused or constrained');
      else this.add('additive', at, 'now accepts more fields it does not name');
      return;
    }
    // Responses: clients ignore fields they do not know, so only values of a map that lose their schema break.
    if (b === 'schema' && a === 'any') this.add('breaking', at, 'values of the map are no longer constrained');
    else this.add('additive', at, 'fields it does not name: changed');
  }
}

function normalBoolean(v: unknown): unknown {
  return v === true ? {} : v;
}
