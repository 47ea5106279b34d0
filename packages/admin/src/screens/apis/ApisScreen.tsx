import { Anchor, Badge, Group, Stack, Text, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconEye, IconPencil, IconTrash } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { ApiError, tenantPath } from '../../api/client';
import type { ResourceApi } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateButton } from '../../components/ActionButtons';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DataTable, type DataTableColumn } from '../../components/DataTable';
import { formatDuration } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { RowAction } from '../../components/RowAction';
import { StaleVersionNotice } from '../../components/StaleVersionNotice';
import { CopyField } from '../applications/IssuerPanel';
import { ApiFormModal } from './ApiFormModal';
import { apisKey, useApisQuery } from './queries';

type Editing = { api: ResourceApi | null } | null;

/** The APIs (resource servers) access tokens can be for: the built-in admin API first, then the tenant's own. */
export default function ApisScreen() {
  const client = useApi();
  const queryClient = useQueryClient();
  const { slug } = useCurrentTenant();
  const apis = useApisQuery(slug);
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<ResourceApi | null>(null);
  const [staleDelete, setStaleDelete] = useState(false);

  const columns = useMemo<DataTableColumn<ResourceApi>[]>(
    () => [
      {
        key: 'name',
        header: 'API',
        hideable: false,
        render: (a) => (
          <Group gap={6} wrap="nowrap">
            <Anchor component="button" type="button" fw={500} onClick={() => setEditing({ api: a })}>
              {a.name}
            </Anchor>
            {a.builtin && (
              <Badge size="xs" variant="light" color="gray" style={{ flexShrink: 0 }}>
                built-in
              </Badge>
            )}
          </Group>
        ),
      },
      {
        key: 'identifier',
        header: 'Identifier (audience)',
        hideable: false,
        render: (a) => <CopyField label={`Identifier of ${a.name}`} value={a.identifier} hideLabel />,
      },
      {
        key: 'scopes',
        secondary: true,
        header: 'Scopes',
        render: (a) =>
          a.scopes.length === 0 ? (
            <Text size="sm" c="dimmed">
              {a.builtin ? 'Roles decide' : 'None'}
            </Text>
          ) : (
            <Group gap={4}>
              {a.scopes.slice(0, 4).map((s) => (
                <Tooltip key={s.name} label={s.description || s.name} disabled={!s.description}>
                  <Badge variant="outline" size="sm" style={{ textTransform: 'none' }}>
                    {s.name}
                  </Badge>
                </Tooltip>
              ))}
              {a.scopes.length > 4 && (
                <Text size="xs" c="dimmed">
                  +{a.scopes.length - 4} more
                </Text>
              )}
            </Group>
          ),
      },
      {
        key: 'ttl',
        secondary: true,
        header: 'Token lifetime',
        render: (a) => formatDuration(a.accessTokenTtlSeconds),
      },
      {
        key: 'actions',
        header: 'Actions',
        hideable: false,
        align: 'right',
        render: (a) =>
          a.builtin ? (
            <Group justify="flex-end">
              <RowAction
                tooltip="View (read only)"
                label={`View ${a.name}`}
                icon={IconEye}
                onClick={() => setEditing({ api: a })}
              />
            </Group>
          ) : (
            <Group gap={4} justify="flex-end" wrap="nowrap">
              <RowAction
                tooltip="Edit"
                label={`Edit ${a.name}`}
                icon={IconPencil}
                onClick={() => setEditing({ api: a })}
              />
              <RowAction
                tooltip="Delete"
                label={`Delete ${a.name}`}
                icon={IconTrash}
                color="red"
                onClick={() => setDeleting(a)}
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
        title="APIs"
        description="Your backends that accept this tenant’s access tokens. Apps name one with the resource parameter; its identifier becomes the token’s audience."
        actions={<CreateButton onClick={() => setEditing({ api: null })}>Register API</CreateButton>}
      />
      <Stack gap="md">
        {staleDelete && (
          <StaleVersionNotice
            what="this API"
            onReload={() => {
              setStaleDelete(false);
              void apis.refetch();
            }}
            reloading={apis.isFetching}
          />
        )}
        <DataTable
          id="apis"
          caption="APIs"
          columns={columns}
          rows={apis.data}
          rowKey={(a) => a.id}
          loading={apis.isPending}
          fetching={apis.isFetching && !apis.isPending}
          error={apis.error}
          onRetry={() => void apis.refetch()}
          empty="No APIs."
          columnPicker={false}
          minWidth={820}
        />
      </Stack>
      <ApiFormModal opened={editing !== null} api={editing?.api ?? null} onClose={() => setEditing(null)} />
      <ConfirmModal
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete API ${deleting?.name ?? ''}?`}
        confirmLabel="Delete API"
        onConfirm={async () => {
          if (!deleting) return;
          try {
            await client.delete(tenantPath(slug, `/apis/${encodeURIComponent(deleting.id)}`), {
              ifMatch: deleting.version,
            });
          } catch (error) {
            if (error instanceof ApiError && error.isVersionMismatch) {
              setStaleDelete(true);
              return;
            }
            throw error;
          }
          void queryClient.invalidateQueries({ queryKey: apisKey(slug) });
          notifications.show({ color: 'green', message: `API ${deleting.name} deleted` });
        }}
      >
        Apps can no longer get access tokens for it, and applications using it as their default API lose that default.
        Tokens already issued stay valid until they expire. This cannot be undone.
      </ConfirmModal>
    </>
  );
}
