import { Button, Code, Group, Modal, MultiSelect, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import { useRolesQuery } from '../../api/queries';
import type { CreatedApiKey } from '../../api/types';
import { useConsoleConfig } from '../../app/config-context';
import { useCurrentTenant } from '../../app/tenant';
import { CreateFormFooter } from '../../components/CreateFormFooter';
import { apiFieldErrors } from '../../components/fieldErrors';
import { formatDateTime } from '../../components/format';
import { SecretReveal } from '../../components/SecretReveal';
import { summarizePermissions } from '../roles/permissions';
import { focusFirstError } from '../shared/focusFirstError';
import { EXPIRY_CHOICES, type ExpiryChoice, expiresAtFor, localDate } from './expiry';
import { apiKeysKey } from './queries';

interface Values {
  name: string;
  roles: string[];
  expiry: ExpiryChoice;
  date: string;
}

const initialValues: Values = { name: '', roles: [], expiry: '90d', date: '' };

/** Create an API key (name, roles, expiry); its secret is shown once, right here. */
export function CreateApiKeyModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const config = useConsoleConfig();
  const { slug } = useCurrentTenant();
  const roles = useRolesQuery(slug);
  const phone = useMediaQuery('(max-width: 36em)');
  const [other, setOther] = useState<string[]>([]);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const form = useForm<Values>({
    initialValues,
    validate: {
      name: (v) =>
        !v.trim() ? 'Name the key after what uses it' : v.trim().length > 200 ? 'At most 200 characters' : null,
      roles: (v) => (v.length === 0 ? 'Pick at least one role' : v.length > 50 ? 'At most 50 roles' : null),
      date: (v, all) => {
        if (all.expiry !== 'custom') return null;
        const r = expiresAtFor('custom', v);
        return r.ok ? null : r.error;
      },
    },
  });

  const create = useMutation({
    mutationFn: (v: Values) => {
      const expiry = expiresAtFor(v.expiry, v.date);
      return api.post<CreatedApiKey>(tenantPath(slug, '/api-keys'), {
        name: v.name.trim(),
        roles: v.roles,
        ...(expiry.ok && expiry.expiresAt ? { expiresAt: expiry.expiresAt } : {}),
      });
    },
    onSuccess: (key) => {
      void queryClient.invalidateQueries({ queryKey: apiKeysKey(slug) });
      notifications.show({ color: 'green', message: `API key ${key.name} created` });
      setCreated(key);
    },
    onError: (error) => {
      const { fields, other } = apiFieldErrors(error, {
        fields: ['name', 'roles', 'expiresAt'],
        codes: { unknown_role: 'roles', invalid_expiry: 'expiresAt' },
      });
      // The body's `expiresAt` is the form's expiry: a chosen day, or a preset.
      const { expiresAt, ...rest } = fields;
      if (expiresAt && form.values.expiry === 'custom') form.setErrors({ ...rest, date: expiresAt });
      else {
        form.setErrors(rest);
        if (expiresAt) other.push(expiresAt);
      }
      setOther(other);
      focusFirstError();
    },
  });

  const close = () => {
    form.reset();
    setOther([]);
    setCreated(null);
    create.reset();
    onClose();
  };

  const roleOptions = (roles.data ?? []).map((r) => ({ value: r.name, label: r.name }));
  const byName = new Map((roles.data ?? []).map((r) => [r.name, r]));
  const chosen = form.values.roles.flatMap((n) => byName.get(n)?.permissions ?? []);
  const tomorrow = localDate(new Date(Date.now() + 86_400_000));

  return (
    <Modal
      opened={opened}
      onClose={created ? () => {} : close}
      withCloseButton={!created}
      closeOnClickOutside={!created}
      closeOnEscape={!created}
      title={created ? 'API key created' : 'Create an API key'}
      centered
      size="lg"
      fullScreen={phone}
    >
      {created ? (
        <Stack>
          <Text size="sm">
            <strong>{created.name}</strong> holds {created.roles.join(', ')}
            {created.expiresAt ? ` and expires ${formatDateTime(created.expiresAt)}` : ' and does not expire'}.
          </Text>
          {/* SecretReveal lower-cases its label: "API key" would read "api key". */}
          <SecretReveal secret={created.secret} label="Key" />
          <Text size="sm" c="dimmed">
            Send it as <Code>Authorization: Bearer {created.prefix}…</Code> to the admin API at{' '}
            <Code>{config.adminApi}/v1</Code>.
          </Text>
          <Group justify="flex-end">
            <Button onClick={close}>I have copied it</Button>
          </Group>
        </Stack>
      ) : (
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
              description="What uses it, like “CI deploy” or “billing sync”"
              required
              autoComplete="off"
              data-autofocus
              {...form.getInputProps('name')}
            />
            <MultiSelect
              label="Roles"
              description={
                form.values.roles.length
                  ? `Allows: ${summarizePermissions(chosen)}`
                  : 'What the key may do. You can only hand out roles whose permissions you hold.'
              }
              placeholder={roles.isPending ? 'Loading roles…' : 'Pick roles'}
              data={roleOptions}
              searchable
              required
              nothingFoundMessage="No such role"
              {...form.getInputProps('roles')}
            />
            <Stack gap={4}>
              <Text size="sm" fw={600} id="api-key-expiry">
                Expires
              </Text>
              <SegmentedControl
                aria-labelledby="api-key-expiry"
                data={EXPIRY_CHOICES.map((c) => ({ value: c.value, label: c.label }))}
                fullWidth={phone}
                orientation={phone ? 'vertical' : 'horizontal'}
                {...form.getInputProps('expiry')}
              />
              {form.values.expiry === 'custom' && (
                <TextInput
                  type="date"
                  label="Expiry day"
                  description="The key works until the end of that day"
                  min={tomorrow}
                  w={{ base: '100%', xs: 220 }}
                  {...form.getInputProps('date')}
                />
              )}
              {form.values.expiry === 'never' && (
                <Text size="xs" c="dimmed">
                  A key that never expires works until it is revoked: prefer an expiry where you can.
                </Text>
              )}
            </Stack>
            <CreateFormFooter what="key" other={other} onCancel={close} submitting={create.isPending} />
          </Stack>
        </form>
      )}
    </Modal>
  );
}
