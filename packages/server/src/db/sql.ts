import { type Expression, type SqlBool, sql } from 'kysely';

/** Escapes LIKE wildcards for a pattern used with `escape '\'`. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `lower(column) LIKE 'prefix%'`, case-insensitive and wildcard-safe in both dialects. */
export function lowerLikePrefix(column: string, prefix: string): Expression<SqlBool> {
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${`${escapeLike(prefix.toLowerCase())}%`} escape '\\'`;
}
