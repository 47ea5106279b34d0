import { Badge, Box, Grid, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { ApiError } from '../../api/client';
import { usePermission } from '../../api/queries';
import type { IdentityProvider } from '../../api/types';
import { useConsoleConfig } from '../../app/config-context';
import { useCurrentTenant } from '../../app/tenant';
import { DeleteButton } from '../../components/ActionButtons';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DetailCrumbs, DetailFallback } from '../../components/DetailScreen';
import { formatDateTime } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { DiscardSaveButtons, SaveProblems } from '../../components/SaveControls';
import { StaleVersionNotice } from '../../components/StaleVersionNotice';
import { useVersionedForm } from '../../components/useVersionedForm';
import { CopyField } from '../applications/IssuerPanel';
import { focusFirstError } from '../shared/focusFirstError';
import { CredentialBadge, IdpKindBadge } from './IdpBadges';
import { IdpFields } from './IdpFields';
import {
  federationRedirectUri,
  type IdpFormValues,
  idpErrorOptions,
  idpToForm,
  KIND_PRESETS,
  patchIdpBody,
  validateIdpForm,
} from './idpForm';
import { idpKey, idpPath, idpsKey } from './queries';

/** What to register at the provider: the redirect URI, or a SAML IdP's SP values; another tenant needs nothing. */
function RegisterPanel({ idp, redirectUri }: { idp: IdentityProvider; redirectUri: string }) {
  const help = KIND_PRESETS[idp.kind]?.help;
  if (idp.kind === 'latchkey') {
    return (
      <Paper withBorder p="lg" radius="md" component="section" aria-label="Another tenant">
        <Title order={2} size="h4" mb="sm">
          Another tenant
        </Title>
        <Stack gap="sm">
          {idp.tenant && <CopyField label="Tenant" value={idp.tenant} />}
          <Text size="sm" c="dimmed">
            {help}
          </Text>
        </Stack>
      </Paper>
    );
  }
  if (idp.kind === 'saml') {
    return (
      <Paper withBorder p="lg" radius="md" component="section" aria-label="Register Latchkey at the IdP">
        <Title order={2} size="h4" mb="sm">
          Register Latchkey at the IdP
        </Title>
        {idp.saml ? (
          <Stack gap="sm">
            <CopyField
              label="SP entity ID"
              value={idp.saml.spEntityId}
              description="Latchkey’s entity id as the service provider (the Audience of the assertions)."
            />
            <CopyField
              label="ACS URL"
              value={idp.saml.acsUrl}
              description="The Assertion Consumer Service URL (HTTP-POST) the IdP posts its response to."
            />
            <CopyField
              label="SP metadata URL"
              value={idp.saml.spMetadataUrl}
              description="Or let the IdP import all of it from Latchkey’s metadata."
            />
            <CopyField label="IdP entity ID" value={idp.saml.idpEntityId} description="Read from the IdP’s metadata." />
            <CopyField label="IdP sign-in URL" value={idp.saml.idpSsoUrl} />
          </Stack>
        ) : (
          <Text size="sm" c="dimmed">
            The server did not send the SAML values of this provider.
          </Text>
        )}
      </Paper>
    );
  }
  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-label="Register Latchkey at the provider">
      <Title order={2} size="h4" mb="sm">
        Register Latchkey at the provider
      </Title>
      <Stack gap="sm">
        <CopyField
          label="Redirect URI"
          value={redirectUri}
          description="The redirect (callback) URI of Latchkey’s client at the provider; it must match exactly."
        />
        {idp.kind !== 'github' && idp.kind !== 'facebook' && <CopyField label="Issuer" value={idp.issuer} />}
        {help && (
          <Text size="sm" c="dimmed">
            {help}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

/** One identity provider: the redirect URI to register upstream, its settings (saved with If-Match), deleting it. */
export default function IdentityProviderScreen() {
  const { idpId = '' } = useParams();
  const api = useApi();
  const { slug, path } = useCurrentTenant();
  const query = useQuery<IdentityProvider, ApiError>({
    queryKey: idpKey(slug, idpId),
    queryFn: ({ signal }) => api.get<IdentityProvider>(idpPath(slug, idpId), { signal }),
  });
  const crumbs = (
    <DetailCrumbs
      to={path('identity-providers')}
      list="Identity providers"
      current={query.data?.displayName ?? idpId}
    />
  );
  if (query.error || !query.data) {
    return <DetailFallback crumbs={crumbs} query={query} unavailable="Identity provider not available" />;
  }
  return <IdentityProviderView idp={query.data} crumbs={crumbs} reload={async () => (await query.refetch()).data} />;
}

function IdentityProviderView({
  idp,
  crumbs,
  reload,
}: {
  idp: IdentityProvider;
  crumbs: ReactNode;
  reload: () => Promise<IdentityProvider | undefined>;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const config = useConsoleConfig();
  const { slug, path } = useCurrentTenant();
  const canWrite = usePermission(slug, 'identity_providers:write');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [staleDelete, setStaleDelete] = useState(false);

  const form = useForm<IdpFormValues>({
    initialValues: idpToForm(idp),
    validate: (values) =>
      validateIdpForm(values, {
        creating: false,
        clientSecretSet: idp.clientSecretSet,
        privateKeySet: idp.privateKeySet,
        appleKeySet: idp.appleKeySet ?? false,
        samlFromXml: idp.saml !== undefined && idp.saml.idpMetadataUrl === null,
      }),
  });
  const editor = useVersionedForm(form, idp, idpToForm, async () => {
    const latest = await reload();
    setStaleDelete(false);
    return latest;
  });

  const save = useMutation({
    mutationFn: (values: IdpFormValues) =>
      api.patch<IdentityProvider>(idpPath(slug, idp.id), patchIdpBody(form.getInitialValues(), values), {
        ifMatch: editor.shownVersion.current,
      }),
    onSuccess: (updated) => {
      editor.saved(updated);
      queryClient.setQueryData(idpKey(slug, idp.id), updated);
      void queryClient.invalidateQueries({ queryKey: [...idpsKey(slug), 'list'] });
      notifications.show({ color: 'green', message: `Identity provider ${updated.displayName} saved` });
    },
    onError: (error) => {
      if (!editor.failed(error, idpErrorOptions(form.values.roleMappings.length, form.values.samlSource)))
        focusFirstError();
    },
  });

  const redirectUri = federationRedirectUri(config.publicUrl, slug, idp.slug);

  return (
    <>
      <PageHeader
        above={crumbs}
        title={idp.displayName}
        description={
          <Group gap="xs" component="span">
            <IdpKindBadge kind={idp.kind} />
            <Badge variant="light" color={idp.enabled ? 'green' : 'gray'}>
              {idp.enabled ? 'Enabled' : 'Disabled'}
            </Badge>
            <CredentialBadge idp={idp} />
            <Text span size="sm" ff="monospace">
              {idp.slug}
            </Text>
          </Group>
        }
        actions={canWrite ? <DeleteButton onClick={() => setConfirmDelete(true)}>Delete</DeleteButton> : undefined}
      />
      {staleDelete && (
        <Box mb="lg">
          <StaleVersionNotice
            what="this identity provider"
            onReload={() => void editor.reload()}
            reloading={editor.reloading}
          />
        </Box>
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
              <IdpFields
                form={form}
                creating={false}
                clientSecretSet={idp.clientSecretSet}
                privateKeySet={idp.privateKeySet}
                appleKeySet={idp.appleKeySet ?? false}
                disabled={!canWrite}
              />
              {canWrite && (
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
                    <SaveProblems
                      editor={editor}
                      what="this identity provider"
                      title="The identity provider was not saved"
                    />
                    <Group justify="space-between" gap="sm">
                      <Text size="sm" c="dimmed">
                        {editor.dirty
                          ? 'Unsaved changes'
                          : `Version ${idp.version} · updated ${formatDateTime(idp.updatedAt)}`}
                      </Text>
                      <DiscardSaveButtons editor={editor} saving={save.isPending} />
                    </Group>
                  </Stack>
                </Paper>
              )}
            </Stack>
          </form>
        </Grid.Col>

        <Grid.Col span={{ base: 12, lg: 4 }} order={{ base: 1, lg: 2 }}>
          <RegisterPanel idp={idp} redirectUri={redirectUri} />
        </Grid.Col>
      </Grid>

      <ConfirmModal
        opened={confirmDelete}
        onClose={() => setConfirmDelete(false)}
        title={`Delete ${idp.displayName}?`}
        confirmLabel="Delete identity provider"
        typeToConfirm={idp.slug}
        onConfirm={async () => {
          try {
            await api.delete(idpPath(slug, idp.id), { ifMatch: idp.version });
          } catch (error) {
            if (error instanceof ApiError && error.isVersionMismatch) {
              setStaleDelete(true);
              return;
            }
            throw error;
          }
          queryClient.removeQueries({ queryKey: idpKey(slug, idp.id) });
          void queryClient.invalidateQueries({ queryKey: idpsKey(slug) });
          notifications.show({ color: 'green', message: `Identity provider ${idp.displayName} deleted` });
          void navigate(path('identity-providers'));
        }}
      >
        Its button leaves the sign-in page, and every identity linked through it is unlinked: users who signed in only
        with it can no longer sign in until they get a password or another way in. This cannot be undone.
      </ConfirmModal>
    </>
  );
}
