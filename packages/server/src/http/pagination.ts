/**
 * Keyset pagination shared by every list: `?limit=&cursor=&sort=`. The cursor is opaque to
 * clients (base64url JSON of the last row's sort value and id); a cursor made for another
 * sort order is refused, so pages never skip or repeat rows.
 */
import { type Expression, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { badRequest } from './errors.js';
import { isUnsafeText } from './text.js';

export const limitSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(200)
  .default(50)
  .describe('Page size, 1 to 200 (default 50)');
export const cursorSchema = z.string().max(2048).optional().describe('Opaque cursor from `nextCursor`');

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export interface SortField {
  /** Column (qualified if the query joins) holding the sort value. */
  column: string;
  nullable?: boolean;
  /**
   * Type of the sort value. Cursors are plain JSON a client can edit: one carrying a value of
   * another type is refused here rather than failing in the database (PostgreSQL errors on
   * `bigint > 'abc'`). Undeclared: a string or a safe integer.
   */
  type?: 'string' | 'number';
}

export interface Sort {
  field: string;
  column: string;
  nullable: boolean;
  descending: boolean;
  type?: 'string' | 'number';
}

/** `sort=field` or `sort=-field`; unknown fields are a 400 naming the allowed ones. */
export function parseSort(raw: string | undefined, fields: Record<string, SortField>, fallback: string): Sort {
  const value = raw ?? fallback;
  const descending = value.startsWith('-');
  const field = descending ? value.slice(1) : value;
  const spec = Object.hasOwn(fields, field) ? fields[field] : undefined;
  if (!spec) {
    throw badRequest('invalid_sort', `Cannot sort by "${field}"`, { allowed: Object.keys(fields) });
  }
  return { field: value, column: spec.column, nullable: spec.nullable ?? false, descending, type: spec.type };
}

interface CursorData {
  s: string;
  v: string | number | null;
  id: string;
}

export function encodeCursor(sort: Sort, value: string | number | null, id: string): string {
  const data: CursorData = { s: sort.field, v: value, id };
  return Buffer.from(JSON.stringify(data)).toString('base64url');
}

export function decodeCursor(raw: string | undefined, sort: Sort): CursorData | undefined {
  if (raw === undefined) return undefined;
  try {
    const data = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (
      typeof data === 'object' &&
      data !== null &&
      (data as CursorData).s === sort.field &&
      typeof (data as CursorData).id === 'string' &&
      !isUnsafeText((data as CursorData).id) &&
      isSortValue((data as CursorData).v, sort)
    ) {
      return data as CursorData;
    }
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  throw badRequest('invalid_cursor', 'The cursor is not one this list issued for this sort order');
}

function isSortValue(v: unknown, sort: Sort): boolean {
  if (v === null) return sort.nullable;
  if (typeof v === 'number') return sort.type !== 'string' && Number.isSafeInteger(v);
  // A cursor is text a client can edit, decoded past the request's own text checks.
  return typeof v === 'string' && sort.type !== 'number' && !isUnsafeText(v);
}

/**
 * Adds ORDER BY and the keyset condition after `cursor` to a query. Nulls sort first in
 * ascending order (and last in descending) on both dialects.
 */
export function applyKeyset<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  sort: Sort,
  idColumn: string,
  cursor: CursorData | undefined,
): SelectQueryBuilder<DB, TB, O> {
  const col = sql.ref(sort.column);
  const id = sql.ref(idColumn);
  let q = query;
  if (cursor) {
    q = q.where(keysetCondition(sort, col, id, cursor));
  }
  const dir = sort.descending ? 'desc' : 'asc';
  if (sort.nullable) {
    q = q.orderBy(sql`${col} ${sql.raw(dir)} ${sql.raw(sort.descending ? 'nulls last' : 'nulls first')}`);
  } else {
    q = q.orderBy(sql`${col} ${sql.raw(dir)}`);
  }
  return q.orderBy(sql`${id} ${sql.raw(dir)}`);
}

function keysetCondition(
  sort: Sort,
  col: Expression<unknown>,
  id: Expression<unknown>,
  cursor: CursorData,
): Expression<SqlBool> {
  const after = sort.descending ? sql.raw('<') : sql.raw('>');
  if (cursor.v === null) {
    // Rows with a null sort value come first ascending, last descending.
    return sort.descending
      ? sql<boolean>`(${col} is null and ${id} < ${cursor.id})`
      : sql<boolean>`((${col} is null and ${id} > ${cursor.id}) or ${col} is not null)`;
  }
  const base = sql<boolean>`(${col} ${after} ${cursor.v} or (${col} = ${cursor.v} and ${id} ${after} ${cursor.id}))`;
  return sort.nullable && sort.descending ? sql<boolean>`(${base} or ${col} is null)` : base;
}

/** Takes one row beyond the page to know whether there is a next one. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  sort: Sort,
  sortValue: (row: R) => string | number | null,
  rowId: (row: R) => string,
  map: (row: R) => T,
): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(map),
    nextCursor: more && last !== undefined ? encodeCursor(sort, sortValue(last), rowId(last)) : null,
  };
}

/** Upper bound for a prefix range: every string starting with `prefix` sorts below it. */
export function prefixUpperBound(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}
