/** The roles list of one tenant: search by name prefix, sort, cursor paging. */
import type { QueryValue } from '../../api/client';
import { queryKeys } from '../../api/queries';

export const ROLE_SORTS = ['name', '-name', 'createdAt', '-createdAt'] as const;
export const DEFAULT_ROLE_SORT = 'name';
export const ROLE_PAGE_SIZE = 50;

export interface RolesListParams {
  q: string;
  sort: string;
  cursor: string | null;
}

/** Under `queryKeys.roles(slug)`, so whatever invalidates the role pickers refreshes this list too. */
export function rolesListKey(slug: string, params: RolesListParams) {
  return [...queryKeys.roles(slug), 'list', params] as const;
}

export function rolesListQuery(params: RolesListParams): Record<string, QueryValue> {
  return {
    q: params.q.trim() || undefined,
    sort: params.sort === DEFAULT_ROLE_SORT ? undefined : params.sort,
    limit: ROLE_PAGE_SIZE,
    cursor: params.cursor ?? undefined,
  };
}

export function roleSortFrom(raw: string | null): string {
  return raw && (ROLE_SORTS as readonly string[]).includes(raw) ? raw : DEFAULT_ROLE_SORT;
}
