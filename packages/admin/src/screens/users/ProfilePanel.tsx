import {
  Button,
  Checkbox,
  Code,
  Grid,
  Group,
  JsonInput,
  Paper,
  PasswordInput,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import type { User } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { applyApiErrors } from '../../components/fieldErrors';
import { formatDateTime, formatRelative } from '../../components/format';
import { DiscardSaveButtons, SaveProblems } from '../../components/SaveControls';
import { useVersionedForm } from '../../components/useVersionedForm';
import { formatAttributes, parseAttributes } from './attributes';
import { SignInMethodsPanel } from './SignInMethodsPanel';
import { EMAIL_CODES, PASSWORD_CODES, validateEmail } from './userForms';

interface ProfileValues {
  email: string;
  displayName: string;
  emailVerified: boolean;
  attributes: string;
}

const toValues = (u: User): ProfileValues => ({
  email: u.email,
  displayName: u.displayName ?? '',
  emailVerified: u.emailVerified,
  attributes: formatAttributes(u.attributes),
});

interface ProfileProps {
  user: User;
  onSaved: (user: User) => void;
  onReload: () => Promise<User | undefined>;
}

export function ProfilePanel({ user, onSaved, onReload }: ProfileProps) {
  return (
    <Grid gap="lg">
      <Grid.Col span={{ base: 12, md: 8 }}>
        <ProfileForm user={user} onSaved={onSaved} onReload={onReload} />
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 4 }}>
        <Stack gap="lg">
          <Facts user={user} />
          <SignInMethodsPanel user={user} />
          <PasswordForm user={user} onSaved={() => onSaved({ ...user, hasPassword: true })} />
        </Stack>
      </Grid.Col>
    </Grid>
  );
}

function ProfileForm({ user, onSaved, onReload }: ProfileProps) {
  const api = useApi();
  const { slug } = useCurrentTenant();
  const form = useForm<ProfileValues>({
    initialValues: toValues(user),
    validate: {
      email: validateEmail,
      displayName: (v) => (v.trim().length > 200 ? 'At most 200 characters' : null),
      attributes: (v) => {
        const r = parseAttributes(v);
        return r.ok ? null : r.error;
      },
    },
    validateInputOnBlur: true,
  });

  // The form shows one version of the user; a newer one replaces it after a save or a reload,
  // not while the admin edits (their save then meets a 412).
  const editor = useVersionedForm(form, user, toValues, onReload);

  const save = useMutation({
    mutationFn: (v: ProfileValues) => {
      const initial = form.getInitialValues();
      const body: Record<string, unknown> = {};
      if (v.email.trim() !== initial.email) body.email = v.email.trim();
      if (v.displayName.trim() !== initial.displayName) body.displayName = v.displayName.trim() || null;
      if (v.emailVerified !== initial.emailVerified) body.emailVerified = v.emailVerified;
      if (v.attributes !== initial.attributes) {
        const parsed = parseAttributes(v.attributes);
        if (parsed.ok) body.attributes = parsed.value;
      }
      return api.patch<User>(tenantPath(slug, `/users/${user.id}`), body, { ifMatch: editor.shownVersion.current });
    },
    onSuccess: (updated) => {
      editor.saved(updated);
      onSaved(updated);
      notifications.show({ color: 'green', message: 'Profile saved' });
    },
    onError: (error) => {
      editor.failed(error, { fields: ['email', 'displayName', 'emailVerified', 'attributes'], codes: EMAIL_CODES });
    },
  });

  return (
    <Paper withBorder p="lg" radius="md">
      <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate>
        <Stack gap="md">
          <Title order={2} size="h4">
            Profile
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Email" type="email" required {...form.getInputProps('email')} />
            <TextInput label="Name" {...form.getInputProps('displayName')} />
          </SimpleGrid>
          <Checkbox label="Email address verified" {...form.getInputProps('emailVerified', { type: 'checkbox' })} />
          <JsonInput
            label="Attributes"
            description="A JSON object for your applications' own data (at most 100 keys, 16 KiB)"
            autosize
            minRows={4}
            maxRows={16}
            formatOnBlur
            validationError="Not valid JSON"
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            {...form.getInputProps('attributes')}
          />
          <SaveProblems editor={editor} what="this user" title="The profile was not saved" />
          <DiscardSaveButtons editor={editor} saving={save.isPending} saveLabel="Save profile" justify="flex-end" />
        </Stack>
      </form>
    </Paper>
  );
}

function Facts({ user }: { user: User }) {
  const rows: [string, React.ReactNode][] = [
    // An id is one word: it never breaks; on a narrow panel it moves below its label instead.
    [
      'User ID',
      <Code key="id" style={{ whiteSpace: 'nowrap' }}>
        {user.id}
      </Code>,
    ],
    ['Created', formatDateTime(user.createdAt)],
    ['Updated', formatDateTime(user.updatedAt)],
    [
      'Last sign-in',
      user.lastLoginAt ? `${formatRelative(user.lastLoginAt)} (${formatDateTime(user.lastLoginAt)})` : 'Never',
    ],
    ['Version', String(user.version)],
  ];
  return (
    <Paper withBorder p="lg" radius="md">
      <Title order={2} size="h4" mb="sm">
        Details
      </Title>
      <Stack gap={6} component="dl" m={0}>
        {rows.map(([k, v]) => (
          <Group key={k} gap={0} style={{ columnGap: 8 }} justify="space-between" wrap="wrap" align="flex-start">
            <Text size="sm" c="dimmed" component="dt" style={{ whiteSpace: 'nowrap' }}>
              {k}
            </Text>
            <Text size="sm" component="dd" m={0} ml="auto" ta="right" style={{ overflowWrap: 'anywhere', minWidth: 0 }}>
              {v}
            </Text>
          </Group>
        ))}
      </Stack>
    </Paper>
  );
}

function PasswordForm({ user, onSaved }: { user: User; onSaved: () => void }) {
  const api = useApi();
  const { slug, tenant } = useCurrentTenant();
  const minLength = tenant?.settings.passwordMinLength ?? 8;
  const [other, setOther] = useState<string[]>([]);
  const form = useForm({
    initialValues: { password: '' },
    validate: {
      password: (v) => (v.normalize('NFKC').length < minLength ? `At least ${minLength} characters` : null),
    },
  });
  const set = useMutation({
    mutationFn: (password: string) => api.post<void>(tenantPath(slug, `/users/${user.id}/password`), { password }),
    onSuccess: () => {
      form.reset();
      setOther([]);
      onSaved();
      notifications.show({ color: 'green', message: `New password set for ${user.email}` });
    },
    onError: (error) => setOther(applyApiErrors(form, error, { fields: ['password'], codes: PASSWORD_CODES })),
  });
  return (
    <Paper withBorder p="lg" radius="md">
      <form onSubmit={form.onSubmit((v) => set.mutate(v.password))} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {user.hasPassword ? 'Change password' : 'Set a password'}
          </Title>
          <Text size="xs" c="dimmed">
            Setting a password signs the user out everywhere.
          </Text>
          <PasswordInput
            label="New password"
            description={`At least ${minLength} characters`}
            autoComplete="new-password"
            {...form.getInputProps('password')}
          />
          {other.length > 0 && <ApiErrorAlert error={null} extra={other} title="The password was not set" />}
          <Group justify="flex-end">
            <Button type="submit" variant="light" loading={set.isPending}>
              Set password
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
