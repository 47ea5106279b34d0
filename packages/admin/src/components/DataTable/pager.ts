/**
 * Cursor paging for the API's keyset lists: the API gives only `nextCursor`, so "previous"
 * means remembering the cursors of the pages already seen. Any change of filter or sort starts
 * again at page 1 (a cursor is only valid for the sort it was issued with).
 */
import { useCallback, useState } from 'react';

export interface PagerState {
  /** cursors[i] is the cursor that fetched page i+1; page 1 has none. */
  cursors: (string | null)[];
}

export const firstPage: PagerState = { cursors: [null] };

export function currentCursor(state: PagerState): string | null {
  return state.cursors[state.cursors.length - 1] ?? null;
}

export function pageNumber(state: PagerState): number {
  return state.cursors.length;
}

export function nextPage(state: PagerState, nextCursor: string | null): PagerState {
  if (!nextCursor) return state;
  return { cursors: [...state.cursors, nextCursor] };
}

export function previousPage(state: PagerState): PagerState {
  if (state.cursors.length <= 1) return state;
  return { cursors: state.cursors.slice(0, -1) };
}

/**
 * Pager state that starts again at page 1 whenever `resetKey` changes (serialise the filters
 * and sort into it). No effect needed: a state recorded under another key reads as page 1.
 */
export function useCursorPager(resetKey: string) {
  const [state, setState] = useState<{ key: string; pager: PagerState }>({ key: resetKey, pager: firstPage });
  const pager = state.key === resetKey ? state.pager : firstPage;
  const update = useCallback(
    (f: (p: PagerState) => PagerState) =>
      setState((s) => ({ key: resetKey, pager: f(s.key === resetKey ? s.pager : firstPage) })),
    [resetKey],
  );
  return {
    cursor: currentCursor(pager),
    page: pageNumber(pager),
    next: useCallback((cursor: string | null) => update((p) => nextPage(p, cursor)), [update]),
    previous: useCallback(() => update(previousPage), [update]),
    reset: useCallback(() => update(() => firstPage), [update]),
  };
}
