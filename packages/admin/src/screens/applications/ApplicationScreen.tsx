import {
  Alert,
  Box,
  Button,
  Code,
  Grid,
  Group,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconLock, IconRefresh } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { ApiError, tenantPath } from '../../api/client';
import type { Client, ClientWithSecret } from '../../api/types';
import { useConsoleConfig } from '../../app/config-context';
import { useCurrentTenant } from '../../app/tenant';
import { DeleteButton } from '../../components/ActionButtons';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DetailCrumbs, DetailFallback } from '../../components/DetailScreen';
import { DurationInput } from '../../components/DurationInput';
import { formatDateTime, formatDuration } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { DiscardSaveButtons, SaveProblems } from '../../components/SaveControls';
import { SecretModal } from '../../components/SecretReveal';
import { Section } from '../../components/Section';
import { StaleVersionNotice } from '../../components/StaleVersionNotice';
import { useVersionedForm } from '../../components/useVersionedForm';
import { focusFirstError } from '../shared/focusFirstError';
import {
  DefaultApiField,
  FirstPartyField,
  PostLogoutUrisField,
  RedirectUrisField,
  RolesField,
  ScopesField,
} from './ClientFields';
import {
  CLIENT_ERROR_OPTIONS,
  type ClientFormValues,
  clientToForm,
  kindInfo,
  patchBody,
  validateClientForm,
} from './clientKinds';
import { CopyField, tenantEndpoints } from './IssuerPanel';
import { KindBadge } from './KindBadge';
import { clientKey, clientsKey } from './queries';

/** What the built-in admin-console client does not let the console change. */
const LOCKED_FIELDS = ['name', 'firstParty', 'redirectUris', 'postLogoutRedirectUris', 'scopes', 'defaultApi'] as const;

/** A refresh token's lifetimes: 5 minutes to a year, empty for the tenant's default (same name there). */
const REFRESH_LIFETIMES = [
  { label: 'Refresh token idle lifetime', field: 'refreshTokenIdleSeconds' },
  { label: 'Refresh token absolute lifetime', field: 'refreshTokenAbsoluteSeconds' },
] as const;

/** One application: how to connect it, its settings, its secret, and deleting it. */
export default function ApplicationScreen() {
  const { clientId = '' } = useParams();
  const api = useApi();
  const { slug, path } = useCurrentTenant();
  const query = useQuery<Client, ApiError>({
    queryKey: clientKey(slug, clientId),
    queryFn: ({ signal }) => api.get<Client>(tenantPath(slug, `/clients/${encodeURIComponent(clientId)}`), { signal }),
  });

  const crumbs = <DetailCrumbs to={path('applications')} list="Applications" current={query.data?.name ?? clientId} />;
  if (query.error || !query.data) {
    return <DetailFallback crumbs={crumbs} query={query} unavailable="Application not available" />;
  }
  return <ApplicationView client={query.data} crumbs={crumbs} reload={async () => (await query.refetch()).data} />;
}

function ApplicationView({
  client,
  crumbs,
  reload,
}: {
  client: Client;
  crumbs: ReactNode;
  reload: () => Promise<Client | undefined>;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const config = useConsoleConfig();
  const { slug, path, tenant } = useCurrentTenant();
  const info = kindInfo(client.kind);
  const f = info.fields;
  const locked = client.builtin;
  /** A delete met a 412: shown at the top, where the admin is looking. */
  const [staleDelete, setStaleDelete] = useState(false);
  const [confirm, setConfirm] = useState<'rotate' | 'delete' | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  // Two long choices do not fit side by side on a phone.
  const phone = useMediaQuery('(max-width: 36em)');
  const form = useForm<ClientFormValues>({
    initialValues: clientToForm(client, config.adminApi),
    // The built-in client's locked fields are the server's to keep right (they follow PUBLIC_URL).
    validate: (values) => {
      const errors = validateClientForm(client.kind, values);
      if (client.builtin) for (const f of LOCKED_FIELDS) delete errors[f];
      return errors;
    },
  });

  // A newer version (saved here, or reloaded after a 412) replaces the form unless it is being edited.
  const editor = useVersionedForm(
    form,
    client,
    (c) => clientToForm(c, config.adminApi),
    async () => {
      const latest = await reload();
      setStaleDelete(false);
      return latest;
    },
  );

  const setClient = (updated: Client) => {
    queryClient.setQueryData(clientKey(slug, client.id), updated);
    if (updated.clientId !== client.id) queryClient.setQueryData(clientKey(slug, updated.clientId), updated);
    void queryClient.invalidateQueries({ queryKey: [...clientsKey(slug), 'list'] });
  };

  const save = useMutation({
    mutationFn: (values: ClientFormValues) =>
      api.patch<Client>(
        tenantPath(slug, `/clients/${client.id}`),
        patchBody(client.kind, form.getInitialValues(), values),
        {
          ifMatch: editor.shownVersion.current,
        },
      ),
    onSuccess: (updated) => {
      editor.saved(updated);
      setClient(updated);
      notifications.show({ color: 'green', message: 'Application saved' });
    },
    onError: (error) => {
      if (!editor.failed(error, CLIENT_ERROR_OPTIONS)) focusFirstError();
    },
  });

  const lifetimes = tenant?.settings.lifetimes;
  const tenantDefault = (seconds: number | undefined) =>
    seconds === undefined
      ? 'Empty: the tenant’s default.'
      : `Empty: the tenant’s default (${formatDuration(seconds)}).`;
  const endpoints = tenantEndpoints(config.publicUrl, slug);

  return (
    <>
      <PageHeader
        above={crumbs}
        title={client.name}
        description={
          <Group gap="xs" component="span">
            <KindBadge kind={client.kind} />
            <span>{info.label}</span>
            <span>·</span>
            <span>{client.confidential ? 'confidential (has a secret)' : 'public (PKCE, no secret)'}</span>
          </Group>
        }
        actions={
          <>
            {f.secret && (
              <Button
                variant="default"
                leftSection={<IconRefresh size={16} aria-hidden />}
                onClick={() => setConfirm('rotate')}
              >
                Rotate secret
              </Button>
            )}
            {!client.builtin && <DeleteButton onClick={() => setConfirm('delete')}>Delete</DeleteButton>}
          </>
        }
      />
      {staleDelete && (
        <Box mb="lg">
          <StaleVersionNotice
            what="this application"
            onReload={() => void editor.reload()}
            reloading={editor.reloading}
          />
        </Box>
      )}
      {client.builtin && (
        <Alert color="gray" variant="light" icon={<IconLock aria-hidden />} title="Built-in application" mb="lg">
          This console signs in with it. Its redirect URIs follow the server’s PUBLIC_URL and are set at start, so they
          and its scopes are locked here, and it cannot be deleted. Token lifetimes can be changed.
        </Alert>
      )}
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, lg: 8 }} order={{ base: 2, lg: 1 }}>
          <form
            onSubmit={form.onSubmit(
              (values) => save.mutate(values),
              () => {
                editor.setOther([]);
                focusFirstError();
              },
            )}
            noValidate
          >
            <Stack gap="lg">
              <Section title="General">
                <TextInput label="Name" required disabled={locked} {...form.getInputProps('name')} />
                {f.firstParty && <FirstPartyField form={form} disabled={locked} />}
              </Section>

              {f.redirectUris && (
                <Section
                  title="Sign-in and sign-out URLs"
                  description="https, or http on localhost/127.0.0.1 while developing; no fragments, no wildcards."
                >
                  <RedirectUrisField form={form} kind={client.kind} disabled={locked} />
                  <PostLogoutUrisField form={form} kind={client.kind} disabled={locked} />
                </Section>
              )}

              <Section title="Access" description="What it may ask for, and for which API its access tokens are.">
                {f.roles && <RolesField form={form} />}
                <ScopesField form={form} kind={client.kind} disabled={locked} />
                <DefaultApiField form={form} kind={client.kind} disabled={locked} />
              </Section>

              <Section title="Tokens">
                <SimpleGrid cols={{ base: 1, sm: 2 }}>
                  <DurationInput
                    label="Access token lifetime"
                    description={tenantDefault(lifetimes?.accessTokenSeconds)}
                    units={['seconds', 'minutes', 'hours']}
                    min={60}
                    max={86_400}
                    {...form.getInputProps('accessTokenTtlSeconds')}
                  />
                  {f.idToken ? (
                    <Select
                      label="ID token signing algorithm"
                      description="RS256 is what OpenID Connect libraries expect unless told otherwise; ES256 is smaller, for libraries set up for it"
                      data={[
                        { value: 'RS256', label: 'RS256 (RSA 2048, default)' },
                        { value: 'ES256', label: 'ES256 (ECDSA P-256)' },
                      ]}
                      allowDeselect={false}
                      {...form.getInputProps('idTokenSigningAlg')}
                    />
                  ) : (
                    <Box visibleFrom="sm" />
                  )}
                  {f.refreshTokens &&
                    REFRESH_LIFETIMES.map(({ label, field }) => (
                      <DurationInput
                        key={field}
                        label={label}
                        description={tenantDefault(lifetimes?.[field])}
                        units={['minutes', 'hours', 'days']}
                        min={300}
                        max={31_536_000}
                        {...form.getInputProps(field)}
                      />
                    ))}
                </SimpleGrid>
                {f.tokenEndpointAuthMethod && (
                  <Stack gap={4}>
                    <Text size="sm" fw={600} id="token-auth-method">
                      Client authentication at the token endpoint
                    </Text>
                    <SegmentedControl
                      aria-labelledby="token-auth-method"
                      orientation={phone ? 'vertical' : 'horizontal'}
                      fullWidth={phone}
                      data={[
                        { value: 'client_secret_basic', label: 'HTTP Basic (recommended)' },
                        { value: 'client_secret_post', label: 'In the form body' },
                      ]}
                      {...form.getInputProps('tokenEndpointAuthMethod')}
                    />
                  </Stack>
                )}
              </Section>

              {/* The save bar stays in view while there are edits; what a save answered shows in it. */}
              <Paper
                withBorder
                p="sm"
                radius="md"
                pos={editor.dirty || editor.stale || editor.other.length > 0 ? 'sticky' : 'static'}
                bottom={12}
                shadow={editor.dirty ? 'md' : undefined}
                style={{ zIndex: 5 }}
              >
                <Stack gap="sm">
                  <SaveProblems editor={editor} what="this application" title="The application was not saved" />
                  <Group justify="space-between" gap="sm">
                    <Text size="sm" c="dimmed">
                      {editor.dirty
                        ? 'Unsaved changes'
                        : `Version ${client.version} · updated ${formatDateTime(client.updatedAt)}`}
                    </Text>
                    <DiscardSaveButtons editor={editor} saving={save.isPending} />
                  </Group>
                </Stack>
              </Paper>
            </Stack>
          </form>
        </Grid.Col>

        <Grid.Col span={{ base: 12, lg: 4 }} order={{ base: 1, lg: 2 }}>
          <Paper withBorder p="lg" radius="md" component="section" aria-label="Connect your application">
            <Title order={2} size="h4" mb="sm">
              Connect your application
            </Title>
            <Stack gap="sm">
              <CopyField label="Client ID" value={client.clientId} />
              <CopyField label="Issuer" value={endpoints.issuer} />
              <CopyField label="Discovery URL" value={endpoints.discovery} />
              {client.kind === 'service' && <CopyField label="Token endpoint" value={endpoints.token} />}
              <Text size="sm" c="dimmed">
                {client.kind === 'service' ? (
                  <>
                    Get a token with <Code>grant_type=client_credentials</Code>, authenticating with the client ID and
                    secret
                    {client.tokenEndpointAuthMethod === 'client_secret_post' ? ' in the form body' : ' (HTTP Basic)'}.
                  </>
                ) : client.confidential ? (
                  <>Use the authorization code flow with the client ID and secret; keep the secret on the server.</>
                ) : (
                  <>
                    Use the authorization code flow with PKCE (<Code>S256</Code>) and no secret.
                  </>
                )}
              </Text>
              {f.secret && (
                <Text size="xs" c="dimmed">
                  The client secret was shown once, when it was created. Lost it? Rotate it to get a new one.
                </Text>
              )}
            </Stack>
          </Paper>
        </Grid.Col>
      </Grid>

      <ConfirmModal
        opened={confirm === 'rotate'}
        onClose={() => setConfirm(null)}
        title={`Rotate the secret of ${client.name}?`}
        confirmLabel="Rotate secret"
        onConfirm={async () => {
          const rotated = await api.post<ClientWithSecret>(tenantPath(slug, `/clients/${client.id}/secret`));
          const { clientSecret, ...rest } = rotated;
          // Rotating bumps the version: unsaved edits on screen are still based on the latest one.
          if (editor.shownVersion.current === client.version) editor.shownVersion.current = rest.version;
          setClient(rest);
          setSecret(clientSecret);
        }}
      >
        A new secret is made and shown once. The current secret stops working at once: the application cannot get new
        tokens until it is configured with the new one. Tokens already issued stay valid until they expire.
      </ConfirmModal>
      <ConfirmModal
        opened={confirm === 'delete'}
        onClose={() => setConfirm(null)}
        title={`Delete ${client.name}?`}
        confirmLabel="Delete application"
        typeToConfirm={client.name}
        onConfirm={async () => {
          try {
            await api.delete(tenantPath(slug, `/clients/${client.id}`), { ifMatch: client.version });
          } catch (error) {
            if (error instanceof ApiError && error.isVersionMismatch) {
              setStaleDelete(true);
              return;
            }
            throw error;
          }
          queryClient.removeQueries({ queryKey: clientKey(slug, client.id) });
          void queryClient.invalidateQueries({ queryKey: clientsKey(slug) });
          notifications.show({ color: 'green', message: `Application ${client.name} deleted` });
          void navigate(path('applications'));
        }}
      >
        Users can no longer sign in to it, and its grants, refresh tokens and sessions with it end. Access tokens
        already issued stay valid until they expire. This cannot be undone.
      </ConfirmModal>
      <SecretModal
        opened={secret !== null}
        onClose={() => setSecret(null)}
        title="New client secret"
        secret={secret}
        label="Client secret"
      >
        <CopyField label="Client ID" value={client.clientId} />
      </SecretModal>
    </>
  );
}
