import { Button } from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';

/** A list screen's main action, in its header: "Create user", "Register API". */
export function CreateButton({ onClick, children }: { onClick: () => void; children: ReactNode }) {
  return (
    <Button leftSection={<IconPlus size={16} aria-hidden />} onClick={onClick}>
      {children}
    </Button>
  );
}

/** Deleting what the screen shows (it asks first: `onClick` opens the confirmation). */
export function DeleteButton({ onClick, children }: { onClick: () => void; children: ReactNode }) {
  return (
    <Button color="red" variant="outline" leftSection={<IconTrash size={16} aria-hidden />} onClick={onClick}>
      {children}
    </Button>
  );
}
