import { Anchor, Badge, Group, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconEye, IconPencil, IconSearch, IconTrash } from '@tabler/icons-react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Page, Role } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateButton } from '../../components/ActionButtons';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { RowAction } from '../../components/RowAction';
import { useSearchParam } from '../../components/useSearchParam';
import { useApisQuery } from '../apis/queries';
import { summarizeApiPermissions } from './apiPermissions';
import { CreateRoleModal } from './CreateRoleModal';
import { summarizePermissions } from './permissions';
import { DEFAULT_ROLE_SORT, roleSortFrom, rolesListKey, rolesListQuery } from './queries';
import { RoleDetailsModal } from './RoleDetailsModal';

/**
 * The roles of a tenant: search by name prefix, see each role's admin and API permissions,
 * create, edit a custom role (built-in ones are read only), delete.
 */
export default function RolesScreen() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug } = useCurrentTenant();
  const [params, setParam] = useSearchParam();
  const [search, setSearch] = useState(params.get('q') ?? '');
  const [q] = useDebouncedValue(search.trim(), 250);
  const sort = roleSortFrom(params.get('sort'));
  const pager = useCursorPager(`${slug}|${q}|${sort}`);
  const [creating, setCreating] = useState(false);
  const [viewing, setViewing] = useState<Role | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);

  // The search box writes to the URL once typing pauses.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only the debounced text triggers this
  useEffect(() => {
    if (q !== (params.get('q') ?? '')) setParam('q', q || null);
  }, [q]);

  const apis = useApisQuery(slug);
  const apiList = useMemo(() => apis.data ?? [], [apis.data]);

  const listParams = { q, sort, cursor: pager.cursor };
  const list = useQuery<Page<Role>, ApiError>({
    queryKey: rolesListKey(slug, listParams),
    queryFn: ({ signal }) =>
      api.get<Page<Role>>(tenantPath(slug, '/roles'), { query: rolesListQuery(listParams), signal }),
    placeholderData: keepPreviousData,
  });

  const columns = useMemo<DataTableColumn<Role>[]>(
    () => [
      {
        key: 'name',
        header: 'Name',
        hideable: false,
        sortField: 'name',
        render: (r) => (
          <Group gap={6} wrap="wrap">
            <Anchor
              component="button"
              type="button"
              fw={500}
              onClick={() => setViewing(r)}
              style={{ textAlign: 'left', overflowWrap: 'anywhere' }}
            >
              {r.name}
            </Anchor>
            {r.builtin && (
              <Badge size="xs" variant="light" color="gray">
                built-in
              </Badge>
            )}
          </Group>
        ),
      },
      {
        key: 'description',
        secondary: true,
        header: 'Description',
        render: (r) =>
          r.description ? (
            <Text size="sm" lineClamp={2}>
              {r.description}
            </Text>
          ) : (
            <Text size="sm" c="dimmed">
              —
            </Text>
          ),
      },
      {
        key: 'permissions',
        secondary: true,
        header: 'Admin access',
        render: (r) => (
          <Text size="sm" c={r.permissions.length ? undefined : 'dimmed'} lineClamp={2}>
            {summarizePermissions(r.permissions)}
          </Text>
        ),
      },
      {
        key: 'apiPermissions',
        secondary: true,
        header: 'API permissions',
        render: (r) =>
          r.builtin ? (
            <Text size="sm">Every API scope</Text>
          ) : (
            <Text
              size="sm"
              c={r.apiPermissions.length ? undefined : 'dimmed'}
              lineClamp={2}
              style={{ overflowWrap: 'anywhere' }}
            >
              {summarizeApiPermissions(r.apiPermissions, apiList)}
            </Text>
          ),
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Created',
        sortField: 'createdAt',
        render: (r) => <span title={formatDateTime(r.createdAt)}>{formatRelative(r.createdAt)}</span>,
      },
      {
        key: 'actions',
        header: 'Actions',
        hideable: false,
        align: 'right',
        render: (r) => (
          <Group gap={4} justify="flex-end" wrap="nowrap">
            {r.builtin ? (
              <RowAction
                tooltip="View permissions"
                label={`View permissions of ${r.name}`}
                icon={IconEye}
                onClick={() => setViewing(r)}
              />
            ) : (
              <RowAction tooltip="Edit" label={`Edit role ${r.name}`} icon={IconPencil} onClick={() => setViewing(r)} />
            )}
            {!r.builtin && (
              <RowAction
                tooltip="Delete"
                label={`Delete role ${r.name}`}
                icon={IconTrash}
                color="red"
                onClick={() => setDeleting(r)}
              />
            )}
          </Group>
        ),
      },
    ],
    [apiList],
  );

  return (
    <>
      <PageHeader
        title="Roles"
        description="A role is a named set of admin permissions in this tenant and of scopes of its APIs. Holders’ access tokens for an API carry the scopes their roles grant; roles also appear in tokens, for your own applications to read."
        actions={<CreateButton onClick={() => setCreating(true)}>Create role</CreateButton>}
      />
      <DataTable
        id="roles"
        caption="Roles"
        columns={columns}
        {...pagedListProps(list, pager)}
        rowKey={(r) => r.id}
        sort={sort}
        onSortChange={(s) => setParam('sort', s === DEFAULT_ROLE_SORT ? null : s)}
        empty={q ? `No role’s name starts with “${q}”.` : 'No roles yet.'}
        minWidth={860}
        toolbar={
          <TextInput
            label="Search"
            placeholder="Name starts with…"
            leftSection={<IconSearch size={16} aria-hidden />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            type="search"
            w={{ base: '100%', xs: 280 }}
          />
        }
      />
      <CreateRoleModal opened={creating} onClose={() => setCreating(false)} onCreated={(role) => setViewing(role)} />
      <RoleDetailsModal
        role={viewing}
        onClose={() => setViewing(null)}
        onDelete={(r) => {
          setViewing(null);
          setDeleting(r);
        }}
      />
      <ConfirmModal
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete role ${deleting?.name ?? ''}?`}
        confirmLabel="Delete role"
        onConfirm={async () => {
          if (!deleting) return;
          await api.delete(tenantPath(slug, `/roles/${encodeURIComponent(deleting.name)}`));
          void queryClient.invalidateQueries({ queryKey: queryKeys.roles(slug) });
          void queryClient.invalidateQueries({ queryKey: queryKeys.users(slug) });
          notifications.show({ color: 'green', message: `Role ${deleting.name} deleted` });
        }}
      >
        Every user, API key and application holding it loses it, with the permissions it grants. Access tokens already
        issued keep it until they expire. This cannot be undone.
      </ConfirmModal>
    </>
  );
}
