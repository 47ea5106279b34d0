import { Modal, Stack } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import type { IdentityProvider } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { CreateFormFooter } from '../../components/CreateFormFooter';
import { applyApiErrors } from '../../components/fieldErrors';
import { focusFirstError } from '../shared/focusFirstError';
import { IdpFields } from './IdpFields';
import { createIdpBody, emptyIdpForm, type IdpFormValues, idpErrorOptions, validateIdpForm } from './idpForm';
import { idpPath, idpsKey } from './queries';

/**
 * Add an identity provider: its kind (a preset fills in the issuer), slug (the redirect URI to
 * register upstream shows as it is typed), client and secret, and who may sign up and link. The
 * provider's page opens next.
 */
export function CreateIdentityProviderModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { slug, path } = useCurrentTenant();
  const phone = useMediaQuery('(max-width: 36em)');
  const [other, setOther] = useState<string[]>([]);
  const form = useForm<IdpFormValues>({
    initialValues: emptyIdpForm(),
    validate: (values) => validateIdpForm(values, { creating: true, clientSecretSet: false, privateKeySet: false }),
  });
  const create = useMutation({
    mutationFn: (values: IdpFormValues) => api.post<IdentityProvider>(idpPath(slug), createIdpBody(values)),
    onSuccess: (idp) => {
      void queryClient.invalidateQueries({ queryKey: idpsKey(slug) });
      notifications.show({ color: 'green', message: `Identity provider ${idp.displayName} added` });
      close();
      void navigate(path('identity-providers', idp.id));
    },
    onError: (error) => {
      setOther(applyApiErrors(form, error, idpErrorOptions(form.values.roleMappings.length, form.values.samlSource)));
      focusFirstError();
    },
  });
  const close = () => {
    form.setValues(emptyIdpForm());
    form.resetDirty();
    form.clearErrors();
    setOther([]);
    create.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Add an identity provider" centered size="xl" fullScreen={phone}>
      <form
        onSubmit={form.onSubmit(
          (values) => create.mutate(values),
          () => {
            setOther([]);
            focusFirstError();
          },
        )}
        noValidate
      >
        <Stack>
          <IdpFields form={form} creating />
          <CreateFormFooter what="identity provider" other={other} onCancel={close} submitting={create.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}
