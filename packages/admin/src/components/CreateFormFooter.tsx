import { Button, Group } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiErrorAlert } from './ApiErrorAlert';

/**
 * The end of a create form in a modal: what the API refused that fits no field ("The role was not
 * created"), then Cancel and "Create role" (with `start`, like a Back button, on the left).
 */
export function CreateFormFooter({
  what,
  other,
  onCancel,
  submitting,
  start,
}: {
  /** What it creates, like "role". */
  what: string;
  /** Problems that matched no field. */
  other: string[];
  onCancel: () => void;
  submitting: boolean;
  start?: ReactNode;
}) {
  const buttons = (
    <>
      <Button variant="default" onClick={onCancel}>
        Cancel
      </Button>
      <Button type="submit" loading={submitting}>
        {`Create ${what}`}
      </Button>
    </>
  );
  return (
    <>
      {other.length > 0 && <ApiErrorAlert error={null} extra={other} title={`The ${what} was not created`} />}
      {start ? (
        <Group justify="space-between">
          {start}
          <Group gap="sm">{buttons}</Group>
        </Group>
      ) : (
        <Group justify="flex-end">{buttons}</Group>
      )}
    </>
  );
}
