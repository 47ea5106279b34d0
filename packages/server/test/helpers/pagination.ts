/**
 * Reading the admin API's cursor-paginated lists (`{ items, nextCursor }`) to the end.
 */
import { expect } from 'vitest';
import type { ApiClient, ApiResponse } from './server.js';

/** Every item of a list, 200 a page; throws on any answer but 200. `path` may carry a query string. */
export async function listAll<T = Record<string, unknown>>(api: ApiClient, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await api(
      'GET',
      `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (res.status !== 200) throw new Error(`list ${path} failed: ${res.status} ${res.text}`);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

/**
 * Follows `nextCursor` to the end with the query `params`; checks page sizes on the way: at
 * most `limit` items, and exactly `limit` on every page but the last.
 */
export async function walkPages<T>(api: ApiClient, path: string, params: Record<string, string>): Promise<T[]> {
  const limit = Number(params.limit ?? 50);
  const all: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page++) {
    const query: URLSearchParams = new URLSearchParams(cursor ? { ...params, cursor } : params);
    const res: ApiResponse = await api('GET', `${path}?${query}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    all.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === null) return all;
    expect(res.body.items.length).toBe(limit);
  }
  throw new Error('pagination did not end');
}
