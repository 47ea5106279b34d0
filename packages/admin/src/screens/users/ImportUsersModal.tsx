/**
 * Importing users from a file of JSON lines (docs/import.md): the file goes to
 * `POST …/users/import` as it is (the browser streams it; it is never read into a string), then
 * the job is read every second until it is done, with a bar, the counts and the refused lines.
 * The job lives here, not in the dialog, so closing the dialog mid-import keeps following it:
 * when it is done the users list refreshes, and opening the dialog again shows where it stands.
 */
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Code,
  FileInput,
  Group,
  Modal,
  Progress,
  ScrollArea,
  Stack,
  Switch,
  Table,
  Text,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { IconAlertTriangle, IconCircleCheck, IconFileUpload } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { UserImport } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import {
  failureLineLabel,
  importCountsText,
  importErrorTitle,
  importOutcome,
  importPercent,
  importPollInterval,
  importProgressText,
  importStatus,
  isImportActive,
  JSON_LINES_ACCEPT,
  JSON_LINES_TYPE,
} from './importProgress';

const importKey = (slug: string, id: string) => ['tenant', slug, 'user-import', id] as const;

interface Start {
  file: File;
  dryRun: boolean;
}

export function ImportUsersModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug } = useCurrentTenant();
  const phone = useMediaQuery('(max-width: 36em)');
  const [file, setFile] = useState<File | null>(null);
  const [dryRun, setDryRun] = useState(false);
  const [fileError, setFileError] = useState<string | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);

  const start = useMutation<UserImport, ApiError, Start>({
    mutationFn: (s) =>
      api.upload<UserImport>(tenantPath(slug, '/users/import'), s.file, {
        contentType: JSON_LINES_TYPE,
        query: { dryRun: s.dryRun ? 'true' : undefined },
      }),
    onSuccess: (job) => {
      queryClient.setQueryData(importKey(slug, job.id), job);
      setJobId(job.id);
    },
  });
  const job = useQuery<UserImport, ApiError>({
    queryKey: importKey(slug, jobId ?? ''),
    queryFn: ({ signal }) => api.get<UserImport>(tenantPath(slug, `/users/imports/${jobId}`), { signal }),
    enabled: jobId !== null,
    refetchInterval: (query) => importPollInterval(query.state.data),
    refetchIntervalInBackground: true,
  });
  const current = jobId ? job.data : undefined;

  // Once a real import is done, the list shows its users (once per job).
  const refreshed = useRef<string | null>(null);
  useEffect(() => {
    if (!current || current.dryRun || current.status !== 'done' || refreshed.current === current.id) return;
    refreshed.current = current.id;
    void queryClient.invalidateQueries({ queryKey: queryKeys.users(slug) });
    void queryClient.invalidateQueries({ queryKey: queryKeys.stats(slug) });
  }, [current, queryClient, slug]);

  // Another tenant: this one's job is not followed there.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset when the tenant changes only
  useEffect(() => reset(), [slug]);

  function reset() {
    setFile(null);
    setDryRun(false);
    setFileError(null);
    setJobId(null);
    start.reset();
  }
  const close = () => {
    // A job still running is kept: the dialog shows it again when opened.
    if (!current || !isImportActive(current.status)) reset();
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problem = !file ? 'Pick a file of JSON lines' : file.size === 0 ? 'This file is empty' : null;
    setFileError(problem);
    if (file && !problem) start.mutate({ file, dryRun });
  };
  const importChecked = () => {
    if (!file) return;
    setJobId(null);
    setDryRun(false);
    start.mutate({ file, dryRun: false });
  };

  return (
    <Modal opened={opened} onClose={close} title="Import users" size="lg" fullScreen={phone ?? false} centered>
      {current ? (
        <ImportJob
          job={current}
          fileName={file?.name ?? null}
          pollError={job.error}
          onImportChecked={file ? importChecked : undefined}
          importing={start.isPending}
          onAnother={reset}
          onClose={close}
        />
      ) : (
        <form onSubmit={submit} noValidate>
          <Stack>
            <Text size="sm">
              One JSON object per line: <Code>email</Code>, <Code>displayName</Code>, <Code>emailVerified</Code>,{' '}
              <Code>roles</Code>, <Code>attributes</Code>, <Code>passwordHash</Code>. Only <Code>email</Code> is
              required; users whose email exists already are left as they are. An export of users is such a file. The
              format and the password hash formats taken are in the{' '}
              <Anchor href={api.url('/docs#/Users')} target="_blank" rel="noopener noreferrer">
                API reference
              </Anchor>
              .
            </Text>
            <FileInput
              label="File of users"
              description=".jsonl or .ndjson, up to 1,000,000 lines"
              placeholder="Pick a file"
              accept={JSON_LINES_ACCEPT}
              value={file}
              onChange={(f) => {
                setFile(f);
                setFileError(null);
                start.reset();
              }}
              error={fileError}
              clearable
              clearButtonProps={{ 'aria-label': 'Clear the file' }}
              leftSection={<IconFileUpload size={16} aria-hidden />}
              required
              data-autofocus
            />
            <Switch
              label="Check only (dry run)"
              description="Checks every line against the tenant and writes no user"
              checked={dryRun}
              onChange={(e) => setDryRun(e.currentTarget.checked)}
            />
            {start.error && <ApiErrorAlert error={start.error} title={importErrorTitle(start.error)} />}
            <Group justify="flex-end" gap="sm">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={start.isPending}>
                Start import
              </Button>
            </Group>
            {start.isPending && file && (
              <Text size="sm" c="dimmed" role="status">
                Uploading {file.name}: the import starts once every line is stored.
              </Text>
            )}
          </Stack>
        </form>
      )}
    </Modal>
  );
}

/** A job as it goes: status, bar, counts, what it came to, and the refused lines. */
function ImportJob({
  job,
  fileName,
  pollError,
  onImportChecked,
  importing,
  onAnother,
  onClose,
}: {
  job: UserImport;
  fileName: string | null;
  pollError: ApiError | null;
  /** Imports the file just checked (offered after a dry run without refusals). */
  onImportChecked: (() => void) | undefined;
  importing: boolean;
  onAnother: () => void;
  onClose: () => void;
}) {
  const status = importStatus(job);
  const active = isImportActive(job.status);
  const percent = importPercent(job);
  const progress = importProgressText(job);
  const outcome = importOutcome(job);
  const what = job.dryRun ? 'Lines checked' : 'Lines imported';
  return (
    <Stack>
      <Group justify="space-between" gap="xs" wrap="wrap">
        <Text size="sm" fw={500} style={{ overflowWrap: 'anywhere', minWidth: 0 }}>
          {job.dryRun ? 'Checking' : 'Importing'} {fileName ?? 'the file'}
        </Text>
        <Badge color={status.color} variant="light" aria-live="polite">
          {status.label}
        </Badge>
      </Group>
      <Progress.Root size="lg" radius="xl">
        <Progress.Section
          value={percent}
          color={status.color}
          animated={active}
          withAria={false}
          role="progressbar"
          aria-label={what}
          aria-valuemin={0}
          aria-valuemax={job.lines}
          aria-valuenow={Math.min(job.processed, job.lines)}
          aria-valuetext={progress}
        />
      </Progress.Root>
      <Group justify="space-between" gap="xs">
        <Text size="sm" c="dimmed">
          {progress}
        </Text>
        <Text size="sm" aria-live="polite">
          {importCountsText(job)}
        </Text>
      </Group>
      {outcome && (
        <Alert
          color={job.status === 'failed' ? 'red' : job.failed > 0 ? 'yellow' : 'green'}
          variant="light"
          icon={
            job.status === 'done' && job.failed === 0 ? (
              <IconCircleCheck aria-hidden />
            ) : (
              <IconAlertTriangle aria-hidden />
            )
          }
          title={job.status === 'failed' ? 'Import failed' : job.dryRun ? 'Check done' : 'Import done'}
        >
          {outcome}
        </Alert>
      )}
      {pollError && active && (
        <ApiErrorAlert error={pollError} title="The progress could not be read; trying again every second" />
      )}
      {job.failures.length > 0 && <Refusals job={job} />}
      <Group justify="flex-end" gap="sm">
        {!active && (
          <Button variant="default" onClick={onAnother}>
            {job.dryRun ? 'Pick another file' : 'Import another file'}
          </Button>
        )}
        {!active && job.dryRun && job.failed === 0 && onImportChecked && (
          <Button onClick={onImportChecked} loading={importing}>
            Import this file
          </Button>
        )}
        <Button variant={active ? 'default' : 'filled'} onClick={onClose}>
          Close
        </Button>
      </Group>
      {active && (
        <Text size="xs" c="dimmed">
          Closing this dialog does not stop the import: the list of users refreshes when it is done.
        </Text>
      )}
    </Stack>
  );
}

/** The refused lines the job keeps (the first 1,000), with their codes. */
function Refusals({ job }: { job: UserImport }) {
  const more = job.failed - job.failures.length;
  return (
    <ScrollArea.Autosize mah={320} type="auto" offsetScrollbars>
      <Table striped withTableBorder verticalSpacing={6} captionSide="top" layout="fixed">
        <Table.Caption>
          Refused lines ({job.failed.toLocaleString('en-US')}){more > 0 ? `: the first ${job.failures.length}` : ''}
        </Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={80}>Line</Table.Th>
            <Table.Th w="35%">Code</Table.Th>
            <Table.Th>Message</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {job.failures.map((f) => (
            <Table.Tr key={`${f.line}-${f.code}`}>
              <Table.Td>{failureLineLabel(f.line)}</Table.Td>
              <Table.Td style={{ overflowWrap: 'anywhere' }}>
                <Code>{f.code}</Code>
              </Table.Td>
              <Table.Td style={{ overflowWrap: 'anywhere' }}>{f.message}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea.Autosize>
  );
}
