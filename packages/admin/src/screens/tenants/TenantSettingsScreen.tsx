import {
  Anchor,
  Box,
  Code,
  ColorInput,
  Grid,
  Group,
  NumberInput,
  Paper,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Switch,
  TagsInput,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { localeNames, supportedLocales } from '../../../../server/src/i18n/locales';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import { queryKeys, useTenantQuery } from '../../api/queries';
import type { Tenant } from '../../api/types';
import { useConsoleConfig } from '../../app/config-context';
import { useCurrentTenant } from '../../app/tenant';
import { useAuthClient } from '../../auth/AuthProvider';
import { SYSTEM_TENANT } from '../../auth/scope';
import { DeleteButton } from '../../components/ActionButtons';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DurationInput } from '../../components/DurationInput';
import { PageHeader } from '../../components/PageHeader';
import { DiscardSaveButtons, SaveProblems } from '../../components/SaveControls';
import { Section } from '../../components/Section';
import { useVersionedForm } from '../../components/useVersionedForm';
import { BrandingPreview } from './BrandingPreview';
import { TENANT_FORM_FIELDS, type TenantForm, tenantFormRules, toForm, toPatch } from './settingsForm';

/** Every setting of a tenant, in sections, with one save; deleting it is at the bottom. */
export default function TenantSettingsScreen() {
  const { slug } = useCurrentTenant();
  const tenant = useTenantQuery(slug);
  if (tenant.error) return <ApiErrorAlert error={tenant.error} onRetry={() => void tenant.refetch()} />;
  if (!tenant.data) {
    return (
      <Stack>
        <Skeleton h={40} w={300} />
        <Skeleton h={200} />
        <Skeleton h={200} />
      </Stack>
    );
  }
  return <SettingsEditor tenant={tenant.data} reload={async () => (await tenant.refetch()).data} />;
}

/** The languages pages and emails ship in, each by its own name. */
const LOCALE_OPTIONS = supportedLocales.map((value) => ({ value, label: `${localeNames[value]} (${value})` }));

/** The four longer lifetimes: 5 minutes to a year each. */
const LONG_LIFETIMES = [
  { label: 'Refresh token, idle', field: 'refreshTokenIdleSeconds' },
  { label: 'Refresh token, absolute', field: 'refreshTokenAbsoluteSeconds' },
  { label: 'Sign-in session, idle', field: 'sessionIdleSeconds' },
  { label: 'Sign-in session, absolute', field: 'sessionAbsoluteSeconds' },
] as const;

function SettingsEditor({ tenant, reload }: { tenant: Tenant; reload: () => Promise<Tenant | undefined> }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const config = useConsoleConfig();
  const scope = useAuthClient().scope;
  const [deleting, setDeleting] = useState(false);
  const form = useForm<TenantForm>({
    initialValues: toForm(tenant),
    validate: tenantFormRules,
    validateInputOnBlur: true,
  });

  // The form shows one version of the tenant. A newer one (after a save or a reload) replaces it;
  // one that arrives in the background while the admin edits does not: their save meets a 412.
  const editor = useVersionedForm(form, tenant, toForm, reload);

  const save = useMutation({
    mutationFn: (values: TenantForm) =>
      api.patch<Tenant>(tenantPath(tenant.slug), toPatch(values), { ifMatch: editor.shownVersion.current }),
    onSuccess: (updated) => {
      editor.saved(updated);
      queryClient.setQueryData(queryKeys.tenant(updated.slug), updated);
      void queryClient.invalidateQueries({ queryKey: ['tenants'] });
      notifications.show({ color: 'green', message: 'Settings saved' });
    },
    onError: (error) => {
      editor.failed(error, { fields: TENANT_FORM_FIELDS });
    },
  });

  const canDelete = scope.kind === 'system' && tenant.slug !== SYSTEM_TENANT;
  const issuer = `${config.publicUrl}/t/${tenant.slug}`;
  const v = form.values;

  return (
    <>
      <PageHeader
        title={`${tenant.displayName}: settings`}
        description={
          <>
            Tenant <Code>{tenant.slug}</Code> · version {tenant.version}
          </>
        }
      />
      <form
        onSubmit={form.onSubmit(
          (values) => save.mutate(values),
          () => editor.setOther([]),
        )}
        noValidate
      >
        <Stack gap="lg" pb="md">
          <Section title="General">
            <TextInput
              label="Display name"
              description="Shown on the sign-in page"
              required
              {...form.getInputProps('displayName')}
            />
            <Select
              label="Default language"
              description="Of the sign-in pages and emails, when neither the application (ui_locales) nor the browser asks for a language Latchkey ships"
              data={LOCALE_OPTIONS}
              allowDeselect={false}
              maw={320}
              {...form.getInputProps('settings.defaultLocale')}
            />
            <Box>
              <Text size="sm" fw={500}>
                Issuer
              </Text>
              <Text size="sm" c="dimmed">
                Point OpenID Connect libraries at <Code>{issuer}</Code> (discovery:{' '}
                <Anchor href={`${issuer}/.well-known/openid-configuration`} target="_blank" rel="noreferrer" size="sm">
                  openid-configuration
                </Anchor>
                ).
              </Text>
            </Box>
          </Section>

          <Section title="Sign-in and passwords">
            <Switch
              label="Password sign-in"
              description={
                tenant.slug === SYSTEM_TENANT
                  ? 'The system tenant keeps it: its administrators sign in to this console with a password'
                  : 'Off: people sign in only through the identity providers (no password form, registration or password reset)'
              }
              disabled={tenant.slug === SYSTEM_TENANT}
              {...form.getInputProps('settings.passwordSignIn', { type: 'checkbox' })}
            />
            <Switch
              label="Self-registration"
              description="People can create their own account on the sign-in page"
              {...form.getInputProps('settings.selfRegistration', { type: 'checkbox' })}
            />
            <Switch
              label="Require a verified email"
              description="A user whose email is not verified is asked to confirm it before signing in"
              {...form.getInputProps('settings.requireVerifiedEmail', { type: 'checkbox' })}
            />
            <Switch
              label="Users may delete their account"
              description="On their account page, after entering their password"
              {...form.getInputProps('settings.selfDeletion', { type: 'checkbox' })}
            />
            <NumberInput
              label="Minimum password length"
              description="8 to 256 characters; common passwords are always refused"
              min={8}
              max={256}
              allowDecimal={false}
              maw={320}
              {...form.getInputProps('settings.passwordMinLength')}
            />
          </Section>

          <Section
            title="Lockout"
            description="After this many failed sign-ins an account is locked for a while; a client IP gets ten times as many."
          >
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <NumberInput
                label="Failed sign-ins before lockout"
                min={1}
                max={1000}
                allowDecimal={false}
                {...form.getInputProps('settings.lockout.maxFailures')}
              />
              <DurationInput
                label="Lockout duration"
                units={['hours', 'minutes', 'seconds']}
                min={1}
                max={86_400}
                {...form.getInputProps('settings.lockout.durationSeconds')}
              />
            </SimpleGrid>
          </Section>

          <Section
            title="Token and session lifetimes"
            description="An idle lifetime ends after that long without use; an absolute one ends regardless."
          >
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <DurationInput
                label="Access token"
                description="Also the ID token's lifetime"
                min={60}
                max={86_400}
                {...form.getInputProps('settings.lifetimes.accessTokenSeconds')}
              />
              <Box visibleFrom="sm" />
              {LONG_LIFETIMES.map(({ label, field }) => (
                <DurationInput
                  key={field}
                  label={label}
                  min={300}
                  max={365 * 86_400}
                  {...form.getInputProps(`settings.lifetimes.${field}`)}
                />
              ))}
            </SimpleGrid>
          </Section>

          <Section
            title="Allowed origins"
            description="Web origins whose browser code may call this tenant's token and userinfo endpoints (CORS)."
          >
            <TagsInput
              label="Origins"
              description="Like https://app.example.com: scheme, host and optional port; press Enter after each"
              placeholder={v.settings.allowedOrigins.length ? '' : 'https://app.example.com'}
              clearable
              splitChars={[',', ' ']}
              {...form.getInputProps('settings.allowedOrigins')}
            />
          </Section>

          <Section title="Signing keys">
            <Switch
              label="Rotate signing keys automatically"
              description="Off: keys rotate only when you ask (Signing keys screen)"
              {...form.getInputProps('autoRotateKeys', { type: 'checkbox' })}
            />
            {v.autoRotateKeys && (
              <NumberInput
                label="Rotate every"
                rightSection={
                  <Text size="sm" c="dimmed" pr="sm">
                    days
                  </Text>
                }
                rightSectionWidth={56}
                min={1}
                max={3650}
                allowDecimal={false}
                maw={240}
                {...form.getInputProps('settings.keyRotationDays')}
              />
            )}
          </Section>

          <Section title="Branding" description="How the sign-in page looks. The preview updates as you type.">
            <Grid gap="lg">
              <Grid.Col span={{ base: 12, md: 5 }}>
                <Stack gap="md">
                  <TextInput
                    label="Logo URL"
                    description="An https image, shown above the form"
                    placeholder="https://example.com/logo.svg"
                    {...form.getInputProps('settings.branding.logoUrl')}
                  />
                  <ColorInput
                    label="Primary colour"
                    description="Buttons and links"
                    format="hex"
                    eyeDropperButtonProps={{ 'aria-label': 'Pick the colour from the screen' }}
                    swatches={['#1f6feb', '#0f766e', '#7c3aed', '#be123c', '#c2410c', '#111827']}
                    {...form.getInputProps('settings.branding.primaryColor')}
                  />
                  <Textarea
                    label="Message on the sign-in page"
                    description="Plain text, up to 1000 characters"
                    autosize
                    minRows={3}
                    maxRows={8}
                    {...form.getInputProps('settings.branding.loginMessage')}
                  />
                </Stack>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 7 }}>
                <BrandingPreview
                  slug={tenant.slug}
                  draft={{
                    displayName: v.displayName,
                    logoUrl: v.settings.branding.logoUrl,
                    primaryColor: v.settings.branding.primaryColor,
                    loginMessage: v.settings.branding.loginMessage,
                    locale: v.settings.defaultLocale,
                  }}
                />
              </Grid.Col>
            </Grid>
          </Section>

          {canDelete && (
            <Paper
              withBorder
              p="lg"
              radius="md"
              component="section"
              aria-label="Danger zone"
              style={{ borderColor: 'var(--mantine-color-red-4)' }}
            >
              <Group justify="space-between" gap="md">
                <Box style={{ flex: '1 1 18rem' }}>
                  <Title order={2} size="h4" c="red.8">
                    Delete this tenant
                  </Title>
                  <Text size="sm" c="dimmed">
                    Deletes its users, roles, applications, keys and audit log. This cannot be undone.
                  </Text>
                </Box>
                <DeleteButton onClick={() => setDeleting(true)}>Delete tenant</DeleteButton>
              </Group>
            </Paper>
          )}
        </Stack>

        {(editor.dirty || editor.stale || editor.other.length > 0 || save.isPending) && (
          <Paper withBorder shadow="md" p="sm" radius="md" pos="sticky" bottom={12} style={{ zIndex: 5 }}>
            <Stack gap="xs">
              <SaveProblems editor={editor} what="this tenant" title="The settings were not saved" />
              <Group justify="space-between" gap="sm">
                <Text size="sm" c={editor.dirty ? 'orange.8' : 'dimmed'} aria-live="polite">
                  {editor.dirty ? 'You have unsaved changes' : 'Nothing to save'}
                </Text>
                <DiscardSaveButtons editor={editor} saving={save.isPending} />
              </Group>
            </Stack>
          </Paper>
        )}
      </form>

      <ConfirmModal
        opened={deleting}
        onClose={() => setDeleting(false)}
        title={`Delete tenant ${tenant.slug}?`}
        confirmLabel="Delete tenant"
        typeToConfirm={tenant.slug}
        onReload={() => void editor.reload()}
        onConfirm={async () => {
          await api.delete(tenantPath(tenant.slug), { ifMatch: tenant.version });
          notifications.show({ color: 'green', message: `Tenant ${tenant.slug} deleted` });
          await navigate('/tenants');
          queryClient.removeQueries({ queryKey: ['tenant', tenant.slug] });
          void queryClient.invalidateQueries({ queryKey: ['tenants'] });
        }}
      >
        <Text size="sm">
          Everything in <strong>{tenant.displayName}</strong> goes: its users and their sessions, roles, applications,
          API keys, signing keys and audit log. Applications signing in through it stop working.
        </Text>
      </ConfirmModal>
    </>
  );
}
