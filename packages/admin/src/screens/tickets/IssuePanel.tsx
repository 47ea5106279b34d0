import {
  Alert,
  Button,
  FileButton,
  Group,
  List,
  Paper,
  Progress,
  Radio,
  Stack,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import {
  IconAlertTriangle,
  IconCircleCheck,
  IconFileUpload,
  IconPlayerStop,
  IconSend,
  IconTicketOff,
} from '@tabler/icons-react';
import { useMemo, useState } from 'react';
import type { TicketType } from '../../api/types';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { ConfirmModal } from '../../components/ConfirmModal';
import { formatDuration, formatNumber } from '../../components/format';
import { IssueResults } from './IssueResults';
import { CHUNK_SIZE, countsText, isCsvFile, parseForeignKeys } from './issueBatch';
import type { IssueBatch, IssueRun, OnDuplicate } from './useIssueBatch';

/** Larger files are refused before reading: 10,000 keys of 320 characters are about 3 MB. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
const SHOWN_PROBLEMS = 10;

/**
 * Issue a batch: keys pasted or read from a file (one per line), what to do with a key whose
 * ticket still works, then the batch goes in chunks with a progress bar, and each key's outcome
 * and link (shown only here: copy them, or download them as CSV).
 */
export function IssuePanel({
  type,
  batch,
  onOpenSettings,
}: {
  type: TicketType;
  batch: IssueBatch;
  onOpenSettings: () => void;
}) {
  const { run } = batch;
  return (
    <Stack gap="lg">
      {!type.enabled && (
        <Alert color="yellow" variant="light" icon={<IconTicketOff aria-hidden />} title="This type is disabled">
          <Text size="sm">A disabled type issues no tickets. Enable it in its settings first.</Text>
          <Button size="xs" variant="white" mt="sm" onClick={onOpenSettings}>
            Open the settings
          </Button>
        </Alert>
      )}
      {run ? <BatchRun type={type} batch={batch} run={run} /> : <BatchForm type={type} batch={batch} />}
    </Stack>
  );
}

function BatchForm({ type, batch }: { type: TicketType; batch: IssueBatch }) {
  const [fileProblem, setFileProblem] = useState<string | null>(null);
  const [loadedFile, setLoadedFile] = useState<string | null>(null);
  const parsed = useMemo(() => parseForeignKeys(batch.text), [batch.text]);
  const n = parsed.keys.length;

  const load = async (file: File | null) => {
    setFileProblem(null);
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      setFileProblem(`${file.name} is larger than 32 MB: split it, or paste the keys.`);
      return;
    }
    try {
      const text = await file.text();
      const csv = isCsvFile(file.name);
      // The text area shows what will be sent: for a CSV, its first column.
      const fromFile = csv ? parseForeignKeys(text, { csv: true }) : null;
      batch.setText(fromFile ? fromFile.keys.join('\n') : text);
      setLoadedFile(
        fromFile
          ? `${file.name}: its first column${fromFile.header ? `, under the header “${fromFile.header}”` : ''}`
          : file.name,
      );
    } catch {
      setFileProblem(`${file.name} could not be read.`);
    }
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (n > 0 && parsed.problems.length === 0 && type.enabled) batch.start(parsed.keys);
      }}
    >
      <Stack gap="md">
        <Textarea
          label="Foreign keys"
          description="One per line: email addresses (each is sent the invitation) or ids from another system. Spaces around a key are trimmed, blank lines ignored, repeats left out."
          placeholder={'ada@example.com\ncrm-1042'}
          autosize
          minRows={6}
          maxRows={16}
          spellCheck={false}
          autoComplete="off"
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } }}
          value={batch.text}
          onChange={(e) => {
            batch.setText(e.currentTarget.value);
            setLoadedFile(null);
          }}
          error={parsed.problems.length > 0 ? 'Some keys would be refused: see below' : undefined}
        />
        <Group gap="sm" justify="space-between" align="center">
          <Group gap="sm">
            <FileButton onChange={(f) => void load(f)} accept=".txt,.csv,text/plain,text/csv">
              {(props) => (
                <Button variant="default" size="xs" leftSection={<IconFileUpload size={14} aria-hidden />} {...props}>
                  Load a .txt or .csv file
                </Button>
              )}
            </FileButton>
            {loadedFile && (
              <Text size="xs" c="dimmed">
                From {loadedFile}
              </Text>
            )}
          </Group>
          <Text size="sm" aria-live="polite">
            {n === 0 ? 'No keys yet' : `${formatNumber(n)} key${n === 1 ? '' : 's'}`}
            {parsed.duplicates > 0 &&
              ` · ${formatNumber(parsed.duplicates)} repeat${parsed.duplicates === 1 ? '' : 's'} left out`}
          </Text>
        </Group>
        {fileProblem && <ApiErrorAlert error={null} extra={[fileProblem]} title="The file was not loaded" />}
        {parsed.problems.length > 0 && (
          <Alert color="red" variant="light" icon={<IconAlertTriangle aria-hidden />} title="Fix these keys first">
            <List size="sm">
              {parsed.problems.slice(0, SHOWN_PROBLEMS).map((p) => (
                <List.Item key={p.line} style={{ overflowWrap: 'anywhere' }}>
                  Line {p.line} ({p.key.length > 40 ? `${p.key.slice(0, 40)}…` : p.key}): {p.message}
                </List.Item>
              ))}
            </List>
            {parsed.problems.length > SHOWN_PROBLEMS && (
              <Text size="sm" mt={4}>
                and {formatNumber(parsed.problems.length - SHOWN_PROBLEMS)} more
              </Text>
            )}
          </Alert>
        )}
        <Radio.Group
          label="A key whose ticket still works"
          description="A key whose ticket has expired gets a new one either way; a key whose ticket was used or disabled gets a new one too."
          value={batch.onDuplicate}
          onChange={(v) => batch.setOnDuplicate(v as OnDuplicate)}
        >
          <Stack gap="xs" mt="xs">
            <Radio value="skip" label="Keeps it: the key is skipped, and gets no new link" />
            <Radio value="reissue" label="Gets a new one: its current link stops working" />
          </Stack>
        </Radio.Group>
        <Text size="xs" c="dimmed">
          Each ticket works for {formatDuration(type.validityHours * 3600)} from now. Keys go {formatNumber(CHUNK_SIZE)}{' '}
          at a time; each group is issued whole or not at all.
        </Text>
        <Group justify="flex-end">
          <Button
            type="submit"
            leftSection={<IconSend size={16} aria-hidden />}
            disabled={n === 0 || parsed.problems.length > 0 || !type.enabled}
          >
            {n === 0 ? 'Issue tickets' : `Issue ${formatNumber(n)} ticket${n === 1 ? '' : 's'}`}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function BatchRun({ type, batch, run }: { type: TicketType; batch: IssueBatch; run: IssueRun }) {
  const [confirmReset, setConfirmReset] = useState(false);
  const { done, total, counts } = run.progress;
  const percent = total === 0 ? 100 : Math.round((done / total) * 100);
  const rest = total - done;
  const progressText = `${formatNumber(done)} of ${formatNumber(total)} keys`;

  return (
    <Stack gap="lg">
      <Paper withBorder p="md" radius="md" component="section" aria-labelledby="batch-progress-title">
        <Stack gap="sm">
          <Group justify="space-between" gap="sm">
            <Title order={2} size="h4" id="batch-progress-title">
              {run.status === 'running'
                ? 'Issuing…'
                : run.status === 'done'
                  ? 'Batch issued'
                  : run.status === 'stopped'
                    ? 'Batch stopped'
                    : 'Batch stopped by an error'}
            </Title>
            <Text size="sm" aria-live="polite">
              {progressText}
            </Text>
          </Group>
          <Progress.Root size="lg" radius="xl">
            <Progress.Section
              value={percent}
              color={run.status === 'failed' ? 'red' : run.status === 'done' ? 'green' : undefined}
              animated={run.status === 'running'}
              withAria={false}
              role="progressbar"
              aria-label="Keys issued"
              aria-valuemin={0}
              aria-valuemax={total}
              aria-valuenow={done}
              aria-valuetext={progressText}
            />
          </Progress.Root>
          <Text size="sm" c="dimmed">
            {countsText(counts)}
            {run.onDuplicate === 'reissue' ? ' · keys with a working ticket get a new one' : ''}
          </Text>
          {run.status === 'done' && (
            <Alert color="green" variant="light" icon={<IconCircleCheck aria-hidden />} title="Done">
              Every key was answered: {countsText(counts)}.
            </Alert>
          )}
          {run.status === 'failed' && (
            <ApiErrorAlert
              error={run.error}
              title="A group of keys was refused"
              extra={[
                `${formatNumber(done)} key${done === 1 ? ' was' : 's were'} answered before it; the other ${formatNumber(rest)} were not issued.`,
              ]}
            />
          )}
          {run.status === 'stopped' && (
            <Text size="sm">
              Stopped on request: {formatNumber(rest)} key{rest === 1 ? ' was' : 's were'} not sent.
            </Text>
          )}
          <Group gap="sm">
            {run.status === 'running' ? (
              <Button
                variant="default"
                size="xs"
                leftSection={<IconPlayerStop size={14} aria-hidden />}
                onClick={batch.stop}
                loading={run.stopping}
              >
                Stop after this group
              </Button>
            ) : (
              <>
                {rest > 0 && type.enabled && (
                  <Button size="xs" onClick={batch.resume}>
                    Send the other {formatNumber(rest)} key{rest === 1 ? '' : 's'}
                  </Button>
                )}
                <Button
                  size="xs"
                  variant="default"
                  onClick={() => (batch.unsaved ? setConfirmReset(true) : batch.reset())}
                >
                  Issue another batch
                </Button>
              </>
            )}
          </Group>
        </Stack>
      </Paper>
      <IssueResults type={type} run={run} onDownloaded={batch.markDownloaded} />
      <ConfirmModal
        opened={confirmReset}
        onClose={() => setConfirmReset(false)}
        title="Drop these links?"
        confirmLabel="Drop them"
        onConfirm={batch.reset}
      >
        The links of this batch are shown only here and were not downloaded. Once dropped, a lost link can only be
        replaced by reissuing its ticket.
      </ConfirmModal>
    </Stack>
  );
}
