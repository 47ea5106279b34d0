import {
  Anchor,
  Box,
  Button,
  Code,
  ColorInput,
  Grid,
  Group,
  NumberInput,
  Paper,
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
import { IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { ApiError, tenantPath } from '../../api/client';
import { queryKeys, useTenantQuery } from '../../api/queries';
import type { Tenant } from '../../api/types';
import { useConsoleConfig } from '../../app/config-context';
import { useCurrentTenant } from '../../app/tenant';
import { useAuthClient } from '../../auth/AuthProvider';
import { SYSTEM_TENANT } from '../../auth/scope';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DurationInput } from '../../components/DurationInput';
import { applyApiErrors } from '../../components/fieldErrors';
import { PageHeader } from '../../components/PageHeader';
import { StaleVersionNotice } from '../../components/StaleVersionNotice';
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

function Section({ title, description, children }: { title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-label={title}>
      <Title order={2} size="h4">
        {title}
      </Title>
      {description && (
        <Text size="sm" c="dimmed" mt={2}>
          {description}
        </Text>
      )}
      <Stack gap="md" mt="md">
        {children}
      </Stack>
    </Paper>
  );
}

function SettingsEditor({ tenant, reload }: { tenant: Tenant; reload: () => Promise<Tenant | undefined> }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const config = useConsoleConfig();
  const scope = useAuthClient().scope;
  const [other, setOther] = useState<string[]>([]);
  const [stale, setStale] = useState(false);
  const [reloading, setReloading] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const form = useForm<TenantForm>({
    initialValues: toForm(tenant),
    validate: tenantFormRules,
    validateInputOnBlur: true,
  });

  // The form shows one version of the tenant. A newer one (after a save or a reload) replaces it;
  // one that arrives in the background while the admin edits does not: their save meets a 412.
  const shownVersion = useRef(tenant.version);
  const adopt = (t: Tenant) => {
    shownVersion.current = t.version;
    const values = toForm(t);
    form.setInitialValues(values);
    form.setValues(values);
    form.resetDirty(values);
    form.clearErrors();
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a new tenant version matters
  useEffect(() => {
    if (tenant.version !== shownVersion.current && !form.isDirty()) adopt(tenant);
  }, [tenant]);

  const save = useMutation({
    mutationFn: (values: TenantForm) =>
      api.patch<Tenant>(tenantPath(tenant.slug), toPatch(values), { ifMatch: shownVersion.current }),
    onSuccess: (updated) => {
      setOther([]);
      setStale(false);
      adopt(updated);
      queryClient.setQueryData(queryKeys.tenant(updated.slug), updated);
      void queryClient.invalidateQueries({ queryKey: ['tenants'] });
      notifications.show({ color: 'green', message: 'Settings saved' });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.isVersionMismatch) {
        setStale(true);
        setOther([]);
        return;
      }
      setOther(applyApiErrors(form, error, { fields: TENANT_FORM_FIELDS }));
    },
  });

  const doReload = async () => {
    setReloading(true);
    try {
      const latest = await reload();
      if (latest) adopt(latest);
      setStale(false);
    } finally {
      setReloading(false);
    }
  };

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
          () => setOther([]),
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
              label="Self-registration"
              description="People can create their own account on the sign-in page"
              {...form.getInputProps('settings.selfRegistration', { type: 'checkbox' })}
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
              <DurationInput
                label="Refresh token, idle"
                min={300}
                max={365 * 86_400}
                {...form.getInputProps('settings.lifetimes.refreshTokenIdleSeconds')}
              />
              <DurationInput
                label="Refresh token, absolute"
                min={300}
                max={365 * 86_400}
                {...form.getInputProps('settings.lifetimes.refreshTokenAbsoluteSeconds')}
              />
              <DurationInput
                label="Sign-in session, idle"
                min={300}
                max={365 * 86_400}
                {...form.getInputProps('settings.lifetimes.sessionIdleSeconds')}
              />
              <DurationInput
                label="Sign-in session, absolute"
                min={300}
                max={365 * 86_400}
                {...form.getInputProps('settings.lifetimes.sessionAbsoluteSeconds')}
              />
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
                <Button
                  color="red"
                  variant="outline"
                  leftSection={<IconTrash size={16} aria-hidden />}
                  onClick={() => setDeleting(true)}
                >
                  Delete tenant
                </Button>
              </Group>
            </Paper>
          )}
        </Stack>

        {(form.isDirty() || stale || other.length > 0 || save.isPending) && (
          <Paper withBorder shadow="md" p="sm" radius="md" pos="sticky" bottom={12} style={{ zIndex: 5 }}>
            <Stack gap="xs">
              {stale && (
                <StaleVersionNotice what="this tenant" onReload={() => void doReload()} reloading={reloading} />
              )}
              {other.length > 0 && <ApiErrorAlert error={null} extra={other} title="The settings were not saved" />}
              <Group justify="space-between" gap="sm">
                <Text size="sm" c={form.isDirty() ? 'orange.8' : 'dimmed'} aria-live="polite">
                  {form.isDirty() ? 'You have unsaved changes' : 'Nothing to save'}
                </Text>
                <Group gap="sm">
                  <Button
                    variant="default"
                    disabled={!form.isDirty() || save.isPending}
                    onClick={() => {
                      form.reset();
                      setOther([]);
                    }}
                  >
                    Discard
                  </Button>
                  <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
                    Save changes
                  </Button>
                </Group>
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
        onReload={() => void doReload()}
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
