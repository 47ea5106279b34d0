import { useSearchParams } from 'react-router';

/**
 * The query in the address bar now. A setter of the query starts from this, not from the
 * query its render saw: the router renders a navigation as a transition, so a second change
 * made before the first is rendered (a state picked, then a key typed, on a busy machine)
 * would otherwise undo the first.
 */
export function currentSearchParams(): URLSearchParams {
  return new URLSearchParams(window.location.search);
}

/**
 * The URL's query (filters, sort, tab) and a setter of one parameter: an empty value removes it,
 * and the change replaces the history entry (filters do not pile up behind the back button).
 */
export function useSearchParam(): [URLSearchParams, (key: string, value: string | null) => void] {
  const [params, setParams] = useSearchParams();
  const setParam = (key: string, value: string | null) => {
    const next = currentSearchParams();
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  return [params, setParam];
}
