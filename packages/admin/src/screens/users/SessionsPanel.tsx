import { Badge, Button, Group, Paper, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconLogout } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Page, Session, User } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { ConfirmModal } from '../../components/ConfirmModal';
import { PHONE_QUERY } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';

/** The user's active sign-in sessions, and a way to end them all (with their refresh tokens). */
export function SessionsPanel({ user }: { user: User }) {
  const phone = useMediaQuery(PHONE_QUERY) ?? false;
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug } = useCurrentTenant();
  const [confirm, setConfirm] = useState(false);
  const key = [...queryKeys.user(slug, user.id), 'sessions'];
  const sessions = useQuery<Page<Session>, ApiError>({
    queryKey: key,
    queryFn: ({ signal }) => api.get<Page<Session>>(tenantPath(slug, `/users/${user.id}/sessions`), { signal }),
  });
  const items = sessions.data?.items ?? [];

  return (
    <Paper withBorder p="lg" radius="md">
      <Stack gap="md">
        <Group justify="space-between">
          <Title order={2} size="h4">
            Active sessions
          </Title>
          <Button
            color="red"
            variant="outline"
            leftSection={<IconLogout size={16} aria-hidden />}
            disabled={items.length === 0}
            onClick={() => setConfirm(true)}
          >
            End all sessions
          </Button>
        </Group>
        {sessions.error && <ApiErrorAlert error={sessions.error} onRetry={() => void sessions.refetch()} />}
        {sessions.isPending ? (
          <Skeleton h={80} />
        ) : items.length === 0 ? (
          <Text size="sm" c="dimmed">
            No active sessions: the user is signed in nowhere.
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={phone ? 0 : 520} type="native">
            <Table verticalSpacing="xs" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Signed in</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Applications</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((s) => (
                  <Table.Tr key={s.id}>
                    <Table.Td title={formatDateTime(s.signedInAt)}>{formatRelative(s.signedInAt)}</Table.Td>
                    <Table.Td title={formatDateTime(s.expiresAt)}>{formatRelative(s.expiresAt)}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {s.clients.length
                          ? s.clients.map((c) => (
                              <Badge key={c} variant="outline" size="sm" style={{ textTransform: 'none' }}>
                                {c}
                              </Badge>
                            ))
                          : '—'}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
      <ConfirmModal
        opened={confirm}
        onClose={() => setConfirm(false)}
        title={`End every session of ${user.email}?`}
        confirmLabel="End all sessions"
        onConfirm={async () => {
          await api.delete(tenantPath(slug, `/users/${user.id}/sessions`));
          void queryClient.invalidateQueries({ queryKey: key });
          void queryClient.invalidateQueries({ queryKey: queryKeys.stats(slug) });
          notifications.show({ color: 'green', message: `Signed ${user.email} out everywhere` });
        }}
      >
        They are signed out of every application and their refresh tokens stop working. Access tokens already issued
        stay valid until they expire.
      </ConfirmModal>
    </Paper>
  );
}
