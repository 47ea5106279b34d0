import { Modal, SimpleGrid, Stack, Text } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { tenantPath } from '../../api/client';
import type { TicketType } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateFormFooter } from '../../components/CreateFormFooter';
import { applyApiErrors } from '../../components/fieldErrors';
import { focusFirstError } from '../shared/focusFirstError';
import { ticketTypesKey } from './queries';
import {
  AllowUserCreationField,
  DescriptionField,
  EnabledField,
  NameField,
  RolesField,
  ValidityField,
} from './TicketTypeFields';
import {
  createTicketTypeBody,
  emptyTicketTypeForm,
  type TicketTypeFormValues,
  ticketTypeErrorOptions,
  ticketTypeValidation,
} from './ticketTypeForm';

/**
 * Create a ticket type: its name, the roles its tickets grant, how long they work and whether they
 * may register an account. Where it leads and its welcome are set on the type's page, which opens
 * next, on its "Issue tickets" tab.
 */
export function CreateTicketTypeModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { slug, path } = useCurrentTenant();
  const phone = useMediaQuery('(max-width: 36em)');
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<TicketTypeFormValues>({
    initialValues: emptyTicketTypeForm(),
    validate: ticketTypeValidation,
  });
  const create = useMutation({
    mutationFn: (values: TicketTypeFormValues) =>
      api.post<TicketType>(tenantPath(slug, '/ticket-types'), createTicketTypeBody(values)),
    onSuccess: (type) => {
      void queryClient.invalidateQueries({ queryKey: ticketTypesKey(slug) });
      notifications.show({ color: 'green', message: `Ticket type ${type.name} created` });
      close();
      void navigate(`${path('tickets', type.id)}?tab=issue`);
    },
    onError: (error) => {
      setOther(applyApiErrors(form, error, ticketTypeErrorOptions));
      focusFirstError();
    },
  });
  const close = () => {
    form.reset();
    setOther([]);
    create.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Create a ticket type" centered size="lg" fullScreen={phone}>
      <form
        onSubmit={form.onSubmit(
          (values) => create.mutate(values),
          () => focusFirstError(),
        )}
        noValidate
      >
        <Stack>
          <NameField form={form} autoFocus />
          <DescriptionField form={form} />
          <RolesField form={form} />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <ValidityField form={form} />
          </SimpleGrid>
          <AllowUserCreationField form={form} />
          <EnabledField form={form} />
          <Text size="xs" c="dimmed">
            Where its tickets lead after use and the welcome their page shows are set on the type’s page.
          </Text>
          <CreateFormFooter what="ticket type" other={other} onCancel={close} submitting={create.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}
