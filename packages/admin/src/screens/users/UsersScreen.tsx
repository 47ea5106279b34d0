import { Anchor, Badge, Button, Group, List, Paper, Select, Text, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconBan, IconCircleCheck, IconDownload, IconFileUpload, IconTrash } from '@tabler/icons-react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { queryKeys, usePermission, useRolesQuery } from '../../api/queries';
import type { Page, User } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateButton } from '../../components/ActionButtons';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DataTable, type DataTableColumn, pagedListProps, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { SearchInput } from '../../components/SearchInput';
import { currentSearchParams } from '../../components/useSearchParam';
import { CreateUserModal } from './CreateUserModal';
import { ExportUsersModal } from './ExportUsersModal';
import { ImportUsersModal } from './ImportUsersModal';
import { statusBadge } from './status';
import {
  filterFromSearchParams,
  filterKey,
  filterToSearchParams,
  type UsersFilter,
  usersListQuery,
} from './usersQuery';

type BulkAction = 'disable' | 'enable' | 'delete';

/**
 * A tenant's users: server-side search (email or name prefix), status and role filters, sorting
 * and cursor paging, so it stays quick over 100,000 users. Filters live in the URL.
 */
export default function UsersScreen() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug, path } = useCurrentTenant();
  const [params, setParams] = useSearchParams();
  const filter = filterFromSearchParams(params);
  const [selection, setSelection] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<BulkAction | null>(null);
  const [creating, setCreating] = useState(false);
  const [transfer, setTransfer] = useState<'import' | 'export' | null>(null);
  const canWrite = usePermission(slug, 'users:write');
  const canExportHashes = usePermission(slug, 'users:export_hashes');
  const roles = useRolesQuery(slug);

  const setFilter = (patch: Partial<UsersFilter>) => {
    const latest = currentSearchParams();
    setParams(filterToSearchParams({ ...filterFromSearchParams(latest), ...patch }, latest), { replace: true });
  };
  const key = filterKey(filter);
  const pager = useCursorPager(`${slug}|${key}`);
  // A new filter, page or tenant: the selection referred to rows no longer shown.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on these changes only
  useEffect(() => setSelection(new Set()), [slug, key, pager.cursor]);

  const list = useQuery<Page<User>, ApiError>({
    queryKey: queryKeys.users(slug, { ...filter, cursor: pager.cursor }),
    queryFn: ({ signal }) =>
      api.get<Page<User>>(tenantPath(slug, '/users'), { query: usersListQuery(filter, pager.cursor), signal }),
    placeholderData: keepPreviousData,
  });
  const rows = list.data?.items;
  const selectedUsers = (rows ?? []).filter((u) => selection.has(u.id));

  const columns = useMemo<DataTableColumn<User>[]>(
    () => [
      {
        key: 'email',
        header: 'Email',
        hideable: false,
        sortField: 'email',
        render: (u) => (
          <Anchor component={Link} to={path('users', u.id)} fw={500} style={{ whiteSpace: 'nowrap' }}>
            {u.email}
          </Anchor>
        ),
      },
      {
        key: 'displayName',
        secondary: true,
        header: 'Name',
        sortField: 'displayName',
        render: (u) => u.displayName ?? '—',
      },
      {
        key: 'status',
        header: 'Status',
        render: (u) => (
          <Badge color={statusBadge[u.status].color} variant="light" style={{ overflow: 'visible' }}>
            {statusBadge[u.status].label}
          </Badge>
        ),
      },
      {
        key: 'roles',
        secondary: true,
        header: 'Roles',
        render: (u) =>
          u.roles.length ? (
            <Group gap={4}>
              {u.roles.map((r) => (
                <Badge key={r} variant="outline" size="sm" style={{ textTransform: 'none' }}>
                  {r}
                </Badge>
              ))}
            </Group>
          ) : (
            <Text size="sm" c="dimmed">
              —
            </Text>
          ),
      },
      {
        key: 'lastLoginAt',
        secondary: true,
        header: 'Last sign-in',
        sortField: 'lastLoginAt',
        render: (u) => (
          <span title={formatDateTime(u.lastLoginAt)} style={{ whiteSpace: 'nowrap' }}>
            {formatRelative(u.lastLoginAt)}
          </span>
        ),
      },
      {
        key: 'createdAt',
        secondary: true,
        header: 'Created',
        sortField: 'createdAt',
        render: (u) => (
          <span title={formatDateTime(u.createdAt)} style={{ whiteSpace: 'nowrap' }}>
            {formatRelative(u.createdAt)}
          </span>
        ),
      },
      {
        key: 'updatedAt',
        secondary: true,
        header: 'Updated',
        sortField: 'updatedAt',
        defaultHidden: true,
        render: (u) => (
          <span title={formatDateTime(u.updatedAt)} style={{ whiteSpace: 'nowrap' }}>
            {formatRelative(u.updatedAt)}
          </span>
        ),
      },
      {
        key: 'emailVerified',
        secondary: true,
        header: 'Email verified',
        defaultHidden: true,
        render: (u) => (u.emailVerified ? 'Yes' : 'No'),
      },
      {
        key: 'hasPassword',
        secondary: true,
        header: 'Password',
        defaultHidden: true,
        render: (u) => (u.hasPassword ? 'Set' : 'None'),
      },
      {
        key: 'id',
        secondary: true,
        header: 'ID',
        defaultHidden: true,
        render: (u) => (
          <Text size="xs" ff="monospace">
            {u.id}
          </Text>
        ),
      },
    ],
    [path],
  );

  const runBulk = async (action: BulkAction) => {
    const results = await Promise.allSettled(
      selectedUsers.map((u) =>
        action === 'delete'
          ? api.delete(tenantPath(slug, `/users/${u.id}`), { ifMatch: u.version })
          : api.patch(
              tenantPath(slug, `/users/${u.id}`),
              { status: action === 'disable' ? 'disabled' : 'active' },
              { ifMatch: u.version },
            ),
      ),
    );
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${selectedUsers[i]?.email}: ${(r.reason as Error).message}`] : [],
    );
    const done = results.length - failed.length;
    void queryClient.invalidateQueries({ queryKey: queryKeys.users(slug) });
    void queryClient.invalidateQueries({ queryKey: queryKeys.stats(slug) });
    setSelection(new Set());
    const verb = action === 'delete' ? 'deleted' : action === 'disable' ? 'disabled' : 'enabled';
    if (done > 0) notifications.show({ color: 'green', message: `${done} user${done === 1 ? '' : 's'} ${verb}` });
    if (failed.length > 0) {
      notifications.show({
        color: 'red',
        title: `${failed.length} could not be ${verb}`,
        message: (
          <List size="sm">
            {failed.map((f) => (
              <List.Item key={f}>{f}</List.Item>
            ))}
          </List>
        ),
        autoClose: false,
      });
    }
  };

  const n = selectedUsers.length;
  const who = n === 1 ? selectedUsers[0]?.email : `${n} users`;

  return (
    <>
      <PageHeader
        title="Users"
        description="Search by the start of an email address or name; filters and sorting run on the server."
        actions={
          <>
            <Button
              variant="default"
              leftSection={<IconDownload size={16} aria-hidden />}
              onClick={() => setTransfer('export')}
            >
              Export users
            </Button>
            {canWrite && (
              <Button
                variant="default"
                leftSection={<IconFileUpload size={16} aria-hidden />}
                onClick={() => setTransfer('import')}
              >
                Import users
              </Button>
            )}
            <CreateButton onClick={() => setCreating(true)}>Create user</CreateButton>
          </>
        }
      />
      <DataTable
        id="users"
        caption="Users"
        columns={columns}
        {...pagedListProps(list, pager)}
        rowKey={(u) => u.id}
        rowLabel={(u) => u.email}
        fetching={list.isPlaceholderData || (list.isFetching && !list.isPending)}
        sort={filter.sort}
        onSortChange={(sort) => setFilter({ sort })}
        selection={selection}
        onSelectionChange={setSelection}
        empty={
          filter.q || filter.status || filter.role ? 'No user matches these filters.' : 'No users yet in this tenant.'
        }
        minWidth={920}
        toolbar={
          <>
            <SearchInput
              label="Search"
              placeholder="Email or name starts with…"
              value={filter.q}
              onSearch={(q) => setFilter({ q })}
              w={{ base: '100%', xs: 260 }}
            />
            <Select
              label="Status"
              data={[
                { value: '', label: 'Any status' },
                { value: 'active', label: 'Active' },
                { value: 'disabled', label: 'Disabled' },
                { value: 'pending', label: 'Pending' },
              ]}
              value={filter.status}
              onChange={(v) => setFilter({ status: (v ?? '') as UsersFilter['status'] })}
              allowDeselect={false}
              w={{ base: '48%', xs: 150 }}
            />
            <Select
              label="Role"
              data={[
                { value: '', label: 'Any role' },
                ...(roles.data ?? []).map((r) => ({ value: r.name, label: r.name })),
              ]}
              value={filter.role}
              onChange={(v) => setFilter({ role: v ?? '' })}
              searchable
              allowDeselect={false}
              nothingFoundMessage="No such role"
              w={{ base: '48%', xs: 180 }}
            />
          </>
        }
      />
      {n > 0 && (
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
          aria-label="Actions on selected users"
        >
          <Group justify="space-between" gap="sm">
            <Text size="sm" fw={500}>
              {n} selected
            </Text>
            <Group gap="xs">
              <Tooltip label="They can no longer sign in; their sessions end">
                <Button
                  size="xs"
                  variant="default"
                  leftSection={<IconBan size={14} aria-hidden />}
                  onClick={() => setBulk('disable')}
                >
                  Disable
                </Button>
              </Tooltip>
              <Button
                size="xs"
                variant="default"
                leftSection={<IconCircleCheck size={14} aria-hidden />}
                onClick={() => setBulk('enable')}
              >
                Enable
              </Button>
              <Button
                size="xs"
                color="red"
                leftSection={<IconTrash size={14} aria-hidden />}
                onClick={() => setBulk('delete')}
              >
                Delete
              </Button>
              <Button size="xs" variant="subtle" onClick={() => setSelection(new Set())}>
                Clear
              </Button>
            </Group>
          </Group>
        </Paper>
      )}
      <ConfirmModal
        opened={bulk !== null}
        onClose={() => setBulk(null)}
        title={bulk === 'delete' ? `Delete ${who}?` : bulk === 'disable' ? `Disable ${who}?` : `Enable ${who}?`}
        confirmLabel={bulk === 'delete' ? 'Delete' : bulk === 'disable' ? 'Disable' : 'Enable'}
        danger={bulk !== 'enable'}
        onConfirm={() => (bulk ? runBulk(bulk) : undefined)}
      >
        {bulk === 'delete'
          ? 'Their accounts, sessions and role grants are deleted. This cannot be undone.'
          : bulk === 'disable'
            ? 'They will not be able to sign in until enabled again.'
            : 'They will be able to sign in again.'}
      </ConfirmModal>
      <CreateUserModal opened={creating} onClose={() => setCreating(false)} />
      {canWrite && <ImportUsersModal opened={transfer === 'import'} onClose={() => setTransfer(null)} />}
      <ExportUsersModal
        opened={transfer === 'export'}
        onClose={() => setTransfer(null)}
        canExportHashes={canExportHashes}
      />
    </>
  );
}
