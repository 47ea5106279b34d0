import { Badge, Code, Group, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconTrash } from '@tabler/icons-react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import type { ApiKey, Page } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateButton } from '../../components/ActionButtons';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { RowAction } from '../../components/RowAction';
import { useSearchParam } from '../../components/useSearchParam';
import { CreateApiKeyModal } from './CreateApiKeyModal';
import { expiryState } from './expiry';
import { apiKeySortFrom, apiKeysKey, apiKeysListQuery, DEFAULT_API_KEY_SORT } from './queries';

/** API keys of a tenant: long-lived credentials for the admin API, holding roles. */
export default function ApiKeysScreen() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug } = useCurrentTenant();
  const [params, setParam] = useSearchParam();
  const sort = apiKeySortFrom(params.get('sort'));
  const pager = useCursorPager(`${slug}|${sort}`);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  const list = useQuery<Page<ApiKey>, ApiError>({
    queryKey: [...apiKeysKey(slug), { sort, cursor: pager.cursor }],
    queryFn: ({ signal }) =>
      api.get<Page<ApiKey>>(tenantPath(slug, '/api-keys'), { query: apiKeysListQuery(sort, pager.cursor), signal }),
    placeholderData: keepPreviousData,
  });

  const columns = useMemo<DataTableColumn<ApiKey>[]>(
    () => [
      {
        key: 'name',
        header: 'Name',
        hideable: false,
        sortField: 'name',
        render: (k) => (
          <Text size="sm" fw={500} style={{ wordBreak: 'break-word' }}>
            {k.name}
          </Text>
        ),
      },
      {
        key: 'roles',
        secondary: true,
        header: 'Roles',
        render: (k) => (
          <Group gap={4}>
            {k.roles.map((r) => (
              <Badge key={r} variant="outline" size="sm" style={{ textTransform: 'none' }}>
                {r}
              </Badge>
            ))}
          </Group>
        ),
      },
      {
        key: 'prefix',
        secondary: true,
        header: 'Key',
        render: (k) => <Code title="The first characters of the key, to recognise it">{k.prefix}…</Code>,
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Created',
        sortField: 'createdAt',
        render: (k) => <span title={formatDateTime(k.createdAt)}>{formatRelative(k.createdAt)}</span>,
      },
      {
        key: 'lastUsedAt',
        secondary: true,
        header: 'Last used',
        render: (k) =>
          k.lastUsedAt ? (
            <span title={formatDateTime(k.lastUsedAt)}>{formatRelative(k.lastUsedAt)}</span>
          ) : (
            <Text size="sm" c="dimmed">
              Never
            </Text>
          ),
      },
      {
        key: 'expiresAt',
        secondary: true,
        header: 'Expires',
        render: (k) => {
          const state = expiryState(k.expiresAt);
          if (state === 'never') return <Text size="sm">Never</Text>;
          return (
            <Group gap={6} wrap="nowrap">
              <span title={formatDateTime(k.expiresAt)}>{formatRelative(k.expiresAt)}</span>
              {state === 'expired' && (
                <Badge color="red" variant="light" size="sm">
                  expired
                </Badge>
              )}
              {state === 'soon' && (
                <Badge color="yellow" variant="light" size="sm">
                  soon
                </Badge>
              )}
            </Group>
          );
        },
      },
      {
        key: 'createdBy',
        secondary: true,
        header: 'Created by',
        defaultHidden: true,
        render: (k) => (
          <Text size="xs" ff="monospace">
            {k.createdBy ?? '—'}
          </Text>
        ),
      },
      {
        key: 'actions',
        header: 'Actions',
        hideable: false,
        align: 'right',
        render: (k) => (
          <Group justify="flex-end">
            <RowAction
              tooltip="Revoke"
              label={`Revoke ${k.name}`}
              icon={IconTrash}
              color="red"
              onClick={() => setRevoking(k)}
            />
          </Group>
        ),
      },
    ],
    [],
  );

  return (
    <>
      <PageHeader
        title="API keys"
        description="Credentials for scripts and services that call the admin API. A key holds roles in this tenant; its secret is shown once."
        actions={<CreateButton onClick={() => setCreating(true)}>Create API key</CreateButton>}
      />
      <DataTable
        id="api-keys"
        caption="API keys"
        columns={columns}
        {...pagedListProps(list, pager)}
        rowKey={(k) => k.id}
        sort={sort}
        onSortChange={(s) => setParam('sort', s === DEFAULT_API_KEY_SORT ? null : s)}
        empty="No API keys in this tenant."
        minWidth={820}
      />
      <CreateApiKeyModal opened={creating} onClose={() => setCreating(false)} />
      <ConfirmModal
        opened={revoking !== null}
        onClose={() => setRevoking(null)}
        title={`Revoke ${revoking?.name ?? ''}?`}
        confirmLabel="Revoke key"
        onConfirm={async () => {
          if (!revoking) return;
          await api.delete(tenantPath(slug, `/api-keys/${encodeURIComponent(revoking.id)}`));
          void queryClient.invalidateQueries({ queryKey: apiKeysKey(slug) });
          notifications.show({ color: 'green', message: `API key ${revoking.name} revoked` });
        }}
      >
        {revoking
          ? `Anything using the key ${revoking.prefix}… gets 401 from its next request. This cannot be undone: to restore access, create a new key.`
          : ''}
      </ConfirmModal>
    </>
  );
}
