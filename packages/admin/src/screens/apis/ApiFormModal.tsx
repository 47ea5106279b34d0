import { ActionIcon, Alert, Button, Group, Modal, Stack, Text, TextInput, Tooltip } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMediaQuery } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconLock, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { ApiError, tenantPath } from '../../api/client';
import type { ResourceApi } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { DurationInput } from '../../components/DurationInput';
import { applyApiErrors } from '../../components/fieldErrors';
import { formatDuration } from '../../components/format';
import { StaleVersionNotice } from '../../components/StaleVersionNotice';
import { showValues } from '../../components/useVersionedForm';
import { focusFirstError } from '../shared/focusFirstError';
import {
  type ApiFormValues,
  apiFormFields,
  apiToForm,
  createApiBody,
  emptyApiForm,
  patchApiBody,
  scopeRow,
  validateApiForm,
} from './apiForm';
import { apisKey } from './queries';

/**
 * Create an API (`api` null) or edit one. The built-in admin API opens read only. Edits send
 * If-Match; a 412 offers to reload the API as it is now.
 */
export function ApiFormModal({
  opened,
  api: current,
  onClose,
}: {
  opened: boolean;
  api: ResourceApi | null;
  onClose: () => void;
}) {
  const client = useApi();
  const queryClient = useQueryClient();
  const { slug, tenant } = useCurrentTenant();
  const phone = useMediaQuery('(max-width: 36em)');
  const creating = current === null;
  const readOnly = current?.builtin ?? false;
  const [other, setOther] = useState<string[]>([]);
  const [stale, setStale] = useState(false);
  const [reloading, setReloading] = useState(false);
  const version = useRef<number | null>(current?.version ?? null);
  const form = useForm<ApiFormValues>({
    initialValues: current ? apiToForm(current) : emptyApiForm(),
    validate: (values) => validateApiForm(values, { creating }),
  });

  // Each opening starts from the API as listed (or an empty form).
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset when opened or the API changes only
  useEffect(() => {
    if (!opened) return;
    version.current = current?.version ?? null;
    showValues(form, current ? apiToForm(current) : emptyApiForm());
    setOther([]);
    setStale(false);
  }, [opened, current?.id]);

  const save = useMutation({
    mutationFn: (values: ApiFormValues) =>
      creating
        ? client.post<ResourceApi>(tenantPath(slug, '/apis'), createApiBody(values))
        : client.patch<ResourceApi>(
            tenantPath(slug, `/apis/${encodeURIComponent(current.id)}`),
            patchApiBody(form.getInitialValues(), values),
            { ifMatch: version.current },
          ),
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: apisKey(slug) });
      notifications.show({
        color: 'green',
        message: creating ? `API ${saved.name} created` : `API ${saved.name} saved`,
      });
      onClose();
    },
    onError: (error) => {
      if (error instanceof ApiError && error.isVersionMismatch) {
        setStale(true);
        setOther([]);
        return;
      }
      setOther(
        applyApiErrors(form, error, {
          fields: apiFormFields(form.values.scopes.length),
          codes: { api_exists: 'identifier', duplicate_scope: 'scopes', too_many_apis: 'identifier' },
        }),
      );
      focusFirstError();
    },
  });

  const reload = async () => {
    if (!current) return;
    setReloading(true);
    try {
      const fresh = await client.get<ResourceApi>(tenantPath(slug, `/apis/${encodeURIComponent(current.id)}`));
      version.current = fresh.version;
      showValues(form, apiToForm(fresh));
      setStale(false);
      void queryClient.invalidateQueries({ queryKey: apisKey(slug) });
    } catch (error) {
      setOther([error instanceof Error ? error.message : String(error)]);
    } finally {
      setReloading(false);
    }
  };

  const close = () => {
    save.reset();
    onClose();
  };
  const scopesError = typeof form.errors.scopes === 'string' ? form.errors.scopes : null;
  const tenantTtl = tenant?.settings.lifetimes.accessTokenSeconds;

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={creating ? 'Register an API' : readOnly ? current.name : `Edit ${current.name}`}
      centered
      size="xl"
      fullScreen={phone}
    >
      <form
        onSubmit={form.onSubmit(
          (v) => save.mutate(v),
          () => {
            setOther([]);
            focusFirstError();
          },
        )}
        noValidate
      >
        <Stack>
          {readOnly && (
            <Alert color="gray" variant="light" icon={<IconLock aria-hidden />} title="Built-in">
              The admin API is part of Latchkey: its identifier follows the server’s public URL, it has no scopes (what
              a token may do comes from its roles), and it cannot be changed or deleted.
            </Alert>
          )}
          <TextInput
            label="Identifier"
            description={
              creating
                ? 'The audience (aud) of its access tokens, and the resource parameter apps ask for. Usually its base URL. It cannot be changed later.'
                : 'The audience (aud) of its access tokens; it cannot be changed.'
            }
            placeholder="https://api.example.com/orders"
            required={creating}
            readOnly={!creating}
            spellCheck={false}
            autoComplete="off"
            data-autofocus={creating || undefined}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
            {...form.getInputProps('identifier')}
          />
          <TextInput
            label="Name"
            description="Shown on the consent screen"
            required
            disabled={readOnly}
            autoComplete="off"
            {...form.getInputProps('name')}
          />
          {readOnly ? (
            <TextInput
              label="Access token lifetime"
              description="The tenant’s access token lifetime, at most 1 h"
              value={
                typeof form.values.accessTokenTtlSeconds === 'number'
                  ? formatDuration(form.values.accessTokenTtlSeconds)
                  : ''
              }
              readOnly
            />
          ) : (
            <DurationInput
              label="Access token lifetime"
              description={
                creating
                  ? `Empty: the tenant’s access token lifetime${tenantTtl ? ` (${formatDuration(tenantTtl)})` : ''}.`
                  : 'How long its access tokens are valid.'
              }
              units={['seconds', 'minutes', 'hours']}
              min={60}
              max={86_400}
              {...form.getInputProps('accessTokenTtlSeconds')}
            />
          )}
          <Stack gap="xs">
            <div>
              <Text size="sm" fw={600} id="api-scopes-label">
                Scopes
              </Text>
              <Text size="xs" c="dimmed">
                Permissions apps can ask for, like orders:read. Users see the description on the consent screen.
              </Text>
            </div>
            {form.values.scopes.length === 0 && (
              <Text size="sm" c="dimmed">
                No scopes.
              </Text>
            )}
            <Stack gap="xs" role="group" aria-labelledby="api-scopes-label">
              {form.values.scopes.map((s, i) => (
                <Group key={s.key} align="flex-start" gap="xs" wrap="nowrap">
                  <TextInput
                    aria-label={`Scope ${i + 1} name`}
                    placeholder="orders:read"
                    spellCheck={false}
                    autoComplete="off"
                    disabled={readOnly}
                    style={{ flex: '1 1 40%' }}
                    styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
                    {...form.getInputProps(`scopes.${i}.name`)}
                  />
                  <TextInput
                    aria-label={`Scope ${i + 1} description`}
                    placeholder="Read your orders"
                    disabled={readOnly}
                    style={{ flex: '1 1 60%' }}
                    {...form.getInputProps(`scopes.${i}.description`)}
                  />
                  {!readOnly && (
                    <Tooltip label="Remove scope">
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        size="lg"
                        aria-label={`Remove scope ${s.name || i + 1}`}
                        onClick={() => form.removeListItem('scopes', i)}
                      >
                        <IconTrash size={16} aria-hidden />
                      </ActionIcon>
                    </Tooltip>
                  )}
                </Group>
              ))}
            </Stack>
            {scopesError && (
              <Text size="xs" c="red" role="alert">
                {scopesError}
              </Text>
            )}
            {!readOnly && (
              <Button
                variant="light"
                size="xs"
                w="fit-content"
                leftSection={<IconPlus size={14} aria-hidden />}
                onClick={() => form.insertListItem('scopes', scopeRow())}
              >
                Add scope
              </Button>
            )}
          </Stack>
          {stale && <StaleVersionNotice what="this API" onReload={() => void reload()} reloading={reloading} />}
          {other.length > 0 && (
            <ApiErrorAlert
              error={null}
              extra={other}
              title={creating ? 'The API was not created' : 'The API was not saved'}
            />
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              {readOnly ? 'Close' : 'Cancel'}
            </Button>
            {!readOnly && (
              <Button type="submit" loading={save.isPending} disabled={!creating && !form.isDirty()}>
                {creating ? 'Register API' : 'Save changes'}
              </Button>
            )}
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
