import { Modal, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Role } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateFormFooter } from '../../components/CreateFormFooter';
import { applyApiErrors } from '../../components/fieldErrors';
import { useApisQuery } from '../apis/queries';
import { focusFirstError } from '../shared/focusFirstError';
import { apiLabel, normalizeApiPermissions } from './apiPermissions';
import { validateRoleName } from './permissions';
import { RoleFields } from './RoleFields';
import { emptyRoleForm, type RoleFormValues, roleErrorOptions, validateDescription } from './roleForm';

interface Values extends RoleFormValues {
  name: string;
}

/**
 * Create a role: a name, what it is for, the admin API permissions it grants in this tenant, and
 * scopes of the tenant's APIs.
 */
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
  const apis = useApisQuery(slug);
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<Values>({
    initialValues: { name: '', ...emptyRoleForm() },
    validate: { name: validateRoleName, description: validateDescription },
  });
  const create = useMutation({
    mutationFn: (v: Values) =>
      api.post<Role>(tenantPath(slug, '/roles'), {
        name: v.name.trim(),
        description: v.description.trim(),
        permissions: v.permissions,
        apiPermissions: normalizeApiPermissions(v.apiPermissions),
      }),
    onSuccess: (role) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.roles(slug) });
      notifications.show({ color: 'green', message: `Role ${role.name} created` });
      close();
      onCreated?.(role);
    },
    onError: (error) => {
      setOther(applyApiErrors(form, error, { ...roleErrorOptions, apiName: (id) => apiLabel(id, apis.data ?? []) }));
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
          <RoleFields form={form} idPrefix="create-role" />
          <CreateFormFooter what="role" other={other} onCancel={close} submitting={create.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}
