import { Anchor, Badge, Button, Code, Group, Modal, Stack, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { Link } from 'react-router';
import type { Role } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { formatDateTime } from '../../components/format';
import { PermissionMatrix } from './PermissionMatrix';
import { summarizePermissions } from './permissions';

/** A role's permissions, read only (roles are not edited: create a new one and move holders). */
export function RoleDetailsModal({
  role,
  onClose,
  onDelete,
}: {
  role: Role | null;
  onClose: () => void;
  onDelete?: (role: Role) => void;
}) {
  const { path } = useCurrentTenant();
  const phone = useMediaQuery('(max-width: 36em)');
  return (
    <Modal
      opened={role !== null}
      onClose={onClose}
      title={role ? `Role ${role.name}` : ''}
      centered
      size="lg"
      fullScreen={phone}
    >
      {role && (
        <Stack gap="md">
          <Group gap="xs">
            <Code>{role.name}</Code>
            {role.builtin && (
              <Badge variant="light" color="gray">
                built-in
              </Badge>
            )}
          </Group>
          {role.description && <Text size="sm">{role.description}</Text>}
          <Text size="sm" c="dimmed">
            {summarizePermissions(role.permissions)} · created {formatDateTime(role.createdAt)}
          </Text>
          {role.builtin && (
            <Text size="sm" c="dimmed">
              Built-in roles come with every tenant and cannot be deleted.
            </Text>
          )}
          <Text size="sm" fw={600} id="role-details-permissions">
            Admin API permissions in this tenant
          </Text>
          <PermissionMatrix labelId="role-details-permissions" value={role.permissions} readOnly />
          <Group justify="space-between" gap="sm">
            <Anchor
              component={Link}
              to={`${path('users')}?role=${encodeURIComponent(role.name)}`}
              size="sm"
              onClick={onClose}
            >
              Users holding {role.name}
            </Anchor>
            <Group gap="sm">
              {!role.builtin && onDelete && (
                <Button color="red" variant="outline" onClick={() => onDelete(role)}>
                  Delete role
                </Button>
              )}
              <Button variant="default" onClick={onClose}>
                Close
              </Button>
            </Group>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
