import { Alert, Grid, Paper, SimpleGrid, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { IconLock } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { useApi } from '../../api/ApiProvider';
import type { TicketType } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { formatDateTime } from '../../components/format';
import { DiscardSaveButtons, SaveProblems } from '../../components/SaveControls';
import { Section } from '../../components/Section';
import { useVersionedForm } from '../../components/useVersionedForm';
import { CopyField } from '../applications/IssuerPanel';
import { focusFirstError } from '../shared/focusFirstError';
import { ticketTypePath } from './queries';
import {
  AllowUserCreationField,
  DescriptionField,
  EnabledField,
  NameField,
  RolesField,
  UrlFields,
  ValidityField,
  WelcomeFields,
} from './TicketTypeFields';
import {
  type TicketTypeFormValues,
  ticketTypeErrorOptions,
  ticketTypePatchBody,
  ticketTypeToForm,
  ticketTypeValidation,
} from './ticketTypeForm';

/**
 * A type's settings, saved with If-Match: a change made meanwhile answers "changed meanwhile"
 * (Reload shows it). Without `tickets:write` the same fields are shown read only.
 */
export function SettingsPanel({
  type,
  canWrite,
  onSaved,
  reload,
}: {
  type: TicketType;
  canWrite: boolean;
  onSaved: (type: TicketType) => void;
  reload: () => Promise<TicketType | undefined>;
}) {
  const api = useApi();
  const { slug } = useCurrentTenant();
  const form = useForm<TicketTypeFormValues>({
    initialValues: ticketTypeToForm(type),
    validate: ticketTypeValidation,
  });
  const editor = useVersionedForm(form, type, ticketTypeToForm, reload);
  const save = useMutation({
    mutationFn: (values: TicketTypeFormValues) =>
      api.patch<TicketType>(ticketTypePath(slug, type.id), ticketTypePatchBody(form.getInitialValues(), values), {
        ifMatch: editor.shownVersion.current,
      }),
    onSuccess: (saved) => {
      editor.saved(saved);
      onSaved(saved);
      notifications.show({ color: 'green', message: `Ticket type ${saved.name} saved` });
    },
    onError: (error) => {
      if (!editor.failed(error, ticketTypeErrorOptions)) focusFirstError();
    },
  });

  return (
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
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          {/* Read only: a fieldset disables every field in it at once. */}
          <fieldset disabled={!canWrite} style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
            <Stack gap="lg">
              {!canWrite && (
                <Alert color="gray" variant="light" icon={<IconLock aria-hidden />} title="Read only">
                  Changing ticket types needs the permission tickets:write.
                </Alert>
              )}
              <Section title="General">
                <NameField form={form} />
                <DescriptionField form={form} />
                <EnabledField form={form} />
              </Section>
              <Section
                title="What a ticket grants"
                description="Changing the roles changes what tickets already issued grant when they are used."
              >
                <RolesField form={form} />
                <AllowUserCreationField form={form} />
                <SimpleGrid cols={{ base: 1, sm: 2 }}>
                  <ValidityField form={form} />
                </SimpleGrid>
              </Section>
              <Section title="Where it leads">
                <UrlFields form={form} />
              </Section>
              <Section
                title="Welcome"
                description="What the ticket’s page shows before the holder signs in or registers."
              >
                <WelcomeFields form={form} />
              </Section>
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
                    <SaveProblems editor={editor} what="this ticket type" title="The ticket type was not saved" />
                    <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
                      <Text size="sm" c="dimmed">
                        {editor.dirty
                          ? 'Unsaved changes'
                          : `Version ${type.version} · updated ${formatDateTime(type.updatedAt)}`}
                      </Text>
                      <DiscardSaveButtons editor={editor} saving={save.isPending} justify="flex-end" />
                    </SimpleGrid>
                  </Stack>
                </Paper>
              )}
            </Stack>
          </fieldset>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Paper withBorder p="lg" radius="md" component="section" aria-label="About this ticket type">
            <Stack gap="sm">
              <CopyField label="Ticket type ID" value={type.id} />
              <Text size="sm" c="dimmed">
                Created {formatDateTime(type.createdAt)}
                {type.updatedAt !== type.createdAt ? ` · changed ${formatDateTime(type.updatedAt)}` : ''}
              </Text>
            </Stack>
          </Paper>
        </Grid.Col>
      </Grid>
    </form>
  );
}
