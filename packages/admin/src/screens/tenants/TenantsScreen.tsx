import { Anchor, Badge, Stack, Text } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import type { ApiError } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Page, Tenant } from '../../api/types';
import { CreateButton } from '../../components/ActionButtons';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { SearchInput } from '../../components/SearchInput';
import { useSearchParam } from '../../components/useSearchParam';
import { CreateTenantModal } from './CreateTenantModal';

const SORTS = ['slug', '-slug', 'createdAt', '-createdAt', 'updatedAt', '-updatedAt'];

/** Every tenant (system console): search by slug or name prefix, sort, page, create. */
export default function TenantsScreen() {
  const api = useApi();
  const [params, setParam] = useSearchParam();
  const q = (params.get('q') ?? '').trim();
  const sortParam = params.get('sort') ?? 'slug';
  const sort = SORTS.includes(sortParam) ? sortParam : 'slug';
  const pager = useCursorPager(`${q}|${sort}`);
  const [creating, setCreating] = useState(false);

  const query = useQuery<Page<Tenant>, ApiError>({
    queryKey: queryKeys.tenants({ q, sort, cursor: pager.cursor }),
    queryFn: ({ signal }) =>
      api.get<Page<Tenant>>('/v1/tenants', { query: { q, sort, limit: 50, cursor: pager.cursor }, signal }),
    placeholderData: keepPreviousData,
  });

  const columns = useMemo<DataTableColumn<Tenant>[]>(
    () => [
      {
        key: 'displayName',
        header: 'Tenant',
        hideable: false,
        sortField: 'slug',
        render: (t) => (
          <Stack gap={0}>
            <Anchor component={Link} to={`/tenants/${t.slug}/settings`} fw={500}>
              {t.displayName}
            </Anchor>
            <Text size="xs" c="dimmed" ff="monospace">
              {t.slug}
            </Text>
          </Stack>
        ),
      },
      {
        key: 'selfRegistration',
        secondary: true,
        header: 'Self-registration',
        render: (t) =>
          t.settings.selfRegistration ? (
            <Badge color="green" variant="light">
              Open
            </Badge>
          ) : (
            <Badge color="gray" variant="light">
              Invite only
            </Badge>
          ),
      },
      {
        key: 'passwordMinLength',
        secondary: true,
        header: 'Min. password',
        defaultHidden: true,
        align: 'right',
        render: (t) => t.settings.passwordMinLength,
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Created',
        sortField: 'createdAt',
        render: (t) => <span title={formatDateTime(t.createdAt)}>{formatRelative(t.createdAt)}</span>,
      },
      {
        key: 'updatedAt',
        secondary: true,
        header: 'Updated',
        sortField: 'updatedAt',
        render: (t) => <span title={formatDateTime(t.updatedAt)}>{formatRelative(t.updatedAt)}</span>,
      },
      {
        key: 'links',
        header: 'Go to',
        render: (t) => (
          <Text size="sm">
            <Anchor component={Link} to={`/tenants/${t.slug}`} aria-label={`Overview of ${t.displayName}`}>
              Overview
            </Anchor>
            {' · '}
            <Anchor component={Link} to={`/tenants/${t.slug}/users`} aria-label={`Users of ${t.displayName}`}>
              Users
            </Anchor>
          </Text>
        ),
      },
    ],
    [],
  );

  return (
    <>
      <PageHeader
        title="Tenants"
        description="Each tenant is its own issuer with its own users, roles, applications and keys."
        actions={<CreateButton onClick={() => setCreating(true)}>Create tenant</CreateButton>}
      />
      <DataTable
        id="tenants"
        caption="Tenants"
        columns={columns}
        {...pagedListProps(query, pager)}
        rowKey={(t) => t.slug}
        sort={sort}
        onSortChange={(s) => setParam('sort', s === 'slug' ? null : s)}
        empty={q ? `No tenant’s slug or name starts with “${q}”.` : 'No tenants yet.'}
        toolbar={
          <SearchInput
            label="Search"
            placeholder="Slug or name starts with…"
            value={q}
            onSearch={(v) => setParam('q', v.trim() || null)}
            w={{ base: '100%', xs: 280 }}
          />
        }
      />
      <CreateTenantModal opened={creating} onClose={() => setCreating(false)} />
    </>
  );
}
