import { ActionIcon, Alert, Button, Code, CopyButton, Group, Modal, Stack, Text, Tooltip } from '@mantine/core';
import { IconCheck, IconCopy, IconKey } from '@tabler/icons-react';

/**
 * A secret (client secret, API key) shown exactly once: the value, a copy button and a clear
 * warning that it cannot be shown again. The server keeps only its hash.
 */
export function SecretReveal({ secret, label }: { secret: string; label: string }) {
  return (
    <Stack gap="sm">
      <Alert color="yellow" variant="light" icon={<IconKey aria-hidden />} title="Copy it now">
        <Text size="sm">
          This is the only time the {label.toLowerCase()} is shown. Latchkey stores only a hash of it: if it is lost,
          create a new one.
        </Text>
      </Alert>
      <Group gap="xs" wrap="nowrap" align="stretch">
        <Code
          block
          aria-label={label}
          style={{ flex: 1, wordBreak: 'break-all', whiteSpace: 'pre-wrap', userSelect: 'all' }}
          data-testid="secret-value"
        >
          {secret}
        </Code>
        <CopyButton value={secret} timeout={2000}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? 'Copied' : `Copy ${label.toLowerCase()}`} withArrow>
              <ActionIcon
                color={copied ? 'teal' : 'gray'}
                variant="light"
                size="lg"
                onClick={copy}
                aria-label={copied ? 'Copied' : `Copy ${label.toLowerCase()}`}
              >
                {copied ? <IconCheck size={18} aria-hidden /> : <IconCopy size={18} aria-hidden />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      </Group>
    </Stack>
  );
}

/** The secret in a modal that closes only on purpose (no click outside, no Escape). */
export function SecretModal({
  opened,
  onClose,
  title,
  secret,
  label,
  children,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  secret: string | null;
  label: string;
  children?: React.ReactNode;
}) {
  return (
    <Modal
      opened={opened && secret !== null}
      onClose={onClose}
      title={title}
      centered
      size="lg"
      closeOnClickOutside={false}
      closeOnEscape={false}
    >
      <Stack gap="md">
        {children}
        {secret !== null && <SecretReveal secret={secret} label={label} />}
        <Group justify="flex-end">
          <Button onClick={onClose}>I have copied it</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
