import { Anchor, Badge, Group, SegmentedControl, Stack, Text } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import type { Client, Page } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateButton } from '../../components/ActionButtons';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { useSearchParam } from '../../components/useSearchParam';
import { CreateApplicationModal } from './CreateApplicationModal';
import { KIND_ORDER } from './clientKinds';
import { IssuerPanel } from './IssuerPanel';
import { KindBadge, kindShortLabel } from './KindBadge';
import { clientSortFrom, clientsListKey, clientsListQuery, DEFAULT_CLIENT_SORT, kindFrom } from './queries';

/** The applications (OAuth clients) of a tenant: filter by kind, create by kind, open one to edit. */
export default function ApplicationsScreen() {
  const api = useApi();
  const { slug, path } = useCurrentTenant();
  const [params, setParam] = useSearchParam();
  const kind = kindFrom(params.get('kind'));
  const sort = clientSortFrom(params.get('sort'));
  const pager = useCursorPager(`${slug}|${kind}|${sort}`);
  const [creating, setCreating] = useState(false);

  const listParams = { kind, sort, cursor: pager.cursor };
  const list = useQuery<Page<Client>, ApiError>({
    queryKey: clientsListKey(slug, listParams),
    queryFn: ({ signal }) =>
      api.get<Page<Client>>(tenantPath(slug, '/clients'), { query: clientsListQuery(listParams), signal }),
    placeholderData: keepPreviousData,
  });

  const columns = useMemo<DataTableColumn<Client>[]>(
    () => [
      {
        key: 'name',
        header: 'Application',
        hideable: false,
        sortField: 'name',
        render: (c) => (
          <Stack gap={0}>
            <Group gap={6} wrap="nowrap">
              <Anchor component={Link} to={path('applications', c.id)} fw={500}>
                {c.name}
              </Anchor>
              {c.builtin && (
                <Badge size="xs" variant="light" color="gray" style={{ flexShrink: 0 }}>
                  built-in
                </Badge>
              )}
            </Group>
            <Text size="xs" c="dimmed" ff="monospace" style={{ wordBreak: 'break-all' }}>
              {c.clientId}
            </Text>
          </Stack>
        ),
      },
      { key: 'kind', header: 'Kind', render: (c) => <KindBadge kind={c.kind} /> },
      {
        key: 'signIn',
        secondary: true,
        header: 'Redirect URIs',
        render: (c) =>
          c.kind === 'service' ? (
            <Text size="sm" c="dimmed">
              Client credentials
            </Text>
          ) : (
            <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }} lineClamp={2}>
              {c.redirectUris[0] ?? '—'}
              {c.redirectUris.length > 1 ? ` (+${c.redirectUris.length - 1} more)` : ''}
            </Text>
          ),
      },
      {
        key: 'firstParty',
        secondary: true,
        header: 'Consent',
        render: (c) =>
          c.kind === 'service' ? (
            <Text size="sm" c="dimmed">
              —
            </Text>
          ) : (
            <Text size="sm">{c.firstParty ? 'Skipped (first-party)' : 'Asked'}</Text>
          ),
      },
      {
        key: 'roles',
        secondary: true,
        header: 'Roles',
        defaultHidden: true,
        render: (c) => (c.roles.length ? c.roles.join(', ') : '—'),
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Created',
        sortField: 'createdAt',
        render: (c) => <span title={formatDateTime(c.createdAt)}>{formatRelative(c.createdAt)}</span>,
      },
    ],
    [path],
  );

  return (
    <>
      <PageHeader
        title="Applications"
        description="Apps and services that sign users in, or get tokens for themselves, with this tenant as their issuer."
        actions={<CreateButton onClick={() => setCreating(true)}>Create application</CreateButton>}
      />
      <Stack gap="lg">
        <IssuerPanel slug={slug} />
        <DataTable
          id="applications"
          caption="Applications"
          columns={columns}
          {...pagedListProps(list, pager)}
          rowKey={(c) => c.id}
          sort={sort}
          onSortChange={(s) => setParam('sort', s === DEFAULT_CLIENT_SORT ? null : s)}
          empty={kind ? `No ${kindShortLabel(kind)} applications.` : 'No applications yet.'}
          minWidth={760}
          toolbar={
            <Stack gap={4}>
              <Text size="sm" fw={600} id="applications-kind-filter">
                Kind
              </Text>
              <SegmentedControl
                aria-labelledby="applications-kind-filter"
                value={kind || 'all'}
                onChange={(v) => setParam('kind', v === 'all' ? null : v)}
                data={[
                  { value: 'all', label: 'All' },
                  ...KIND_ORDER.map((k) => ({ value: k, label: kindShortLabel(k) })),
                ]}
                size="xs"
              />
            </Stack>
          }
        />
      </Stack>
      <CreateApplicationModal opened={creating} onClose={() => setCreating(false)} />
    </>
  );
}
