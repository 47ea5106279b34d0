import { useSearchParams } from 'react-router';

/**
 * The URL's query (filters, sort, tab) and a setter of one parameter: an empty value removes it,
 * and the change replaces the history entry (filters do not pile up behind the back button).
 */
export function useSearchParam(): [URLSearchParams, (key: string, value: string | null) => void] {
  const [params, setParams] = useSearchParams();
  const setParam = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  return [params, setParam];
}
