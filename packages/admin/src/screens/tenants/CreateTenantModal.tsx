import { Modal, Stack, Switch, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import type { Tenant } from '../../api/types';
import { CreateFormFooter } from '../../components/CreateFormFooter';
import { applyApiErrors } from '../../components/fieldErrors';

const SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** A slug suggestion from a display name: "Acme Corp." → "acme-corp". */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

export function CreateTenantModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [slugTouched, setSlugTouched] = useState(false);
  const [other, setOther] = useState<string[]>([]);
  const form = useForm({
    initialValues: { displayName: '', slug: '', selfRegistration: false },
    validate: {
      displayName: (v) => (v.trim() ? null : 'Give the tenant a name'),
      slug: (v) =>
        v.length < 3 || v.length > 63
          ? 'Between 3 and 63 characters'
          : SLUG.test(v)
            ? null
            : 'Lower-case letters, digits and dashes; no dash at either end',
    },
  });
  const create = useMutation({
    mutationFn: (values: typeof form.values) =>
      api.post<Tenant>('/v1/tenants', {
        slug: values.slug,
        displayName: values.displayName.trim(),
        settings: { selfRegistration: values.selfRegistration },
      }),
    onSuccess: (tenant) => {
      void queryClient.invalidateQueries({ queryKey: ['tenants'] });
      notifications.show({ color: 'green', message: `Tenant ${tenant.slug} created` });
      close();
      void navigate(`/tenants/${tenant.slug}/settings`);
    },
    onError: (error) => {
      setOther(
        applyApiErrors(form, error, {
          fields: ['slug', 'displayName', 'selfRegistration'],
          codes: { tenant_exists: 'slug' },
        }),
      );
    },
  });
  const close = () => {
    form.reset();
    setSlugTouched(false);
    setOther([]);
    create.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Create a tenant" centered>
      <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
        <Stack>
          <TextInput
            label="Display name"
            description="Shown on the sign-in page"
            required
            data-autofocus
            {...form.getInputProps('displayName')}
            onChange={(e) => {
              const value = e.currentTarget.value;
              form.setFieldValue('displayName', value);
              if (!slugTouched) form.setFieldValue('slug', slugify(value));
            }}
          />
          <TextInput
            label="Slug"
            description="In URLs: issuer …/t/{slug}. Cannot be changed later."
            required
            spellCheck={false}
            autoComplete="off"
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            {...form.getInputProps('slug')}
            onChange={(e) => {
              setSlugTouched(true);
              form.setFieldValue('slug', e.currentTarget.value.toLowerCase());
            }}
          />
          <Switch
            label="Let people register themselves"
            {...form.getInputProps('selfRegistration', { type: 'checkbox' })}
          />
          <CreateFormFooter what="tenant" other={other} onCancel={close} submitting={create.isPending} />
        </Stack>
      </form>
    </Modal>
  );
}
