import { Alert, Button, Group, Text } from '@mantine/core';
import { IconRefresh } from '@tabler/icons-react';

/**
 * Shown when a save answered 412 `version_mismatch`: someone changed the resource after it was
 * loaded. Nothing was saved; reloading shows their version (and drops the edits on screen).
 */
export function StaleVersionNotice({
  what = 'this',
  onReload,
  reloading = false,
}: {
  what?: string;
  onReload: () => void;
  reloading?: boolean;
}) {
  return (
    <Alert color="yellow" variant="light" title="Changed meanwhile" role="alert">
      <Text size="sm">
        Someone else changed {what} after you opened it, so your changes were not saved. Reload to see the latest
        version, then make your changes again.
      </Text>
      <Group mt="sm">
        <Button size="xs" leftSection={<IconRefresh size={16} aria-hidden />} onClick={onReload} loading={reloading}>
          Reload
        </Button>
      </Group>
    </Alert>
  );
}
