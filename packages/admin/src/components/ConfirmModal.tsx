import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { type ReactNode, useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import { ApiErrorAlert } from './ApiErrorAlert';
import { StaleVersionNotice } from './StaleVersionNotice';

/**
 * Every destructive action asks first. `onConfirm` may be async: the modal stays open with a
 * spinner, closes on success and shows the error otherwise. With `typeToConfirm`, the button
 * stays disabled until that exact text is typed (deleting a tenant asks for its slug).
 */
export function ConfirmModal({
  opened,
  onClose,
  onConfirm,
  title,
  children,
  confirmLabel = 'Confirm',
  danger = true,
  typeToConfirm,
  onReload,
}: {
  opened: boolean;
  onClose: () => void;
  onConfirm: () => Promise<unknown> | unknown;
  title: string;
  children?: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  typeToConfirm?: string;
  /** On a 412 (changed meanwhile), offered as "Reload"; the modal closes. */
  onReload?: () => unknown;
}) {
  const [typed, setTyped] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (opened) {
      setTyped('');
      setError(null);
      setPending(false);
    }
  }, [opened]);

  const blocked = typeToConfirm !== undefined && typed !== typeToConfirm;
  const confirm = async () => {
    if (blocked || pending) return;
    setPending(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <Modal opened={opened} onClose={pending ? () => {} : onClose} title={title} centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void confirm();
        }}
      >
        <Stack gap="md">
          {typeof children === 'string' ? <Text size="sm">{children}</Text> : children}
          {typeToConfirm !== undefined && (
            <TextInput
              label={
                <>
                  Type <strong>{typeToConfirm}</strong> to confirm
                </>
              }
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
              autoComplete="off"
              spellCheck={false}
              data-autofocus
            />
          )}
          {error instanceof ApiError && error.isVersionMismatch && onReload ? (
            <StaleVersionNotice
              onReload={() => {
                onClose();
                void onReload();
              }}
            />
          ) : (
            <ApiErrorAlert error={error} title="That did not work" />
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose} disabled={pending}>
              Cancel
            </Button>
            <Button type="submit" color={danger ? 'red' : undefined} loading={pending} disabled={blocked}>
              {confirmLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
