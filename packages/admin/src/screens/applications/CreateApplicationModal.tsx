import { Alert, Button, Group, List, Modal, Radio, SimpleGrid, Stack, Text, TextInput, ThemeIcon } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { type Icon, IconBrowser, IconDeviceMobile, IconInfoCircle, IconServer, IconWorld } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import type { Client, ClientKind, ClientWithSecret } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateFormFooter } from '../../components/CreateFormFooter';
import { applyApiErrors } from '../../components/fieldErrors';
import { SecretReveal } from '../../components/SecretReveal';
import { focusFirstError } from '../shared/focusFirstError';
import { FirstPartyField, PostLogoutUrisField, RedirectUrisField, RolesField, ScopesField } from './ClientFields';
import {
  CLIENT_ERROR_OPTIONS,
  type ClientFormValues,
  createBody,
  createDefaults,
  KIND_ORDER,
  kindInfo,
  validateClientForm,
} from './clientKinds';
import { CopyField } from './IssuerPanel';
import { clientsKey } from './queries';

const KIND_ICONS: Record<ClientKind, Icon> = {
  web: IconWorld,
  spa: IconBrowser,
  native: IconDeviceMobile,
  service: IconServer,
};

type Step = { name: 'kind' } | { name: 'form'; kind: ClientKind } | { name: 'created'; client: ClientWithSecret };

/**
 * Create an application in three steps: pick its kind (with what each means), fill in what that
 * kind needs (with its defaults), then, for confidential kinds, copy the secret shown this once.
 */
export function CreateApplicationModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { slug, path } = useCurrentTenant();
  const phone = useMediaQuery('(max-width: 36em)');
  const [step, setStep] = useState<Step>({ name: 'kind' });
  const [kind, setKind] = useState<ClientKind>('web');
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<ClientFormValues>({
    initialValues: createDefaults('web'),
    validate: (values) => validateClientForm(step.name === 'form' ? step.kind : kind, values),
  });

  const create = useMutation({
    mutationFn: ({ k, values }: { k: ClientKind; values: ClientFormValues }) =>
      api.post<Client | ClientWithSecret>(tenantPath(slug, '/clients'), createBody(k, values)),
    onSuccess: (client) => {
      void queryClient.invalidateQueries({ queryKey: clientsKey(slug) });
      notifications.show({ color: 'green', message: `Application ${client.name} created` });
      if ('clientSecret' in client && client.clientSecret) {
        setStep({ name: 'created', client });
      } else {
        close();
        void navigate(path('applications', client.id));
      }
    },
    onError: (error) => {
      setOther(applyApiErrors(form, error, CLIENT_ERROR_OPTIONS));
      focusFirstError();
    },
  });

  const close = () => {
    setStep({ name: 'kind' });
    setKind('web');
    form.setValues(createDefaults('web'));
    form.resetDirty();
    form.clearErrors();
    setOther([]);
    create.reset();
    onClose();
  };

  const chooseKind = () => {
    // Keep what was typed (name, URIs) but take the new kind's defaults for the rest.
    const typed = form.values;
    const defaults = createDefaults(kind);
    form.setValues({
      ...defaults,
      name: typed.name,
      redirectUris: typed.redirectUris,
      postLogoutRedirectUris: typed.postLogoutRedirectUris,
    });
    form.clearErrors();
    setOther([]);
    setStep({ name: 'form', kind });
  };

  const title =
    step.name === 'kind'
      ? 'Create an application'
      : step.name === 'form'
        ? `New ${kindInfo(step.kind).label.toLowerCase()}`
        : 'Application created';

  return (
    <Modal
      opened={opened}
      onClose={step.name === 'created' ? () => {} : close}
      withCloseButton={step.name !== 'created'}
      closeOnClickOutside={step.name !== 'created'}
      closeOnEscape={step.name !== 'created'}
      title={title}
      centered
      size="xl"
      fullScreen={phone}
    >
      {step.name === 'kind' && (
        <Stack>
          <Radio.Group
            value={kind}
            onChange={(v) => setKind(v as ClientKind)}
            label="What kind of application is it?"
            description="The kind decides how it signs in and whether it gets a secret; it cannot be changed later."
          >
            <SimpleGrid cols={{ base: 1, sm: 2 }} mt="sm" spacing="sm">
              {KIND_ORDER.map((k) => {
                const info = kindInfo(k);
                const KindIcon = KIND_ICONS[k];
                return (
                  <Radio.Card
                    key={k}
                    value={k}
                    radius="md"
                    p="md"
                    aria-label={info.label}
                    data-autofocus={k === kind || undefined}
                  >
                    <Group wrap="nowrap" align="flex-start" gap="sm">
                      <Radio.Indicator mt={2} />
                      <ThemeIcon variant="light" size="lg" radius="md" aria-hidden>
                        <KindIcon size={20} />
                      </ThemeIcon>
                      <div>
                        <Text fw={600} size="sm">
                          {info.label}
                        </Text>
                        <Text size="sm">{info.summary}</Text>
                        <Text size="xs" c="dimmed" mt={4}>
                          {info.examples}
                        </Text>
                      </div>
                    </Group>
                  </Radio.Card>
                );
              })}
            </SimpleGrid>
          </Radio.Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button onClick={chooseKind}>Continue</Button>
          </Group>
        </Stack>
      )}

      {step.name === 'form' && (
        <form
          onSubmit={form.onSubmit(
            (values) => create.mutate({ k: step.kind, values }),
            () => focusFirstError(),
          )}
          noValidate
        >
          <Stack>
            <Alert variant="light" color="blue" icon={<IconInfoCircle aria-hidden />} title={kindInfo(step.kind).label}>
              <List size="sm" spacing={2}>
                {kindInfo(step.kind).guidance.map((g) => (
                  <List.Item key={g}>{g}</List.Item>
                ))}
              </List>
            </Alert>
            <TextInput
              label="Name"
              description={
                step.kind === 'service'
                  ? 'Shown in this console and the audit log'
                  : 'Shown to users on the consent screen and in this console'
              }
              required
              autoComplete="off"
              data-autofocus
              {...form.getInputProps('name')}
            />
            {kindInfo(step.kind).fields.redirectUris && <RedirectUrisField form={form} kind={step.kind} />}
            {kindInfo(step.kind).fields.postLogoutRedirectUris && <PostLogoutUrisField form={form} kind={step.kind} />}
            {kindInfo(step.kind).fields.roles && <RolesField form={form} />}
            <ScopesField form={form} kind={step.kind} />
            {kindInfo(step.kind).fields.firstParty && <FirstPartyField form={form} />}
            <Text size="xs" c="dimmed">
              Token lifetimes, the ID token algorithm and the rest can be changed on the application’s page.
            </Text>
            <CreateFormFooter
              what="application"
              other={other}
              onCancel={close}
              submitting={create.isPending}
              start={
                <Button variant="subtle" onClick={() => setStep({ name: 'kind' })}>
                  Back
                </Button>
              }
            />
          </Stack>
        </form>
      )}

      {step.name === 'created' && (
        <Stack>
          <Text size="sm">
            <strong>{step.client.name}</strong> is ready. Configure your application with its client ID and secret.
          </Text>
          <CopyField label="Client ID" value={step.client.clientId} />
          <SecretReveal secret={step.client.clientSecret} label="Client secret" />
          <Group justify="flex-end">
            <Button
              onClick={() => {
                const id = step.client.id;
                close();
                void navigate(path('applications', id));
              }}
            >
              I have copied it: open the application
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
