import { Alert, Anchor, Badge, Button, Code, Group, Modal, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconLock } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Role } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { formatDateTime } from '../../components/format';
import { SaveProblems } from '../../components/SaveControls';
import { useVersionedForm } from '../../components/useVersionedForm';
import { useApisQuery } from '../apis/queries';
import { focusFirstError } from '../shared/focusFirstError';
import { ApiPermissionsField } from './ApiPermissionsField';
import { apiLabel } from './apiPermissions';
import { PermissionMatrix } from './PermissionMatrix';
import { summarizePermissions } from './permissions';
import { RoleFields } from './RoleFields';
import { type RoleFormValues, roleErrorOptions, rolePatchBody, roleToForm, validateDescription } from './roleForm';

const rolePath = (slug: string, name: string) => tenantPath(slug, `/roles/${encodeURIComponent(name)}`);

/**
 * One role: a custom role opens as a form (description, admin permissions, API permissions; the
 * name stays), saved with If-Match so that a change made meanwhile answers "changed meanwhile";
 * a built-in role is shown read only.
 */
export function RoleDetailsModal({
  role,
  onClose,
  onDelete,
}: {
  role: Role | null;
  onClose: () => void;
  onDelete?: (role: Role) => void;
}) {
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
      {role &&
        (role.builtin ? (
          <BuiltinRole role={role} onClose={onClose} />
        ) : (
          <RoleEditor key={role.id} role={role} onClose={onClose} onDelete={onDelete} />
        ))}
    </Modal>
  );
}

function RoleHeading({ role }: { role: Role }) {
  return (
    <>
      <Group gap="xs">
        <Code>{role.name}</Code>
        {role.builtin && (
          <Badge variant="light" color="gray">
            built-in
          </Badge>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        {summarizePermissions(role.permissions)} · created {formatDateTime(role.createdAt)}
        {role.updatedAt !== role.createdAt ? ` · changed ${formatDateTime(role.updatedAt)}` : ''}
      </Text>
    </>
  );
}

function HoldersLink({ role, onClose }: { role: Role; onClose: () => void }) {
  const { path } = useCurrentTenant();
  return (
    <Anchor component={Link} to={`${path('users')}?role=${encodeURIComponent(role.name)}`} size="sm" onClick={onClose}>
      Users holding {role.name}
    </Anchor>
  );
}

function BuiltinRole({ role, onClose }: { role: Role; onClose: () => void }) {
  return (
    <Stack gap="md">
      <RoleHeading role={role} />
      {role.description && <Text size="sm">{role.description}</Text>}
      <Alert color="gray" variant="light" icon={<IconLock aria-hidden />} title="Built-in">
        Built-in roles come with every tenant; they cannot be changed or deleted.
      </Alert>
      <Text size="sm" fw={600} id="role-details-permissions">
        Admin API permissions in this tenant
      </Text>
      <PermissionMatrix labelId="role-details-permissions" value={role.permissions} readOnly />
      <Text size="sm" fw={600} id="role-details-api-permissions">
        API permissions
      </Text>
      <ApiPermissionsField labelId="role-details-api-permissions" value={[]} builtin readOnly />
      <Group justify="space-between" gap="sm">
        <HoldersLink role={role} onClose={onClose} />
        <Button variant="default" onClick={onClose}>
          Close
        </Button>
      </Group>
    </Stack>
  );
}

function RoleEditor({ role, onClose, onDelete }: { role: Role; onClose: () => void; onDelete?: (role: Role) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug } = useCurrentTenant();
  const apis = useApisQuery(slug);
  const form = useForm<RoleFormValues>({
    initialValues: roleToForm(role),
    validate: { description: validateDescription },
  });
  const editor = useVersionedForm(form, role, roleToForm, () => api.get<Role>(rolePath(slug, role.name)));
  const save = useMutation({
    mutationFn: (values: RoleFormValues) =>
      api.patch<Role>(rolePath(slug, role.name), rolePatchBody(form.getInitialValues(), values), {
        ifMatch: editor.shownVersion.current,
      }),
    onSuccess: (saved) => {
      editor.saved(saved);
      void queryClient.invalidateQueries({ queryKey: queryKeys.roles(slug) });
      notifications.show({ color: 'green', message: `Role ${saved.name} saved` });
      onClose();
    },
    onError: (error) => {
      const stale = editor.failed(error, { ...roleErrorOptions, apiName: (id) => apiLabel(id, apis.data ?? []) });
      if (!stale) focusFirstError();
    },
  });

  return (
    <form
      onSubmit={form.onSubmit(
        (v) => save.mutate(v),
        () => focusFirstError(),
      )}
      noValidate
    >
      <Stack gap="md">
        <RoleHeading role={role} />
        <Text size="xs" c="dimmed">
          The name stays. Holders gain what you add and lose what you take away: in the admin API at once, in access
          tokens for your APIs from their next token. Changing a role needs every right it carries, before and after.
        </Text>
        <RoleFields form={form} idPrefix="edit-role" />
        <SaveProblems editor={editor} what="this role" title="The role was not saved" />
        <Group justify="space-between" gap="sm">
          <HoldersLink role={role} onClose={onClose} />
          <Group gap="sm">
            {onDelete && (
              <Button color="red" variant="outline" onClick={() => onDelete(role)}>
                Delete role
              </Button>
            )}
            <Button variant="default" onClick={onClose}>
              {editor.dirty ? 'Cancel' : 'Close'}
            </Button>
            <Button type="submit" loading={save.isPending} disabled={!editor.dirty}>
              Save changes
            </Button>
          </Group>
        </Group>
      </Stack>
    </form>
  );
}
