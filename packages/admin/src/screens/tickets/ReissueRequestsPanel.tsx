import { Anchor, Button, Stack, Text } from '@mantine/core';
import { IconRefresh } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import type { Page, Ticket } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { reissueQueueKey, useTicketTypeNames } from './queries';
import { TicketLinkModal } from './TicketLinkModal';
import { useReissueTicket } from './useReissueTicket';

/**
 * Holders of expired tickets who asked for a new one on the ticket's page, every type, oldest
 * request first. "Reissue" answers one at once: the new link is shown once (and emailed to an
 * email key), and the request leaves the queue.
 */
export function ReissueRequestsPanel({ canWrite }: { canWrite: boolean }) {
  const api = useApi();
  const { slug, path } = useCurrentTenant();
  const pager = useCursorPager(slug);
  const names = useTicketTypeNames(slug);
  const { reissue, pendingId, error, clearError, reissued, closeLink } = useReissueTicket();

  const list = useQuery<Page<Ticket>, ApiError>({
    queryKey: [...reissueQueueKey(slug), { cursor: pager.cursor }],
    queryFn: ({ signal }) =>
      api.get<Page<Ticket>>(tenantPath(slug, '/ticket-reissue-requests'), {
        query: { limit: 50, cursor: pager.cursor ?? undefined },
        signal,
      }),
    placeholderData: keepPreviousData,
  });

  const typeNames = names.data;
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
        key: 'type',
        header: 'Type',
        render: (t) => (
          <Anchor component={Link} to={path('tickets', t.typeId)} size="sm" style={{ overflowWrap: 'anywhere' }}>
            {typeNames?.get(t.typeId) ?? t.typeId}
          </Anchor>
        ),
      },
      {
        key: 'requested',
        secondary: true,
        header: 'Asked',
        render: (t) => <span title={formatDateTime(t.reissueRequestedAt)}>{formatRelative(t.reissueRequestedAt)}</span>,
      },
      {
        key: 'expiresAt',
        secondary: true,
        header: 'Expired',
        render: (t) => <span title={formatDateTime(t.expiresAt)}>{formatRelative(t.expiresAt)}</span>,
      },
      ...(canWrite
        ? [
            {
              key: 'actions',
              header: 'Actions',
              hideable: false,
              align: 'right' as const,
              render: (t: Ticket) => (
                <Button
                  size="xs"
                  variant="light"
                  leftSection={<IconRefresh size={14} aria-hidden />}
                  loading={pendingId === t.id}
                  disabled={pendingId !== null && pendingId !== t.id}
                  aria-label={`Reissue the ticket of ${t.foreignKey}`}
                  onClick={() => {
                    clearError();
                    reissue(t).catch(() => {
                      // Shown above the table (the mutation's error).
                    });
                  }}
                >
                  Reissue
                </Button>
              ),
            },
          ]
        : []),
    ],
    [path, typeNames, canWrite, pendingId, reissue, clearError],
  );

  return (
    <Stack gap="sm">
      <Text size="sm" c="dimmed">
        When a ticket has expired, its holder can ask for a new one on the ticket’s page. Reissuing makes a new link for
        the same key; an email address gets it by email.
      </Text>
      {error && <ApiErrorAlert error={error} title="The ticket was not reissued" onClose={clearError} />}
      <DataTable
        id="ticket-reissue-requests"
        caption="Reissue requests"
        columns={columns}
        {...pagedListProps(list, pager)}
        rowKey={(t) => t.id}
        empty="Nobody is waiting for a new ticket."
        minWidth={720}
      />
      <TicketLinkModal reissued={reissued} onClose={closeLink} />
    </Stack>
  );
}
