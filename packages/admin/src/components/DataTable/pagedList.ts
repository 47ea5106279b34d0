import type { UseQueryResult } from '@tanstack/react-query';
import type { Page } from '../../api/types';
import type { DataTablePage } from './DataTable';
import type { useCursorPager } from './pager';

type Pager = ReturnType<typeof useCursorPager>;

/** The DataTable's pager for a cursor-paged API list: the next page starts at the list's `nextCursor`. */
export function cursorPage(list: UseQueryResult<Page<unknown>, unknown>, pager: Pager): DataTablePage {
  return {
    number: pager.page,
    hasNext: Boolean(list.data?.nextCursor),
    onNext: () => pager.next(list.data?.nextCursor ?? null),
    onPrevious: pager.previous,
  };
}

/**
 * The DataTable props of one page of a cursor-paged API list (queried with `keepPreviousData`):
 * its rows, loading and refetching, its error with a retry, and the pager.
 */
export function pagedListProps<T>(list: UseQueryResult<Page<T>, unknown>, pager: Pager) {
  return {
    rows: list.data?.items,
    loading: list.isPending,
    fetching: list.isPlaceholderData,
    error: list.error,
    onRetry: () => void list.refetch(),
    page: cursorPage(list, pager),
  };
}
