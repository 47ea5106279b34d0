/**
 * Exporting a tenant's users as JSON lines (`GET …/users/export`, the format the import reads).
 * The download carries the admin's token, so it is a fetch saved through a temporary link rather
 * than a plain link. Password hashes are offered only to admins who hold `users:export_hashes`.
 */
import { Button, Checkbox, Group, Modal, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconDownload } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, type DownloadedFile, tenantPath } from '../../api/client';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { exportFileName, JSON_LINES_TYPE } from './importProgress';

/** Saves a blob as a file through a temporary link. */
function saveFile(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Some browsers read the blob after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ExportUsersModal({
  opened,
  onClose,
  canExportHashes,
}: {
  opened: boolean;
  onClose: () => void;
  /** The admin holds `users:export_hashes` here. */
  canExportHashes: boolean;
}) {
  const api = useApi();
  const { slug } = useCurrentTenant();
  const [includeHashes, setIncludeHashes] = useState(false);
  const download = useMutation<DownloadedFile, ApiError, boolean>({
    mutationFn: (hashes) =>
      api.download(tenantPath(slug, '/users/export'), {
        query: { includeHashes: hashes ? 'true' : undefined },
        accept: `${JSON_LINES_TYPE}, application/json`,
      }),
    onSuccess: (file) => {
      saveFile(file.blob, exportFileName(slug, file.fileName));
      notifications.show({ color: 'green', message: 'Users exported' });
      close();
    },
  });
  const close = () => {
    setIncludeHashes(false);
    download.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title="Export users" centered>
      <Stack>
        <Text size="sm">
          Every user of this tenant, one JSON object per line: the file imports into another tenant, or another
          Latchkey, as it is.
        </Text>
        {canExportHashes && (
          <Checkbox
            label="Include password hashes"
            description="Each line then carries the user's password hash as stored: keep the file as safe as the database. The export is recorded in the audit log."
            checked={includeHashes}
            onChange={(e) => setIncludeHashes(e.currentTarget.checked)}
          />
        )}
        {download.error && <ApiErrorAlert error={download.error} title="The users could not be exported" />}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            leftSection={<IconDownload size={16} aria-hidden />}
            loading={download.isPending}
            onClick={() => download.mutate(canExportHashes && includeHashes)}
          >
            Download
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
