import { Checkbox, Modal, PasswordInput, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { User } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateFormFooter } from '../../components/CreateFormFooter';
import { applyApiErrors } from '../../components/fieldErrors';
import { EMAIL_CODES, PASSWORD_CODES, validateEmail } from './userForms';

interface Values {
  email: string;
  displayName: string;
  emailVerified: boolean;
  withPassword: 'yes' | 'no';
  password: string;
}

/** Create a user, with a password or without one (they sign in another way, or get one later). */
export function CreateUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const { slug, tenant, path } = useCurrentTenant();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [other, setOther] = useState<string[]>([]);
  const minLength = tenant?.settings.passwordMinLength ?? 8;
  const form = useForm<Values>({
    initialValues: { email: '', displayName: '', emailVerified: false, withPassword: 'yes', password: '' },
    validate: {
      email: validateEmail,
      displayName: (v) => (v.trim().length > 200 ? 'At most 200 characters' : null),
      password: (v, all) =>
        all.withPassword === 'yes' && v.normalize('NFKC').length < minLength
          ? `At least ${minLength} characters`
          : null,
    },
  });
  const create = useMutation({
    mutationFn: (v: Values) =>
      api.post<User>(tenantPath(slug, '/users'), {
        email: v.email.trim(),
        displayName: v.displayName.trim() || null,
        emailVerified: v.emailVerified,
        ...(v.withPassword === 'yes' ? { password: v.password } : {}),
      }),
    onSuccess: (user) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.users(slug) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.stats(slug) });
      notifications.show({ color: 'green', message: `User ${user.email} created` });
      close();
      void navigate(path('users', user.id));
    },
    onError: (error) =>
      setOther(
        applyApiErrors(form, error, {
          fields: ['email', 'displayName', 'emailVerified', 'password'],
          codes: { ...EMAIL_CODES, ...PASSWORD_CODES },
        }),
      ),
  });
  const close = () => {
    form.reset();
    setOther([]);
    create.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Create a user" centered>
      <form onSubmit={form.onSubmit((v) => create.mutate(v))} noValidate>
        <Stack>
          <TextInput
            label="Email"
            type="email"
            required
            autoComplete="off"
            data-autofocus
            {...form.getInputProps('email')}
          />
          <TextInput label="Name" description="Optional" autoComplete="off" {...form.getInputProps('displayName')} />
          <Checkbox
            label="Email address already verified"
            {...form.getInputProps('emailVerified', { type: 'checkbox' })}
          />
          <Stack gap={6}>
            <Text size="sm" fw={500} id="create-user-password-choice">
              Password
            </Text>
            <SegmentedControl
              aria-labelledby="create-user-password-choice"
              data={[
                { value: 'yes', label: 'Set a password' },
                { value: 'no', label: 'No password' },
              ]}
              {...form.getInputProps('withPassword')}
            />
            {form.values.withPassword === 'yes' ? (
              <PasswordInput
                label="Initial password"
                description={`At least ${minLength} characters; common passwords are refused`}
                autoComplete="new-password"
                {...form.getInputProps('password')}
              />
            ) : (
              <Text size="xs" c="dimmed">
                The user cannot sign in with a password until one is set (on their page, or by a reset).
              </Text>
            )}
          </Stack>
          <CreateFormFooter what="user" other={other} onCancel={close} submitting={create.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}
