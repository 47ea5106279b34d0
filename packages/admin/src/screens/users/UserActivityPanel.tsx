import { Code, Paper, Text, Title, Tooltip } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { AuditEvent, Page, User } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { AuditRefText, EventSummary, OutcomeBadge } from '../audit/AuditCells';
import { detailFacts } from '../audit/auditText';

/** Audit events about this user (`?target={userId}`), newest first. */
export function UserActivityPanel({ user }: { user: User }) {
  const api = useApi();
  const { slug } = useCurrentTenant();
  const pager = useCursorPager(user.id);
  const events = useQuery<Page<AuditEvent>, ApiError>({
    queryKey: queryKeys.audit(slug, { target: user.id, cursor: pager.cursor }),
    queryFn: ({ signal }) =>
      api.get<Page<AuditEvent>>(tenantPath(slug, '/audit-events'), {
        query: { target: user.id, limit: 25, cursor: pager.cursor },
        signal,
      }),
    placeholderData: keepPreviousData,
  });

  const columns = useMemo<DataTableColumn<AuditEvent>[]>(
    () => [
      {
        key: 'occurredAt',
        header: 'When',
        hideable: false,
        render: (e) => (
          <Tooltip label={formatDateTime(e.occurredAt)}>
            <span>{formatRelative(e.occurredAt)}</span>
          </Tooltip>
        ),
      },
      {
        key: 'action',
        header: 'Action',
        hideable: false,
        render: (e) => (
          <>
            <Code>{e.action}</Code>
            <EventSummary event={e} />
          </>
        ),
      },
      {
        key: 'outcome',
        header: 'Outcome',
        secondary: true,
        render: (e) => <OutcomeBadge outcome={e.outcome} />,
      },
      { key: 'actor', header: 'By', render: (e) => <AuditRefText value={e.actor} /> },
      { key: 'ip', header: 'IP', secondary: true, render: (e) => e.ip ?? '—' },
      {
        key: 'details',
        header: 'Details',
        secondary: true,
        render: (e) => {
          const facts = detailFacts(e.details);
          return facts.length > 0 ? (
            <Text size="xs" lineClamp={3} style={{ overflowWrap: 'anywhere' }}>
              {facts.map((f) => `${f.label}: ${f.value}`).join(' · ')}
            </Text>
          ) : (
            '—'
          );
        },
      },
    ],
    [],
  );

  return (
    <Paper withBorder p="lg" radius="md">
      <Title order={2} size="h4" mb="sm">
        Activity
      </Title>
      <DataTable
        id="user-activity"
        caption={`Audit events about ${user.email}`}
        columns={columns}
        {...pagedListProps(events, pager)}
        rowKey={(e) => e.id}
        empty="Nothing recorded about this user yet."
      />
    </Paper>
  );
}
