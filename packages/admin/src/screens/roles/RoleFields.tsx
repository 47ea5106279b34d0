/** What a role carries, as fields: description, admin permissions, API permissions (create and edit). */
import { Stack, Text, Textarea } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import { ApiPermissionsField } from './ApiPermissionsField';
import { PermissionMatrix } from './PermissionMatrix';
import type { RoleFormValues } from './roleForm';

export function RoleFields<V extends RoleFormValues>({
  form,
  idPrefix,
}: {
  form: UseFormReturnType<V>;
  idPrefix: string;
}) {
  const error = (field: string) => {
    const e = form.errors[field];
    return typeof e === 'string' ? e : null;
  };
  const set = form.setFieldValue as (path: string, value: unknown) => void;
  return (
    <>
      <Textarea
        label="Description"
        description="Optional: who should hold it"
        autosize
        minRows={2}
        maxRows={5}
        {...form.getInputProps('description')}
      />
      <Stack gap={4}>
        <Text size="sm" fw={600} id={`${idPrefix}-permissions`}>
          Admin API permissions in this tenant
        </Text>
        <Text size="xs" c="dimmed">
          None is fine for a role your applications read from tokens; holders of a role with permissions can manage this
          tenant through the console or the admin API.
        </Text>
        <PermissionMatrix
          labelId={`${idPrefix}-permissions`}
          value={form.values.permissions}
          onChange={(p) => set('permissions', p)}
          error={error('permissions')}
        />
      </Stack>
      <Stack gap={4}>
        <Text size="sm" fw={600} id={`${idPrefix}-api-permissions`}>
          API permissions
        </Text>
        <Text size="xs" c="dimmed">
          Scopes of this tenant’s APIs the role grants. A holder’s access token for an API carries the scopes its roles
          grant that the application may also ask for.
        </Text>
        <ApiPermissionsField
          labelId={`${idPrefix}-api-permissions`}
          value={form.values.apiPermissions}
          onChange={(p) => set('apiPermissions', p)}
          error={error('apiPermissions')}
        />
      </Stack>
    </>
  );
}
