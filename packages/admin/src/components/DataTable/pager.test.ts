import { describe, expect, it } from 'vitest';
import { nextSort, sortDirection } from './DataTable';
import { currentCursor, firstPage, nextPage, pageNumber, previousPage } from './pager';

describe('cursor pager', () => {
  it('walks forward with the API cursors and back through the ones seen', () => {
    let s = firstPage;
    expect([pageNumber(s), currentCursor(s)]).toEqual([1, null]);
    s = nextPage(s, 'c2');
    s = nextPage(s, 'c3');
    expect([pageNumber(s), currentCursor(s)]).toEqual([3, 'c3']);
    s = previousPage(s);
    expect([pageNumber(s), currentCursor(s)]).toEqual([2, 'c2']);
    s = previousPage(previousPage(s));
    expect([pageNumber(s), currentCursor(s)]).toEqual([1, null]);
  });

  it('does not move past the last page', () => {
    expect(nextPage(firstPage, null)).toBe(firstPage);
  });
});

describe('header sorting', () => {
  it('sorts ascending first, then flips', () => {
    expect(nextSort('email', 'createdAt')).toBe('createdAt');
    expect(nextSort('createdAt', 'createdAt')).toBe('-createdAt');
    expect(nextSort('-createdAt', 'createdAt')).toBe('createdAt');
    expect(sortDirection('-createdAt', 'createdAt')).toBe('desc');
    expect(sortDirection('createdAt', 'createdAt')).toBe('asc');
    expect(sortDirection('email', 'createdAt')).toBeNull();
  });
});
