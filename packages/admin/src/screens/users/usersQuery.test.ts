import { describe, expect, it } from 'vitest';
import { buildQuery } from '../../api/client';
import {
  emptyUsersFilter,
  filterFromSearchParams,
  filterKey,
  filterToSearchParams,
  usersListQuery,
} from './usersQuery';

describe('users list query', () => {
  it('sends only what filters: no empty q, status or role, no default sort', () => {
    expect(buildQuery(usersListQuery(emptyUsersFilter, null))).toBe('?limit=50');
    expect(
      buildQuery(usersListQuery({ q: '  ada ', status: 'disabled', role: 'support', sort: '-lastLoginAt' }, 'CUR')),
    ).toBe('?q=ada&status=disabled&role=support&sort=-lastLoginAt&limit=50&cursor=CUR');
  });

  it('escapes what it sends', () => {
    expect(buildQuery(usersListQuery({ ...emptyUsersFilter, q: 'a+b@x.test&role=x' }, null))).toBe(
      '?q=a%2Bb%40x.test%26role%3Dx&limit=50',
    );
  });

  it('reads the URL, falling back to defaults for anything the API would refuse', () => {
    expect(filterFromSearchParams(new URLSearchParams('q=ad&status=disabled&role=support&sort=-createdAt'))).toEqual({
      q: 'ad',
      status: 'disabled',
      role: 'support',
      sort: '-createdAt',
    });
    expect(filterFromSearchParams(new URLSearchParams('status=locked&sort=password'))).toEqual(emptyUsersFilter);
  });

  it('writes the URL without defaults and keeps unrelated parameters', () => {
    const params = filterToSearchParams(
      { q: 'ada', status: '', role: '', sort: 'email' },
      new URLSearchParams('tab=x&status=active&sort=-email'),
    );
    expect(params.toString()).toBe('tab=x&q=ada');
    const round = filterFromSearchParams(
      filterToSearchParams({ q: 'g', status: 'active', role: 'r', sort: '-createdAt' }),
    );
    expect(round).toEqual({ q: 'g', status: 'active', role: 'r', sort: '-createdAt' });
  });

  it('the pager resets when the result set changes, not on whitespace', () => {
    expect(filterKey({ ...emptyUsersFilter, q: 'ada ' })).toBe(filterKey({ ...emptyUsersFilter, q: 'ada' }));
    expect(filterKey({ ...emptyUsersFilter, status: 'active' })).not.toBe(filterKey(emptyUsersFilter));
    expect(filterKey({ ...emptyUsersFilter, sort: '-email' })).not.toBe(filterKey(emptyUsersFilter));
  });
});
