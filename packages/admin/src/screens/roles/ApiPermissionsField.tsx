/**
 * The scopes of the tenant's own APIs a role grants, Auth0-style: pick an API, then tick its
 * scopes; a role may take scopes of several APIs. Read only, it lists what the role carries.
 */
import {
  Anchor,
  Badge,
  Button,
  Checkbox,
  Group,
  Paper,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Text,
} from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import type { ApiPermission, ResourceApi } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { useApisQuery } from '../apis/queries';
import { apiLabel, apisWithScopes, scopesByApi, setApiScopes } from './apiPermissions';

export function ApiPermissionsField({
  value,
  onChange,
  readOnly = false,
  builtin = false,
  error,
  labelId,
}: {
  value: readonly ApiPermission[];
  onChange?: (next: ApiPermission[]) => void;
  readOnly?: boolean;
  /** A built-in role: it grants every scope without listing any. */
  builtin?: boolean;
  error?: string | null;
  /** Id of the element that names the field. */
  labelId?: string;
}) {
  const { slug, path } = useCurrentTenant();
  const apis = useApisQuery(slug);
  const all = apis.data ?? [];
  const pickable = apisWithScopes(all);
  const editable = !readOnly && onChange !== undefined;
  // APIs the admin picked and has not ticked a scope of yet.
  const [added, setAdded] = useState<string[]>([]);
  const groups = scopesByApi(value);
  const shown = [...groups.keys(), ...added.filter((a) => !groups.has(a))];
  const remaining = pickable.filter((a) => !shown.includes(a.identifier));

  if (builtin) {
    return (
      <Text size="sm" c="dimmed">
        Every scope of every API of this tenant: built-in roles grant them all.
      </Text>
    );
  }

  if (apis.isPending) return <Skeleton height={56} radius="sm" aria-label="Loading APIs" />;

  const remove = (api: string) => {
    setAdded((list) => list.filter((a) => a !== api));
    onChange?.(setApiScopes(value, api, []));
  };

  return (
    <Stack gap="xs" role="group" aria-labelledby={labelId} aria-invalid={error ? true : undefined}>
      {shown.length === 0 && (
        <Text size="sm" c="dimmed">
          No API permissions.
        </Text>
      )}
      {shown.map((identifier) => (
        <ApiScopes
          key={identifier}
          identifier={identifier}
          api={all.find((a) => a.identifier === identifier)}
          known={apis.isSuccess}
          name={apiLabel(identifier, all)}
          held={groups.get(identifier) ?? []}
          editable={editable}
          onChange={(scopes) => onChange?.(setApiScopes(value, identifier, scopes))}
          onRemove={() => remove(identifier)}
        />
      ))}
      {apis.isError && (
        <Text size="xs" c="orange">
          The tenant’s APIs could not be listed ({apis.error.message}): only the scopes the role carries are shown.
        </Text>
      )}
      {editable &&
        apis.isSuccess &&
        (remaining.length > 0 ? (
          <Select
            aria-label="Add scopes of an API"
            placeholder={shown.length ? 'Add scopes of another API…' : 'Pick an API…'}
            data={remaining.map((a) => ({ value: a.identifier, label: `${a.name} (${a.identifier})` }))}
            value={null}
            onChange={(identifier) => identifier && setAdded((list) => [...list, identifier])}
            searchable
            nothingFoundMessage="No such API"
            comboboxProps={{ withinPortal: true }}
            maw={480}
          />
        ) : (
          pickable.length === 0 && (
            <Text size="xs" c="dimmed">
              No API of this tenant defines scopes yet.{' '}
              <Anchor component={Link} to={path('apis')} size="xs">
                Register an API
              </Anchor>{' '}
              to grant its scopes.
            </Text>
          )
        ))}
      {error && (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      )}
    </Stack>
  );
}

/** One API's box: its name and identifier, then its scopes (ticks, or badges when read only). */
function ApiScopes({
  identifier,
  api,
  known,
  name,
  held,
  editable,
  onChange,
  onRemove,
}: {
  identifier: string;
  api: ResourceApi | undefined;
  /** The tenant's APIs were listed: a missing `api` is gone. */
  known: boolean;
  name: string;
  held: readonly string[];
  editable: boolean;
  onChange: (scopes: string[]) => void;
  onRemove: () => void;
}) {
  const defined = api?.scopes ?? [];
  // Scopes the role still carries that the API no longer defines: shown so they can be removed.
  const gone = held.filter((s) => !defined.some((d) => d.name === s));
  return (
    <Paper withBorder p="sm" radius="sm" data-api={identifier}>
      <Group justify="space-between" align="flex-start" wrap="nowrap" gap="xs" mb={editable || held.length ? 'xs' : 0}>
        <div style={{ minWidth: 0 }}>
          <Text size="sm" fw={600}>
            {name}
          </Text>
          {name !== identifier && (
            <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
              {identifier}
            </Text>
          )}
          {known && !api && (
            <Text size="xs" c="orange">
              This tenant has no API with this identifier any more.
            </Text>
          )}
        </div>
        {editable && (
          <Button
            size="compact-xs"
            variant="subtle"
            color="red"
            leftSection={<IconTrash size={12} aria-hidden />}
            onClick={onRemove}
            aria-label={`Remove every scope of ${name}`}
            style={{ flexShrink: 0 }}
          >
            Remove
          </Button>
        )}
      </Group>
      {editable ? (
        <Checkbox.Group value={[...held]} onChange={onChange} aria-label={`Scopes of ${name}`}>
          <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="xs" verticalSpacing={6}>
            {defined.map((s) => (
              <Checkbox
                key={s.name}
                value={s.name}
                label={
                  <Text size="sm" ff="monospace">
                    {s.name}
                  </Text>
                }
                description={s.description || undefined}
              />
            ))}
            {gone.map((s) => (
              <Checkbox
                key={s}
                value={s}
                label={
                  <Text size="sm" ff="monospace">
                    {s}
                  </Text>
                }
                description={known ? 'No longer defined by the API' : undefined}
              />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
      ) : (
        <Group gap={6}>
          {held.map((s) => (
            <Badge
              key={s}
              variant="light"
              tt="none"
              ff="monospace"
              title={defined.find((d) => d.name === s)?.description}
            >
              {s}
            </Badge>
          ))}
        </Group>
      )}
    </Paper>
  );
}
