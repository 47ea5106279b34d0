import type { QueryValue } from '../../api/client';

export const apiKeysKey = (slug: string) => ['tenant', slug, 'api-keys'] as const;

export const API_KEY_SORTS = ['-createdAt', 'createdAt', 'name', '-name'] as const;
export const DEFAULT_API_KEY_SORT = '-createdAt';

export function apiKeySortFrom(raw: string | null): string {
  return raw && (API_KEY_SORTS as readonly string[]).includes(raw) ? raw : DEFAULT_API_KEY_SORT;
}

export function apiKeysListQuery(sort: string, cursor: string | null): Record<string, QueryValue> {
  return { sort: sort === DEFAULT_API_KEY_SORT ? undefined : sort, limit: 50, cursor: cursor ?? undefined };
}
