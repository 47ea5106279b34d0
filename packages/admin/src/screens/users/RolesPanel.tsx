import { Badge, Button, Group, Paper, Select, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconPlus, IconX } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import { queryKeys, useRolesQuery } from '../../api/queries';
import type { User } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { ConfirmModal } from '../../components/ConfirmModal';
import { PHONE_QUERY } from '../../components/DataTable';
import { RowAction } from '../../components/RowAction';

/** The roles a user holds in this tenant: grant one, remove one (after asking). */
export function RolesPanel({ user, onChanged }: { user: User; onChanged: () => void }) {
  const phone = useMediaQuery(PHONE_QUERY) ?? false;
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug } = useCurrentTenant();
  const roles = useRolesQuery(slug);
  const [toGrant, setToGrant] = useState<string | null>(null);
  const [toRemove, setToRemove] = useState<string | null>(null);
  const byName = new Map((roles.data ?? []).map((r) => [r.name, r]));
  const grantable = (roles.data ?? []).filter((r) => !user.roles.includes(r.name));

  const rolePath = (name: string) => tenantPath(slug, `/users/${user.id}/roles/${encodeURIComponent(name)}`);
  const grant = useMutation({
    mutationFn: (name: string) => api.put<void>(rolePath(name)),
    onSuccess: (_v, name) => {
      setToGrant(null);
      onChanged();
      void queryClient.invalidateQueries({ queryKey: queryKeys.users(slug) });
      notifications.show({ color: 'green', message: `Granted ${name} to ${user.email}` });
    },
  });

  return (
    <Paper withBorder p="lg" radius="md">
      <Stack gap="md">
        <Title order={2} size="h4">
          Roles in this tenant
        </Title>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (toGrant) grant.mutate(toGrant);
          }}
        >
          <Group align="flex-end" gap="sm">
            <Select
              label="Grant a role"
              placeholder={grantable.length ? 'Pick a role' : 'Holds every role'}
              data={grantable.map((r) => ({
                value: r.name,
                label: r.description ? `${r.name} — ${r.description}` : r.name,
              }))}
              value={toGrant}
              onChange={setToGrant}
              searchable
              nothingFoundMessage="No such role"
              disabled={grantable.length === 0}
              w={{ base: '100%', xs: 360 }}
            />
            <Button
              type="submit"
              leftSection={<IconPlus size={16} aria-hidden />}
              disabled={!toGrant}
              loading={grant.isPending}
            >
              Grant
            </Button>
          </Group>
        </form>
        {grant.error && (
          <ApiErrorAlert error={grant.error} title="The role was not granted" onClose={() => grant.reset()} />
        )}
        {user.roles.length === 0 ? (
          <Text size="sm" c="dimmed">
            No roles: this user can sign in to applications but holds no admin permissions.
          </Text>
        ) : (
          // On a phone the permissions go under the role's name: no table to scroll sideways.
          <Table.ScrollContainer minWidth={phone ? 0 : 480} type="native">
            <Table verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Role</Table.Th>
                  {!phone && <Table.Th>Admin permissions</Table.Th>}
                  <Table.Th w={60}>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {user.roles.map((name) => {
                  const role = byName.get(name);
                  const permissions = (
                    <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                      {role ? role.permissions.join(', ') || 'no admin permissions' : '…'}
                    </Text>
                  );
                  return (
                    <Table.Tr key={name}>
                      <Table.Td>
                        <Group gap={6}>
                          <Text size="sm" fw={500}>
                            {name}
                          </Text>
                          {role?.builtin && (
                            <Badge size="xs" variant="light" color="gray">
                              built-in
                            </Badge>
                          )}
                        </Group>
                        {role?.description && (
                          <Text size="xs" c="dimmed">
                            {role.description}
                          </Text>
                        )}
                        {phone && permissions}
                      </Table.Td>
                      {!phone && <Table.Td>{permissions}</Table.Td>}
                      <Table.Td>
                        <RowAction
                          tooltip={`Remove ${name}`}
                          label={`Remove role ${name}`}
                          icon={IconX}
                          color="red"
                          onClick={() => setToRemove(name)}
                        />
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
      <ConfirmModal
        opened={toRemove !== null}
        onClose={() => setToRemove(null)}
        title={`Remove ${toRemove} from ${user.email}?`}
        confirmLabel="Remove role"
        onConfirm={async () => {
          if (!toRemove) return;
          await api.delete(rolePath(toRemove));
          onChanged();
          notifications.show({ color: 'green', message: `Removed ${toRemove} from ${user.email}` });
        }}
      >
        They lose the role’s permissions at their next token (access tokens already issued stay valid until they
        expire).
      </ConfirmModal>
    </Paper>
  );
}
