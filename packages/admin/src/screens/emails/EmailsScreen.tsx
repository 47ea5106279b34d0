import { Badge, Code, Group, Modal, SegmentedControl, Stack, Text } from '@mantine/core';
import { IconEye } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import type { Email, Page } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { RowAction } from '../../components/RowAction';
import { useSearchParam } from '../../components/useSearchParam';

const statuses = ['all', 'queued', 'sent', 'failed'] as const;
const statusColor: Record<Email['status'], string> = { queued: 'yellow', sent: 'green', failed: 'red' };

/**
 * The tenant's outbox: each message with its delivery (queued, sent, failed, attempts, the mail
 * server's last answer). Without SMTP_URL nothing is sent, and a system admin can open a kept
 * message whole, links included, to follow a flow by hand.
 */
export default function EmailsScreen() {
  const api = useApi();
  const { slug } = useCurrentTenant();
  const [params, setParam] = useSearchParam();
  const status = (statuses as readonly string[]).includes(params.get('status') ?? '') ? params.get('status') : 'all';
  const pager = useCursorPager(`${slug}|${status}`);
  const [open, setOpen] = useState<Email | null>(null);

  const list = useQuery<Page<Email>, ApiError>({
    queryKey: ['tenant', slug, 'emails', { status, cursor: pager.cursor }],
    queryFn: ({ signal }) =>
      api.get<Page<Email>>(tenantPath(slug, '/emails'), {
        query: {
          status: status === 'all' ? undefined : (status ?? undefined),
          limit: 50,
          cursor: pager.cursor ?? undefined,
        },
        signal,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });

  const columns = useMemo<DataTableColumn<Email>[]>(
    () => [
      {
        key: 'to',
        header: 'To',
        hideable: false,
        render: (e) => (
          <Stack gap={0}>
            <Text size="sm" fw={500} style={{ wordBreak: 'break-all' }}>
              {e.to}
            </Text>
            <Text size="xs" c="dimmed">
              {e.subject}
            </Text>
          </Stack>
        ),
      },
      { key: 'template', secondary: true, header: 'Message', render: (e) => <Code>{e.template}</Code> },
      {
        key: 'status',
        header: 'Status',
        render: (e) => (
          <Group gap={6} wrap="nowrap">
            <Badge color={statusColor[e.status]} variant="light" size="sm">
              {e.status}
            </Badge>
            {e.attempts > 1 && (
              <Text size="xs" c="dimmed">
                {e.attempts} attempts
              </Text>
            )}
          </Group>
        ),
      },
      {
        key: 'lastError',
        secondary: true,
        header: 'Last error',
        render: (e) =>
          e.lastError ? (
            <Text size="xs" c="red" style={{ wordBreak: 'break-word' }}>
              {e.lastError}
            </Text>
          ) : (
            <Text size="xs" c="dimmed">
              —
            </Text>
          ),
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Queued',
        render: (e) => <span title={formatDateTime(e.createdAt)}>{formatRelative(e.createdAt)}</span>,
      },
      {
        key: 'actions',
        header: 'Actions',
        hideable: false,
        align: 'right',
        render: (e) =>
          e.content ? (
            <Group justify="flex-end">
              <RowAction
                tooltip="Read"
                label={`Read the message to ${e.to}`}
                icon={IconEye}
                onClick={() => setOpen(e)}
              />
            </Group>
          ) : null,
      },
    ],
    [],
  );

  return (
    <>
      <PageHeader
        title="Emails"
        description="Messages this tenant sends (password resets, notices), with their delivery. Links are never shown, but to system admins while no mail server is set (SMTP_URL)."
        actions={
          <SegmentedControl
            size="xs"
            value={status ?? 'all'}
            onChange={(v) => setParam('status', v === 'all' ? null : v)}
            data={statuses.map((s) => ({ value: s, label: s }))}
          />
        }
      />
      <DataTable
        id="emails"
        caption="Emails"
        columns={columns}
        {...pagedListProps(list, pager)}
        rowKey={(e) => e.id}
        empty="No messages yet."
        minWidth={820}
      />
      <Modal opened={open !== null} onClose={() => setOpen(null)} title={open?.subject ?? ''} size="lg">
        {open?.content && (
          <Stack>
            <Text size="sm">To {open.to}</Text>
            <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
              {open.content.text}
            </Code>
          </Stack>
        )}
      </Modal>
    </>
  );
}
