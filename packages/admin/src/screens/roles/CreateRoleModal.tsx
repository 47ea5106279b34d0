import { Modal, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Permission, Role } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateFormFooter } from '../../components/CreateFormFooter';
import { applyApiErrors } from '../../components/fieldErrors';
import { focusFirstError } from '../shared/focusFirstError';
import { PermissionMatrix } from './PermissionMatrix';
import { validateRoleName } from './permissions';

interface Values {
  name: string;
  description: string;
  permissions: Permission[];
}

const FIELDS = ['name', 'description', 'permissions'];

/** Create a role: a name, what it is for, and the admin API permissions it grants in this tenant. */
export function CreateRoleModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated?: (role: Role) => void;
}) {
  const api = useApi();
  const { slug } = useCurrentTenant();
  const queryClient = useQueryClient();
  const phone = useMediaQuery('(max-width: 36em)');
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<Values>({
    initialValues: { name: '', description: '', permissions: [] },
    validate: {
      name: validateRoleName,
      description: (v) => (v.length > 500 ? 'At most 500 characters' : null),
    },
  });
  const create = useMutation({
    mutationFn: (v: Values) =>
      api.post<Role>(tenantPath(slug, '/roles'), {
        name: v.name.trim(),
        description: v.description.trim(),
        permissions: v.permissions,
      }),
    onSuccess: (role) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.roles(slug) });
      notifications.show({ color: 'green', message: `Role ${role.name} created` });
      close();
      onCreated?.(role);
    },
    onError: (error) => {
      setOther(applyApiErrors(form, error, { fields: FIELDS, codes: { role_exists: 'name' } }));
      focusFirstError();
    },
  });
  const close = () => {
    form.reset();
    setOther([]);
    create.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Create a role" centered size="lg" fullScreen={phone}>
      <form
        onSubmit={form.onSubmit(
          (v) => create.mutate(v),
          () => focusFirstError(),
        )}
        noValidate
      >
        <Stack>
          <TextInput
            label="Name"
            description="As it appears in tokens and API keys, like support or billing.viewer; it cannot be changed later"
            required
            autoComplete="off"
            spellCheck={false}
            data-autofocus
            {...form.getInputProps('name')}
          />
          <Textarea
            label="Description"
            description="Optional: who should hold it"
            autosize
            minRows={2}
            maxRows={5}
            {...form.getInputProps('description')}
          />
          <Stack gap={4}>
            <Text size="sm" fw={600} id="create-role-permissions">
              Admin API permissions in this tenant
            </Text>
            <Text size="xs" c="dimmed">
              None is fine for a role your applications read from tokens; holders of a role with permissions can manage
              this tenant through the console or the admin API.
            </Text>
            <PermissionMatrix
              labelId="create-role-permissions"
              value={form.values.permissions}
              onChange={(p) => form.setFieldValue('permissions', p)}
              error={typeof form.errors.permissions === 'string' ? form.errors.permissions : null}
            />
          </Stack>
          <CreateFormFooter what="role" other={other} onCancel={close} submitting={create.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}
