import {
  Button,
  Checkbox,
  Group,
  Loader,
  Popover,
  Skeleton,
  Stack,
  Table,
  Text,
  UnstyledButton,
  VisuallyHidden,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { IconArrowDown, IconArrowsSort, IconArrowUp, IconColumns } from '@tabler/icons-react';
import { memo, type ReactNode, useCallback, useMemo, useRef } from 'react';
import { ApiErrorAlert } from '../ApiErrorAlert';
import { type ColumnPrefsColumn, useColumnPrefs } from './columnPrefs';
import { PageButtons } from './PageButtons';

export interface DataTableColumn<T> extends ColumnPrefsColumn {
  header: string;
  render: (row: T) => ReactNode;
  /** The API's sort field for this column; its header then sorts (asc, then desc). */
  sortField?: string;
  align?: 'left' | 'right' | 'center';
  width?: number | string;
  /** Left out on phones (below {@link PHONE_QUERY}), so that the table fits without scrolling sideways. */
  secondary?: boolean;
}

/** Below this width the table shows only its primary columns, and never scrolls sideways. */
export const PHONE_QUERY = '(max-width: 48em)';

/** The columns shown: the admin's choice, less the secondary ones on a phone. */
export function shownColumns<C extends { key: string; secondary?: boolean }>(
  columns: readonly C[],
  visible: readonly string[],
  phone: boolean,
): C[] {
  return columns.filter((c) => visible.includes(c.key) && !(phone && c.secondary));
}

export interface DataTablePage {
  number: number;
  hasNext: boolean;
  onNext: () => void;
  onPrevious: () => void;
}

export interface DataTableProps<T> {
  /** Names the table for its remembered column choice (`latchkey.admin.columns.{id}`). */
  id: string;
  /** The table's accessible name. */
  caption: string;
  columns: readonly DataTableColumn<T>[];
  rows: readonly T[] | undefined;
  rowKey: (row: T) => string;
  /** Names a row for its selection checkbox ("Select alice@example.com"). */
  rowLabel?: (row: T) => string;
  /** First load: skeleton rows. */
  loading?: boolean;
  /** A refetch with the previous rows still shown. */
  fetching?: boolean;
  error?: unknown;
  onRetry?: () => void;
  /** `field` or `-field`. */
  sort?: string;
  onSortChange?: (sort: string) => void;
  selection?: ReadonlySet<string>;
  onSelectionChange?: (selection: Set<string>) => void;
  page?: DataTablePage;
  /** Shown when there are no rows. */
  empty?: ReactNode;
  /** Filters and bulk actions, left of the column picker. */
  toolbar?: ReactNode;
  columnPicker?: boolean;
  /** Horizontal scroll below this width, on screens wider than a phone (phones drop secondary columns instead). */
  minWidth?: number;
}

/** Server-paged, server-sorted table with selection and a remembered column picker. */
export function DataTable<T>(props: DataTableProps<T>) {
  const {
    id,
    caption,
    columns,
    rows,
    rowKey,
    rowLabel,
    loading,
    fetching,
    error,
    onRetry,
    sort,
    onSortChange,
    selection,
    onSelectionChange,
    page,
    empty,
    toolbar,
    columnPicker = true,
    minWidth = 640,
  } = props;
  const { visible, setVisible, reset } = useColumnPrefs(id, columns);
  const phone = useMediaQuery(PHONE_QUERY) ?? false;
  const shown = useMemo(() => shownColumns(columns, visible, phone), [columns, visible, phone]);
  const pickable = useMemo(() => (phone ? columns.filter((c) => !c.secondary) : columns), [columns, phone]);
  const selectable = Boolean(selection && onSelectionChange);
  const pageKeys = (rows ?? []).map(rowKey);
  const selectedOnPage = pageKeys.filter((k) => selection?.has(k)).length;
  const allSelected = pageKeys.length > 0 && selectedOnPage === pageKeys.length;

  const toggleAll = () => {
    if (!onSelectionChange) return;
    onSelectionChange(allSelected ? new Set() : new Set(pageKeys));
  };
  // Stable across renders (reads the latest selection through a ref), so memoised rows stay put.
  const latest = useRef({ selection, onSelectionChange });
  latest.current = { selection, onSelectionChange };
  const toggleOne = useCallback((key: string) => {
    const { selection: current, onSelectionChange: change } = latest.current;
    if (!change || !current) return;
    const next = new Set(current);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    change(next);
  }, []);

  const colSpan = shown.length + (selectable ? 1 : 0);

  return (
    <Stack gap="sm">
      {(toolbar || columnPicker) && (
        <Group justify="space-between" align="flex-end" gap="sm" wrap="wrap">
          <Group gap="sm" align="flex-end" wrap="wrap" style={{ flex: '1 1 auto' }}>
            {toolbar}
          </Group>
          <Group gap="xs">
            {fetching && !loading && <Loader size="xs" aria-label="Updating" />}
            {columnPicker && (
              <ColumnPicker columns={pickable} visible={visible} onToggle={setVisible} onReset={reset} />
            )}
          </Group>
        </Group>
      )}
      {Boolean(error) && <ApiErrorAlert error={error} title="Could not load the list" onRetry={onRetry} />}
      <Table.ScrollContainer minWidth={phone ? 0 : minWidth} type="native">
        <Table
          striped
          highlightOnHover
          verticalSpacing="xs"
          aria-busy={loading || fetching ? true : undefined}
          style={{ opacity: fetching && !loading ? 0.7 : 1, transition: 'opacity 120ms' }}
        >
          <VisuallyHidden component="caption">{caption}</VisuallyHidden>
          <Table.Thead>
            <Table.Tr>
              {selectable && (
                <Table.Th w={40}>
                  <Checkbox
                    aria-label="Select all rows on this page"
                    checked={allSelected}
                    indeterminate={selectedOnPage > 0 && !allSelected}
                    onChange={toggleAll}
                    disabled={pageKeys.length === 0}
                  />
                </Table.Th>
              )}
              {shown.map((c) => (
                <Table.Th
                  key={c.key}
                  style={{ width: c.width, textAlign: c.align, whiteSpace: 'nowrap' }}
                  aria-sort={ariaSort(sort, c.sortField)}
                >
                  {c.sortField && onSortChange ? (
                    <SortButton
                      label={c.header}
                      direction={sortDirection(sort, c.sortField)}
                      onClick={() => onSortChange(nextSort(sort, c.sortField as string))}
                    />
                  ) : (
                    c.header
                  )}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {loading &&
              !rows &&
              Array.from({ length: 5 }, (_, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
                <Table.Tr key={i}>
                  <Table.Td colSpan={colSpan}>
                    <Skeleton height={18} />
                  </Table.Td>
                </Table.Tr>
              ))}
            {rows?.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={colSpan}>
                  <Text c="dimmed" ta="center" py="lg" size="sm">
                    {empty ?? 'Nothing here yet.'}
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
            {rows?.map((row) => {
              const key = rowKey(row);
              return (
                <DataRow
                  key={key}
                  row={row}
                  rowKey={key}
                  label={rowLabel ? rowLabel(row) : key}
                  columns={shown}
                  selectable={selectable}
                  selected={selection?.has(key) ?? false}
                  onToggle={toggleOne}
                  wrapAnywhere={phone}
                />
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {page && <PageButtons {...page} />}
    </Stack>
  );
}

interface DataRowProps<T> {
  row: T;
  rowKey: string;
  label: string;
  columns: readonly DataTableColumn<T>[];
  selectable: boolean;
  selected: boolean;
  onToggle: (key: string) => void;
  /** On a phone, long emails and ids wrap rather than widen the table. */
  wrapAnywhere: boolean;
}

/**
 * One row, memoised: a filter change first re-renders the table with the rows it already shows
 * (kept while the next page loads), and those should cost nothing.
 */
const DataRow = memo(function DataRow<T>({
  row,
  rowKey,
  label,
  columns,
  selectable,
  selected,
  onToggle,
  wrapAnywhere,
}: DataRowProps<T>) {
  return (
    <Table.Tr bg={selected ? 'var(--mantine-color-blue-light)' : undefined}>
      {selectable && (
        <Table.Td>
          <Checkbox aria-label={`Select ${label}`} checked={selected} onChange={() => onToggle(rowKey)} />
        </Table.Td>
      )}
      {columns.map((c) => (
        <Table.Td key={c.key} style={{ textAlign: c.align, overflowWrap: wrapAnywhere ? 'anywhere' : undefined }}>
          {c.render(row)}
        </Table.Td>
      ))}
    </Table.Tr>
  );
}) as <T>(props: DataRowProps<T>) => ReactNode;

export function sortDirection(sort: string | undefined, field: string): 'asc' | 'desc' | null {
  if (sort === field) return 'asc';
  if (sort === `-${field}`) return 'desc';
  return null;
}

/** A header click: ascending first, then it flips. */
export function nextSort(sort: string | undefined, field: string): string {
  return sort === field ? `-${field}` : field;
}

function ariaSort(sort: string | undefined, field: string | undefined) {
  if (!field) return undefined;
  const d = sortDirection(sort, field);
  return d === 'asc' ? 'ascending' : d === 'desc' ? 'descending' : 'none';
}

function SortButton({
  label,
  direction,
  onClick,
}: {
  label: string;
  direction: 'asc' | 'desc' | null;
  onClick: () => void;
}) {
  const Icon = direction === 'asc' ? IconArrowUp : direction === 'desc' ? IconArrowDown : IconArrowsSort;
  return (
    <UnstyledButton onClick={onClick} style={{ fontWeight: 'inherit', fontSize: 'inherit', position: 'relative' }}>
      <Group gap={4} wrap="nowrap">
        <span>{label}</span>
        <Icon size={14} aria-hidden style={{ opacity: direction ? 1 : 0.4 }} />
        <VisuallyHidden>
          {direction === 'asc' ? '(sorted ascending)' : direction === 'desc' ? '(sorted descending)' : '(sortable)'}
        </VisuallyHidden>
      </Group>
    </UnstyledButton>
  );
}

function ColumnPicker<T>({
  columns,
  visible,
  onToggle,
  onReset,
}: {
  columns: readonly DataTableColumn<T>[];
  visible: string[];
  onToggle: (key: string, show: boolean) => void;
  onReset: () => void;
}) {
  return (
    <Popover position="bottom-end" shadow="md" withinPortal trapFocus>
      <Popover.Target>
        <Button variant="default" size="xs" leftSection={<IconColumns size={14} aria-hidden />}>
          Columns
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="xs" role="group" aria-label="Visible columns">
          {columns.map((c) => (
            <Checkbox
              key={c.key}
              label={c.header}
              checked={visible.includes(c.key)}
              disabled={c.hideable === false}
              onChange={(e) => onToggle(c.key, e.currentTarget.checked)}
            />
          ))}
          <Button variant="subtle" size="compact-xs" onClick={onReset}>
            Reset to default
          </Button>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}
