import { Select, Stack, Text } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { useApi } from '../api/ApiProvider';
import type { Page, Tenant } from '../api/types';

/**
 * The system console's tenant picker: searches tenants on the server, and switching keeps the
 * admin on the same screen (Users of A → Users of B; a user's page goes back to the list).
 */
export function TenantSwitcher({ current }: { current: string }) {
  const api = useApi();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const [search, setSearch] = useState('');
  // Labels seen so far: the input shows the selected tenant's label, which is not a search.
  const labels = useRef<Record<string, string>>({});
  const typed = search === labels.current[current] || search === current ? '' : search;
  const [q] = useDebouncedValue(typed, 250);
  const query = useQuery({
    queryKey: ['tenants', 'switcher', q],
    queryFn: ({ signal }) =>
      api.get<Page<Tenant>>('/v1/tenants', { query: { q: q.trim() || undefined, limit: 20 }, signal }),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const data = (query.data?.items ?? []).map((t) => ({ value: t.slug, label: t.displayName }));
  for (const d of data) labels.current[d.value] = d.label;
  if (!data.some((d) => d.value === current))
    data.unshift({ value: current, label: labels.current[current] ?? current });

  const switchTo = (slug: string | null) => {
    if (!slug || slug === current) return;
    void navigate(switchedPath(pathname, slug));
  };

  return (
    <Select
      label="Tenant"
      description="Screens below act on this tenant"
      data={data}
      value={current}
      onChange={switchTo}
      searchable
      onSearchChange={setSearch}
      filter={({ options }) => options}
      nothingFoundMessage={query.isFetching ? 'Searching…' : 'No tenant found'}
      allowDeselect={false}
      comboboxProps={{ withinPortal: true }}
      renderOption={({ option }) => (
        <Stack gap={0}>
          <Text size="sm">{option.label}</Text>
          <Text size="xs" c="dimmed" ff="monospace">
            {option.value}
          </Text>
        </Stack>
      )}
    />
  );
}

/** The same screen for another tenant: `/tenants/a/users/usr_1` → `/tenants/b/users`. */
export function switchedPath(pathname: string, slug: string): string {
  const m = pathname.match(/^\/tenants\/[^/]+(?:\/([^/]+))?/);
  const screen = m?.[1];
  return screen ? `/tenants/${slug}/${screen}` : `/tenants/${slug}`;
}
