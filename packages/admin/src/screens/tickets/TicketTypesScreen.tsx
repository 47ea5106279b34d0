import { Anchor, Badge, Group, Tabs, Text } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { usePermission } from '../../api/queries';
import type { Page, TicketType } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateButton } from '../../components/ActionButtons';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatDuration, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { useSearchParam } from '../../components/useSearchParam';
import { CreateTicketTypeModal } from './CreateTicketTypeModal';
import { DEFAULT_TICKET_TYPE_SORT, ticketTypeSortFrom, ticketTypesKey, ticketTypesListQuery } from './queries';
import { ReissueRequestsPanel } from './ReissueRequestsPanel';

const TABS = ['types', 'requests'] as const;
type Tab = (typeof TABS)[number];

/**
 * Invitation tickets of a tenant: the ticket types (what a ticket grants, how long it works; open
 * one to issue, list and disable its tickets), and the queue of holders of expired tickets who
 * asked for a new one.
 */
export default function TicketTypesScreen() {
  const api = useApi();
  const { slug, path } = useCurrentTenant();
  const canWrite = usePermission(slug, 'tickets:write');
  const [params, setParam] = useSearchParam();
  const tabParam = params.get('tab');
  const tab: Tab = (TABS as readonly string[]).includes(tabParam ?? '') ? (tabParam as Tab) : 'types';
  const sort = ticketTypeSortFrom(params.get('sort'));
  const pager = useCursorPager(`${slug}|${sort}`);
  const [creating, setCreating] = useState(false);

  const listParams = { sort, cursor: pager.cursor };
  const list = useQuery<Page<TicketType>, ApiError>({
    queryKey: [...ticketTypesKey(slug), 'list', listParams],
    queryFn: ({ signal }) =>
      api.get<Page<TicketType>>(tenantPath(slug, '/ticket-types'), {
        query: ticketTypesListQuery(listParams),
        signal,
      }),
    placeholderData: keepPreviousData,
    enabled: tab === 'types',
  });

  const columns = useMemo<DataTableColumn<TicketType>[]>(
    () => [
      {
        key: 'name',
        header: 'Name',
        hideable: false,
        sortField: 'name',
        render: (t) => (
          <Anchor component={Link} to={path('tickets', t.id)} fw={500} style={{ overflowWrap: 'anywhere' }}>
            {t.name}
          </Anchor>
        ),
      },
      {
        key: 'enabled',
        header: 'Status',
        render: (t) => (
          <Badge variant="light" color={t.enabled ? 'green' : 'gray'}>
            {t.enabled ? 'Enabled' : 'Disabled'}
          </Badge>
        ),
      },
      {
        key: 'roles',
        secondary: true,
        header: 'Grants',
        render: (t) =>
          t.roles.length ? (
            <Group gap={4}>
              {t.roles.map((r) => (
                <Badge key={r} variant="outline" size="sm" style={{ textTransform: 'none' }}>
                  {r}
                </Badge>
              ))}
            </Group>
          ) : (
            <Text size="sm" c="dimmed">
              No roles
            </Text>
          ),
      },
      {
        key: 'validityHours',
        secondary: true,
        header: 'Works for',
        render: (t) => formatDuration(t.validityHours * 3600),
      },
      {
        key: 'allowUserCreation',
        secondary: true,
        header: 'New accounts',
        render: (t) => (t.allowUserCreation ? 'May register' : 'Existing accounts only'),
      },
      {
        key: 'description',
        secondary: true,
        header: 'Description',
        defaultHidden: true,
        render: (t) =>
          t.description ? (
            <Text size="sm" lineClamp={2}>
              {t.description}
            </Text>
          ) : (
            '—'
          ),
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Created',
        sortField: 'createdAt',
        render: (t) => <span title={formatDateTime(t.createdAt)}>{formatRelative(t.createdAt)}</span>,
      },
    ],
    [path],
  );

  return (
    <>
      <PageHeader
        title="Tickets"
        description="Invitation tickets let people into this tenant with the roles of their type: issue them in batches, one per email address or external id, and hand out their links (email addresses get them by email)."
        actions={
          canWrite && tab === 'types' ? (
            <CreateButton onClick={() => setCreating(true)}>Create ticket type</CreateButton>
          ) : undefined
        }
      />
      <Tabs value={tab} onChange={(t) => setParam('tab', t === 'types' ? null : t)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="types">Ticket types</Tabs.Tab>
          <Tabs.Tab value="requests">Reissue requests</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="types">
          <DataTable
            id="ticket-types"
            caption="Ticket types"
            columns={columns}
            {...pagedListProps(list, pager)}
            rowKey={(t) => t.id}
            sort={sort}
            onSortChange={(s) => setParam('sort', s === DEFAULT_TICKET_TYPE_SORT ? null : s)}
            empty={canWrite ? 'No ticket types yet: create one to issue tickets.' : 'No ticket types yet.'}
            minWidth={820}
          />
        </Tabs.Panel>
        <Tabs.Panel value="requests">
          <ReissueRequestsPanel canWrite={canWrite} />
        </Tabs.Panel>
      </Tabs>
      {canWrite && <CreateTicketTypeModal opened={creating} onClose={() => setCreating(false)} />}
    </>
  );
}
