import { Alert, Badge, Button, SegmentedControl, Stack, Text } from '@mantine/core';
import { IconDownload, IconKey } from '@tabler/icons-react';
import { useMemo, useState } from 'react';
import type { IssuedTicket, IssueOutcome, TicketType } from '../../api/types';
import { DataTable, type DataTableColumn } from '../../components/DataTable';
import { formatNumber } from '../../components/format';
import { CopyField } from '../applications/IssuerPanel';
import { OUTCOME_LABELS, resultsCsv, resultsFileName } from './issueBatch';
import type { IssueRun } from './useIssueBatch';

const PAGE_SIZE = 50;
const OUTCOME_COLORS: Record<IssueOutcome, string> = { issued: 'green', reissued: 'grape', skipped: 'gray' };
type Filter = 'all' | IssueOutcome;

/** Saves the results as a CSV file through a temporary link. */
function download(items: readonly IssuedTicket[], typeName: string) {
  const blob = new Blob([resultsCsv(items)], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = resultsFileName(typeName, new Date());
  document.body.append(a);
  a.click();
  a.remove();
  // Some browsers read the blob after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Each key's outcome and link, a page at a time, with the CSV of them all. */
export function IssueResults({
  type,
  run,
  onDownloaded,
}: {
  type: TicketType;
  run: IssueRun;
  onDownloaded: () => void;
}) {
  const items = run.progress.items;
  const [filter, setFilter] = useState<Filter>('all');
  const [page, setPage] = useState(1);
  const shown = useMemo(() => (filter === 'all' ? items : items.filter((i) => i.result === filter)), [items, filter]);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const current = Math.min(page, pages);
  const rows = shown.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE);
  const links = items.filter((i) => i.url).length;

  const columns = useMemo<DataTableColumn<IssuedTicket>[]>(
    () => [
      {
        key: 'foreignKey',
        header: 'Foreign key',
        hideable: false,
        render: (i) => (
          <Stack gap={4} align="flex-start">
            <Text size="sm" fw={500} style={{ overflowWrap: 'anywhere' }}>
              {i.foreignKey}
            </Text>
            {/* On a phone the outcome column is left out: its badge stacks here. */}
            <Badge variant="light" color={OUTCOME_COLORS[i.result]} hiddenFrom="sm">
              {OUTCOME_LABELS[i.result]}
            </Badge>
          </Stack>
        ),
      },
      {
        key: 'result',
        header: 'Outcome',
        hideable: false,
        secondary: true,
        render: (i) => (
          <Badge variant="light" color={OUTCOME_COLORS[i.result]}>
            {OUTCOME_LABELS[i.result]}
          </Badge>
        ),
      },
      {
        key: 'url',
        header: 'Link',
        hideable: false,
        width: '55%',
        render: (i) =>
          i.url ? (
            <CopyField label={`Link for ${i.foreignKey}`} value={i.url} hideLabel />
          ) : (
            <Text size="xs" c="dimmed">
              Its ticket still works: no new link
            </Text>
          ),
      },
      {
        key: 'ticketId',
        header: 'Ticket ID',
        secondary: true,
        defaultHidden: true,
        render: (i) => (
          <Text size="xs" ff="monospace">
            {i.ticketId}
          </Text>
        ),
      },
    ],
    [],
  );

  if (items.length === 0) return null;
  return (
    <Stack gap="sm" component="section" aria-label="Results">
      {links > 0 && (
        <Alert
          color="yellow"
          variant="light"
          icon={<IconKey aria-hidden />}
          title={run.downloaded ? 'Links downloaded' : 'Save the links now'}
        >
          <Text size="sm">
            {formatNumber(links)} link{links === 1 ? '' : 's'} to hand out, shown only on this page: Latchkey keeps only
            a hash of each. Email addresses are sent theirs; for other keys, download the CSV. A lost link can be
            replaced by reissuing its ticket.
          </Text>
          <Button
            mt="sm"
            size="xs"
            leftSection={<IconDownload size={14} aria-hidden />}
            onClick={() => {
              download(items, type.name);
              onDownloaded();
            }}
          >
            Download CSV
          </Button>
        </Alert>
      )}
      <DataTable
        id="ticket-issue-results"
        caption="Issued tickets"
        columns={columns}
        rows={rows}
        rowKey={(i) => i.ticketId}
        columnPicker={false}
        empty="No key has this outcome."
        minWidth={720}
        toolbar={
          <Stack gap={4}>
            <Text size="sm" fw={600} id="issue-results-filter">
              Outcome
            </Text>
            <SegmentedControl
              aria-labelledby="issue-results-filter"
              size="xs"
              value={filter}
              onChange={(v) => {
                setFilter(v as Filter);
                setPage(1);
              }}
              data={[
                { value: 'all', label: `All (${formatNumber(items.length)})` },
                ...(['issued', 'reissued', 'skipped'] as const).map((o) => ({
                  value: o,
                  label: `${OUTCOME_LABELS[o]} (${formatNumber(run.progress.counts[o])})`,
                })),
              ]}
            />
          </Stack>
        }
        page={{
          number: current,
          hasNext: current < pages,
          onNext: () => setPage(current + 1),
          onPrevious: () => setPage(Math.max(1, current - 1)),
        }}
      />
    </Stack>
  );
}
