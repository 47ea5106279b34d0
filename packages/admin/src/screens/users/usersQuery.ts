/**
 * The users list's state in the URL (`?q=ali&status=disabled&role=support&sort=-createdAt`) and
 * the API query built from it. Defaults stay out of both, so links are short and stable.
 */
import type { QueryValue } from '../../api/client';
import type { UserStatus } from '../../api/types';

export const USER_SORT_FIELDS = ['email', 'displayName', 'createdAt', 'updatedAt', 'lastLoginAt'] as const;
export const DEFAULT_USER_SORT = 'email';
export const USER_PAGE_SIZE = 50;

export interface UsersFilter {
  /** Prefix of email or display name. */
  q: string;
  status: '' | UserStatus;
  role: string;
  /** `field` or `-field`. */
  sort: string;
}

export const emptyUsersFilter: UsersFilter = { q: '', status: '', role: '', sort: DEFAULT_USER_SORT };

export function isUserSort(sort: string): boolean {
  const field = sort.startsWith('-') ? sort.slice(1) : sort;
  return (USER_SORT_FIELDS as readonly string[]).includes(field);
}

/** Reads the filter from the URL; anything the API would refuse falls back to the default. */
export function filterFromSearchParams(params: URLSearchParams): UsersFilter {
  const status = params.get('status');
  const sort = params.get('sort') ?? DEFAULT_USER_SORT;
  return {
    q: params.get('q') ?? '',
    status: status === 'active' || status === 'disabled' || status === 'pending' ? status : '',
    role: params.get('role') ?? '',
    sort: isUserSort(sort) ? sort : DEFAULT_USER_SORT,
  };
}

/** Writes the filter into URL parameters, keeping unrelated ones and leaving defaults out. */
export function filterToSearchParams(filter: UsersFilter, base?: URLSearchParams): URLSearchParams {
  const params = new URLSearchParams(base);
  const set = (key: string, value: string, fallback = '') => {
    if (value && value !== fallback) params.set(key, value);
    else params.delete(key);
  };
  set('q', filter.q);
  set('status', filter.status);
  set('role', filter.role);
  set('sort', filter.sort, DEFAULT_USER_SORT);
  return params;
}

/** The query of `GET /v1/tenants/{slug}/users` for a filter and a page cursor. */
export function usersListQuery(
  filter: UsersFilter,
  cursor: string | null,
  limit = USER_PAGE_SIZE,
): Record<string, QueryValue> {
  const q = filter.q.trim();
  return {
    q: q || undefined,
    status: filter.status || undefined,
    role: filter.role.trim() || undefined,
    sort: filter.sort && filter.sort !== DEFAULT_USER_SORT ? filter.sort : undefined,
    limit,
    cursor: cursor ?? undefined,
  };
}

/** What changes the result set (not the page): the pager starts again when it changes. */
export function filterKey(filter: UsersFilter): string {
  return JSON.stringify([filter.q.trim(), filter.status, filter.role.trim(), filter.sort]);
}
