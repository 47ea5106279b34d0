import { Anchor, Badge, Button, Group, Paper, Skeleton, Stack, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconKey, IconLinkOff } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import type { ApiError } from '../../api/client';
import { queryKeys, usePermission } from '../../api/queries';
import type { Page, User, UserIdentity } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { ConfirmModal } from '../../components/ConfirmModal';
import { formatDateTime, formatRelative } from '../../components/format';
import { identitiesKey, identitiesPath } from '../identity-providers/queries';

/**
 * How a user can sign in: their password (set or not) and their identities at the tenant's
 * identity providers, each with Unlink (never the last way in: the server refuses that).
 */
export function SignInMethodsPanel({ user }: { user: User }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug, path } = useCurrentTenant();
  const canWrite = usePermission(slug, 'users:write');
  const [unlinking, setUnlinking] = useState<UserIdentity | null>(null);
  const key = identitiesKey(slug, user.id);
  const identities = useQuery<Page<UserIdentity>, ApiError>({
    queryKey: key,
    queryFn: ({ signal }) => api.get<Page<UserIdentity>>(identitiesPath(slug, user.id), { signal }),
  });
  const items = identities.data?.items ?? [];

  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-label="Sign-in methods">
      <Title order={2} size="h4" mb="sm">
        Sign-in methods
      </Title>
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap" gap="xs" align="flex-start">
          <Group gap={6} wrap="nowrap">
            <IconKey size={16} aria-hidden />
            <Text size="sm" fw={500}>
              Password
            </Text>
          </Group>
          <Badge variant="light" color={user.hasPassword ? 'teal' : 'gray'} style={{ textTransform: 'none' }}>
            {user.hasPassword ? 'Set' : 'Not set'}
          </Badge>
        </Group>
        {identities.error && <ApiErrorAlert error={identities.error} onRetry={() => void identities.refetch()} />}
        {identities.isPending ? (
          <Skeleton h={48} />
        ) : items.length === 0 ? (
          !identities.error && (
            <Text size="sm" c="dimmed">
              No identities at identity providers.
            </Text>
          )
        ) : (
          <Stack gap="sm" component="ul" m={0} p={0} style={{ listStyle: 'none' }} aria-label="Identities">
            {items.map((i) => (
              <Stack key={i.id} gap={2} component="li" aria-label={`${i.providerName} identity`}>
                <Group justify="space-between" wrap="nowrap" gap="xs" align="flex-start">
                  <Anchor
                    component={Link}
                    to={path('identity-providers', i.providerId)}
                    size="sm"
                    fw={500}
                    style={{ overflowWrap: 'anywhere' }}
                  >
                    {i.providerName}
                  </Anchor>
                  {canWrite && (
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="red"
                      leftSection={<IconLinkOff size={14} aria-hidden />}
                      aria-label={`Unlink ${i.providerName} identity ${i.email ?? i.subject}`}
                      onClick={() => setUnlinking(i)}
                    >
                      Unlink
                    </Button>
                  )}
                </Group>
                {i.email && (
                  <Text size="xs" style={{ overflowWrap: 'anywhere' }}>
                    {i.email}
                  </Text>
                )}
                <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }} title="Upstream subject">
                  {i.subject}
                </Text>
                <Text size="xs" c="dimmed">
                  Linked <span title={formatDateTime(i.createdAt)}>{formatRelative(i.createdAt)}</span>
                  {' · last sign-in '}
                  {i.lastSignInAt ? (
                    <span title={formatDateTime(i.lastSignInAt)}>{formatRelative(i.lastSignInAt)}</span>
                  ) : (
                    'never'
                  )}
                </Text>
              </Stack>
            ))}
          </Stack>
        )}
      </Stack>
      <ConfirmModal
        opened={unlinking !== null}
        onClose={() => setUnlinking(null)}
        title={`Unlink ${unlinking?.providerName ?? ''} from ${user.email}?`}
        confirmLabel="Unlink"
        onConfirm={async () => {
          if (!unlinking) return;
          // A refusal (409 last_sign_in_method: the user's only way in) shows in the dialog, as the server says it.
          await api.delete(identitiesPath(slug, user.id, unlinking.id));
          void queryClient.invalidateQueries({ queryKey: key });
          void queryClient.invalidateQueries({ queryKey: queryKeys.user(slug, user.id), exact: true });
          notifications.show({ color: 'green', message: `${unlinking.providerName} unlinked from ${user.email}` });
        }}
      >
        {`They can no longer sign in with this ${unlinking?.providerName ?? ''} account${
          unlinking?.email ? ` (${unlinking.email})` : ''
        }. Signing in with it again later creates or links an identity anew, as the provider allows.`}
      </ConfirmModal>
    </Paper>
  );
}
