import { Anchor, Badge, Button, Group, Paper, Select, Stack, Text, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconBan, IconRefresh } from '@tabler/icons-react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import type { ApiError } from '../../api/client';
import { type Page, TICKET_STATES, type Ticket, type TicketType } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatNumber, formatRelative } from '../../components/format';
import { RowAction } from '../../components/RowAction';
import { SearchInput } from '../../components/SearchInput';
import { useSearchParam } from '../../components/useSearchParam';
import {
  isLive,
  TICKET_STATE_INFO,
  type TicketsFilter,
  ticketStateFrom,
  ticketsKey,
  ticketsListQuery,
  ticketTypePath,
} from './queries';
import { TicketLinkModal } from './TicketLinkModal';
import { useReissueTicket } from './useReissueTicket';

/**
 * A type's tickets, newest first: by state and by exact foreign key (in the URL: `?state&key`);
 * select live ones to disable them, or reissue one. Never their links: those were shown once.
 */
export function TicketsPanel({ type, canWrite }: { type: TicketType; canWrite: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug, path } = useCurrentTenant();
  const [params, setParam] = useSearchParam();
  const filter: TicketsFilter = { state: ticketStateFrom(params.get('state')), foreignKey: params.get('key') ?? '' };
  const filterKey = `${filter.state}|${filter.foreignKey.trim()}`;
  const pager = useCursorPager(`${slug}|${type.id}|${filterKey}`);
  const [selection, setSelection] = useState<Set<string>>(new Set());
  const [disabling, setDisabling] = useState(false);
  const [reissuing, setReissuing] = useState<Ticket | null>(null);
  const { reissue, reissued, closeLink } = useReissueTicket();

  // Another filter or page: the selection was of rows no longer shown.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on these changes only
  useEffect(() => setSelection(new Set()), [type.id, filterKey, pager.cursor]);

  const list = useQuery<Page<Ticket>, ApiError>({
    queryKey: [...ticketsKey(slug), type.id, { ...filter, cursor: pager.cursor }],
    queryFn: ({ signal }) =>
      api.get<Page<Ticket>>(ticketTypePath(slug, type.id, '/tickets'), {
        query: ticketsListQuery(filter, pager.cursor),
        signal,
      }),
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.items;
  const selected = (rows ?? []).filter((t) => selection.has(t.id));
  const liveSelected = selected.filter((t) => isLive(t.state)).length;

  const columns = useMemo<DataTableColumn<Ticket>[]>(
    () => [
      {
        key: 'foreignKey',
        header: 'Foreign key',
        hideable: false,
        render: (t) => (
          <Text size="sm" fw={500} style={{ overflowWrap: 'anywhere' }}>
            {t.foreignKey}
          </Text>
        ),
      },
      {
        key: 'state',
        header: 'State',
        render: (t) => (
          <Tooltip label={TICKET_STATE_INFO[t.state].description}>
            <Badge variant="light" color={TICKET_STATE_INFO[t.state].color} style={{ overflow: 'visible' }}>
              {TICKET_STATE_INFO[t.state].label}
            </Badge>
          </Tooltip>
        ),
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Issued',
        render: (t) => <span title={formatDateTime(t.createdAt)}>{formatRelative(t.createdAt)}</span>,
      },
      {
        key: 'expiresAt',
        secondary: true,
        header: 'Expires',
        render: (t) => <span title={formatDateTime(t.expiresAt)}>{formatRelative(t.expiresAt)}</span>,
      },
      {
        key: 'used',
        secondary: true,
        header: 'Used',
        render: (t) =>
          t.usedAt ? (
            <Stack gap={0}>
              <span title={formatDateTime(t.usedAt)}>{formatRelative(t.usedAt)}</span>
              {t.usedBy && (
                <Anchor component={Link} to={path('users', t.usedBy)} size="xs">
                  by this user
                </Anchor>
              )}
            </Stack>
          ) : (
            <Text size="sm" c="dimmed">
              —
            </Text>
          ),
      },
      {
        key: 'reissueRequestedAt',
        secondary: true,
        header: 'New one asked',
        defaultHidden: true,
        render: (t) => (t.reissueRequestedAt ? formatDateTime(t.reissueRequestedAt) : '—'),
      },
      {
        key: 'id',
        secondary: true,
        header: 'ID',
        defaultHidden: true,
        render: (t) => (
          <Text size="xs" ff="monospace">
            {t.id}
          </Text>
        ),
      },
      ...(canWrite
        ? [
            {
              key: 'actions',
              header: 'Actions',
              hideable: false,
              align: 'right' as const,
              render: (t: Ticket) =>
                isLive(t.state) ? (
                  <Group justify="flex-end" wrap="nowrap">
                    <RowAction
                      tooltip="Reissue"
                      label={`Reissue the ticket of ${t.foreignKey}`}
                      icon={IconRefresh}
                      onClick={() => setReissuing(t)}
                    />
                  </Group>
                ) : null,
            },
          ]
        : []),
    ],
    [path, canWrite],
  );

  const disable = async () => {
    const ids = selected.map((t) => t.id);
    const { disabled } = await api.post<{ disabled: number }>(ticketTypePath(slug, type.id, '/tickets/disable'), {
      ids,
    });
    setSelection(new Set());
    void queryClient.invalidateQueries({ queryKey: ticketsKey(slug) });
    const others = ids.length - disabled;
    notifications.show({
      color: 'green',
      message: `${formatNumber(disabled)} ticket${disabled === 1 ? '' : 's'} disabled${
        others > 0 ? `; ${formatNumber(others)} ${others === 1 ? 'was' : 'were'} not live` : ''
      }`,
    });
  };

  const n = selected.length;
  const who = n === 1 ? `the ticket of ${selected[0]?.foreignKey}` : `${formatNumber(n)} tickets`;
  const filtered = filter.state !== '' || filter.foreignKey.trim() !== '';

  return (
    <>
      <DataTable
        id="tickets"
        caption={`Tickets of ${type.name}`}
        columns={columns}
        {...pagedListProps(list, pager)}
        rowKey={(t) => t.id}
        rowLabel={(t) => t.foreignKey}
        selection={canWrite ? selection : undefined}
        onSelectionChange={canWrite ? setSelection : undefined}
        empty={filtered ? 'No ticket matches these filters.' : 'No tickets yet: issue a batch.'}
        minWidth={820}
        toolbar={
          <>
            <Select
              label="State"
              data={[
                { value: '', label: 'Any state' },
                ...TICKET_STATES.map((s) => ({ value: s, label: TICKET_STATE_INFO[s].label })),
              ]}
              value={filter.state}
              onChange={(v) => setParam('state', v || null)}
              allowDeselect={false}
              w={{ base: '100%', xs: 200 }}
            />
            <SearchInput
              label="Foreign key"
              placeholder="The exact key or email address"
              value={filter.foreignKey}
              onSearch={(v) => setParam('key', v.trim() || null)}
              spellCheck={false}
              autoComplete="off"
              w={{ base: '100%', xs: 300 }}
            />
          </>
        }
      />
      {canWrite && n > 0 && (
        <Paper
          withBorder
          shadow="md"
          p="sm"
          radius="md"
          pos="sticky"
          bottom={12}
          mt="md"
          style={{ zIndex: 5 }}
          role="region"
          aria-label="Actions on selected tickets"
        >
          <Group justify="space-between" gap="sm">
            <Text size="sm" fw={500}>
              {formatNumber(n)} selected
              {liveSelected < n ? ` (${formatNumber(liveSelected)} live)` : ''}
            </Text>
            <Group gap="xs">
              <Button
                size="xs"
                color="red"
                leftSection={<IconBan size={14} aria-hidden />}
                onClick={() => setDisabling(true)}
                disabled={liveSelected === 0}
              >
                Disable selected
              </Button>
              <Button size="xs" variant="subtle" onClick={() => setSelection(new Set())}>
                Clear
              </Button>
            </Group>
          </Group>
        </Paper>
      )}
      <ConfirmModal
        opened={disabling}
        onClose={() => setDisabling(false)}
        title={`Disable ${who}?`}
        confirmLabel="Disable"
        onConfirm={disable}
      >
        Their links stop working at once. Only live tickets change (used, disabled and replaced ones stay as they are).
        A disabled key can be issued a new ticket later.
      </ConfirmModal>
      <ConfirmModal
        opened={reissuing !== null}
        onClose={() => setReissuing(null)}
        title={`Reissue the ticket of ${reissuing?.foreignKey ?? ''}?`}
        confirmLabel="Reissue"
        danger={reissuing?.state === 'usable'}
        onConfirm={async () => {
          if (reissuing) await reissue(reissuing);
        }}
      >
        <Text size="sm">
          {reissuing?.state === 'usable' ? 'Its current link stops working at once. ' : ''}A new ticket is made for the
          same key, its link shown once{reissuing?.email ? ' and sent to that address.' : '.'}
        </Text>
      </ConfirmModal>
      <TicketLinkModal reissued={reissued} onClose={closeLink} />
    </>
  );
}
