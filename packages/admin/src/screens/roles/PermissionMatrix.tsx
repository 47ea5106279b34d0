import { Button, Checkbox, Group, Table, Text, ThemeIcon } from '@mantine/core';
import { IconCheck, IconMinus } from '@tabler/icons-react';
import type { Permission } from '../../api/types';
import { accessLevel, PERMISSION_GROUPS, permissionsForLevel, setPermission } from './permissions';

/**
 * The permissions of a role as a grid: one row per resource, read and write columns. Editable
 * (checkboxes, with shortcuts) or read-only (ticks), so viewing and creating look the same.
 */
export function PermissionMatrix({
  value,
  onChange,
  readOnly = false,
  error,
  labelId,
}: {
  value: readonly string[];
  onChange?: (permissions: Permission[]) => void;
  readOnly?: boolean;
  error?: string | null;
  /** Id of the element that names the grid. */
  labelId?: string;
}) {
  const editable = !readOnly && onChange !== undefined;
  const cell = (permission: Permission | null, label: string) => {
    if (!permission) {
      return (
        <Text size="xs" c="dimmed" aria-label={`${label}: not applicable`}>
          n/a
        </Text>
      );
    }
    const on = value.includes(permission);
    if (!editable) {
      return on ? (
        <ThemeIcon size="sm" radius="xl" color="teal" variant="light" aria-label={`${label}: granted`} role="img">
          <IconCheck size={14} aria-hidden />
        </ThemeIcon>
      ) : (
        <ThemeIcon
          size="sm"
          radius="xl"
          color="gray"
          variant="transparent"
          aria-label={`${label}: not granted`}
          role="img"
        >
          <IconMinus size={14} aria-hidden />
        </ThemeIcon>
      );
    }
    return (
      <Checkbox
        aria-label={label}
        checked={on}
        onChange={(e) => onChange?.(setPermission(value, permission, e.currentTarget.checked))}
      />
    );
  };

  return (
    <div>
      {editable && (
        <Group gap="xs" mb="xs">
          <Text size="xs" c="dimmed">
            Set all:
          </Text>
          <Button size="compact-xs" variant="default" onClick={() => onChange?.(permissionsForLevel('none'))}>
            None
          </Button>
          <Button size="compact-xs" variant="default" onClick={() => onChange?.(permissionsForLevel('read'))}>
            Read everything
          </Button>
          <Button size="compact-xs" variant="default" onClick={() => onChange?.(permissionsForLevel('write'))}>
            Everything
          </Button>
        </Group>
      )}
      <Table
        verticalSpacing={6}
        withTableBorder
        aria-labelledby={labelId}
        aria-invalid={error ? true : undefined}
        style={error ? { borderColor: 'var(--mantine-color-error)' } : undefined}
      >
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Resource</Table.Th>
            <Table.Th w={64} ta="center">
              Read
            </Table.Th>
            <Table.Th w={64} ta="center">
              Write
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {PERMISSION_GROUPS.map((g) => (
            <Table.Tr key={g.resource} data-level={accessLevel(value, g)}>
              <Table.Td>
                <Text size="sm" fw={500}>
                  {g.label}
                </Text>
                <Text size="xs" c="dimmed">
                  {g.description}
                </Text>
              </Table.Td>
              <Table.Td>
                <Group justify="center">{cell(g.read, `${g.label}: read`)}</Group>
              </Table.Td>
              <Table.Td>
                <Group justify="center">{cell(g.write, `${g.label}: write`)}</Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {error && (
        <Text size="xs" c="red" mt={4} role="alert">
          {error}
        </Text>
      )}
      {editable && (
        <Text size="xs" c="dimmed" mt={4}>
          Write includes read. Granting this role later needs an admin who holds every permission it carries.
        </Text>
      )}
    </div>
  );
}
