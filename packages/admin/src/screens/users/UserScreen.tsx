import { Badge, Button, Group, Tabs } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconBan, IconCircleCheck, IconMailCheck, IconMailForward } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { User } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { DeleteButton } from '../../components/ActionButtons';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DetailCrumbs, DetailFallback } from '../../components/DetailScreen';
import { PageHeader } from '../../components/PageHeader';
import { useSearchParam } from '../../components/useSearchParam';
import { ProfilePanel } from './ProfilePanel';
import { RolesPanel } from './RolesPanel';
import { SessionsPanel } from './SessionsPanel';
import { statusBadge } from './status';
import { UserActivityPanel } from './UserActivityPanel';

const TABS = ['profile', 'roles', 'sessions', 'activity'] as const;
type Tab = (typeof TABS)[number];

/** One user: profile and attributes, password, roles, sessions, and what happened to them. */
export default function UserScreen() {
  const { userId = '' } = useParams();
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { slug, path } = useCurrentTenant();
  const [params, setParam] = useSearchParam();
  const tabParam = params.get('tab');
  const tab: Tab = (TABS as readonly string[]).includes(tabParam ?? '') ? (tabParam as Tab) : 'profile';
  const [confirm, setConfirm] = useState<'delete' | 'disable' | 'enable' | null>(null);
  const [sendingReset, setSendingReset] = useState(false);

  const user = useQuery<User, ApiError>({
    queryKey: queryKeys.user(slug, userId),
    queryFn: ({ signal }) => api.get<User>(tenantPath(slug, `/users/${encodeURIComponent(userId)}`), { signal }),
  });

  const crumbs = <DetailCrumbs to={path('users')} list="Users" current={user.data?.email ?? userId} />;
  if (user.error || !user.data) {
    return <DetailFallback crumbs={crumbs} query={user} unavailable="User not available" />;
  }
  const u = user.data;
  const refreshUser = (updated?: User) => {
    if (updated) queryClient.setQueryData(queryKeys.user(slug, u.id), updated);
    else void queryClient.invalidateQueries({ queryKey: queryKeys.user(slug, u.id) });
    void queryClient.invalidateQueries({ queryKey: queryKeys.users(slug) });
  };

  return (
    <>
      <PageHeader
        above={crumbs}
        title={u.displayName ? `${u.displayName}` : u.email}
        description={
          <Group gap="xs" component="span">
            {u.displayName && <span>{u.email}</span>}
            <Badge color={statusBadge[u.status].color} variant="light">
              {statusBadge[u.status].label}
            </Badge>
            <Badge color={u.emailVerified ? 'teal' : 'yellow'} variant="light">
              {u.emailVerified ? 'Email verified' : 'Email not verified'}
            </Badge>
          </Group>
        }
        actions={
          <>
            {u.status === 'active' ? (
              <Button
                variant="default"
                leftSection={<IconBan size={16} aria-hidden />}
                onClick={() => setConfirm('disable')}
              >
                Disable
              </Button>
            ) : (
              <Button
                variant="default"
                leftSection={<IconCircleCheck size={16} aria-hidden />}
                onClick={() => setConfirm('enable')}
              >
                Enable
              </Button>
            )}
            {!u.emailVerified && u.status !== 'disabled' && (
              <Button
                variant="default"
                leftSection={<IconMailCheck size={16} aria-hidden />}
                onClick={async () => {
                  try {
                    await api.post(tenantPath(slug, `/users/${encodeURIComponent(u.id)}/verification`));
                    notifications.show({ color: 'green', message: `A verification link is on its way to ${u.email}` });
                  } catch (err) {
                    notifications.show({ color: 'red', message: (err as Error).message });
                  }
                }}
              >
                Send verification
              </Button>
            )}
            {u.status === 'active' && (
              <Button
                variant="default"
                loading={sendingReset}
                leftSection={<IconMailForward size={16} aria-hidden />}
                onClick={async () => {
                  setSendingReset(true);
                  try {
                    await api.post(tenantPath(slug, `/users/${encodeURIComponent(u.id)}/password-reset`));
                    notifications.show({
                      color: 'green',
                      message: `A password reset link is on its way to ${u.email}`,
                    });
                  } catch (err) {
                    notifications.show({ color: 'red', message: (err as Error).message });
                  } finally {
                    setSendingReset(false);
                  }
                }}
              >
                Send password reset
              </Button>
            )}
            <DeleteButton onClick={() => setConfirm('delete')}>Delete</DeleteButton>
          </>
        }
      />
      <Tabs value={tab} onChange={(t) => setParam('tab', t === 'profile' ? null : t)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="profile">Profile</Tabs.Tab>
          <Tabs.Tab value="roles">Roles ({u.roles.length})</Tabs.Tab>
          <Tabs.Tab value="sessions">Sessions</Tabs.Tab>
          <Tabs.Tab value="activity">Activity</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="profile">
          <ProfilePanel user={u} onSaved={refreshUser} onReload={async () => (await user.refetch()).data} />
        </Tabs.Panel>
        <Tabs.Panel value="roles">
          <RolesPanel user={u} onChanged={() => refreshUser()} />
        </Tabs.Panel>
        <Tabs.Panel value="sessions">
          <SessionsPanel user={u} />
        </Tabs.Panel>
        <Tabs.Panel value="activity">
          <UserActivityPanel user={u} />
        </Tabs.Panel>
      </Tabs>

      <ConfirmModal
        opened={confirm !== null}
        onClose={() => setConfirm(null)}
        title={
          confirm === 'delete'
            ? `Delete ${u.email}?`
            : confirm === 'disable'
              ? `Disable ${u.email}?`
              : `Enable ${u.email}?`
        }
        confirmLabel={confirm === 'delete' ? 'Delete user' : confirm === 'disable' ? 'Disable user' : 'Enable user'}
        danger={confirm !== 'enable'}
        onReload={() => user.refetch()}
        onConfirm={async () => {
          const userPath = tenantPath(slug, `/users/${u.id}`);
          if (confirm === 'delete') {
            await api.delete(userPath, { ifMatch: u.version });
            queryClient.removeQueries({ queryKey: queryKeys.user(slug, u.id) });
            void queryClient.invalidateQueries({ queryKey: queryKeys.users(slug) });
            void queryClient.invalidateQueries({ queryKey: queryKeys.stats(slug) });
            notifications.show({ color: 'green', message: `User ${u.email} deleted` });
            void navigate(path('users'));
          } else {
            const updated = await api.patch<User>(
              userPath,
              { status: confirm === 'disable' ? 'disabled' : 'active' },
              { ifMatch: u.version },
            );
            refreshUser(updated);
          }
        }}
      >
        {confirm === 'delete'
          ? 'The account, its sessions and its role grants are deleted. This cannot be undone.'
          : confirm === 'disable'
            ? 'They will not be able to sign in until enabled again.'
            : 'They will be able to sign in again.'}
      </ConfirmModal>
    </>
  );
}
