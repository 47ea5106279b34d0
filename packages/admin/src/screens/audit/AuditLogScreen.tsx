import {
  ActionIcon,
  Autocomplete,
  Button,
  Code,
  Collapse,
  Group,
  Loader,
  Menu,
  Paper,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
  VisuallyHidden,
} from '@mantine/core';
import { useDebouncedValue, useMediaQuery } from '@mantine/hooks';
import { IconChevronDown, IconChevronRight, IconClock, IconFilter, IconFilterOff } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Fragment, useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { AuditEvent, Page } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { PageButtons, PHONE_QUERY, useCursorPager } from '../../components/DataTable';
import { formatDateTime, formatRelative } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { currentSearchParams } from '../../components/useSearchParam';
import { AuditRefText, EventSummary, OutcomeBadge } from './AuditCells';
import { AuditEventDetails } from './AuditEventDetails';
import {
  type AuditFilter,
  actionProblem,
  actionSuggestions,
  auditFilterFromParams,
  auditFilterKey,
  auditFilterToParams,
  auditQuery,
  emptyAuditFilter,
  isFiltered,
  isoToLocalInput,
  localInputToIso,
  presetRange,
  rangeProblem,
  TIME_PRESETS,
} from './auditFilter';

const SUGGESTIONS = actionSuggestions();

type TextFilters = Pick<AuditFilter, 'actor' | 'action' | 'target'>;
const textOf = (f: TextFilters): TextFilters => ({ actor: f.actor, action: f.action, target: f.target });
const sameText = (a: TextFilters, b: TextFilters) =>
  a.actor.trim() === b.actor.trim() && a.action.trim() === b.action.trim() && a.target.trim() === b.target.trim();

/** The tenant's audit log: filter by actor, action, outcome, target and time; newest first; expand a row. */
export default function AuditLogScreen() {
  const api = useApi();
  const { slug } = useCurrentTenant();
  const [params, setParams] = useSearchParams();
  const filter = auditFilterFromParams(params);
  const setFilter = (patch: Partial<AuditFilter>) => {
    const latest = currentSearchParams();
    setParams(auditFilterToParams({ ...auditFilterFromParams(latest), ...patch }, latest), { replace: true });
  };

  // Typed filters reach the URL (and the server) once typing pauses; filters set elsewhere (a
  // row's shortcuts, clearing, back/forward) show in the boxes. `written` tells our own URL
  // writes apart, so that a write never overwrites what was typed since.
  const [text, setText] = useState<TextFilters>(() => textOf(filter));
  const [debounced] = useDebouncedValue(text, 300);
  const written = useRef<TextFilters>(textOf(filter));
  // biome-ignore lint/correctness/useExhaustiveDependencies: only the debounced text triggers this
  useEffect(() => {
    if (sameText(debounced, textOf(auditFilterFromParams(params)))) return;
    written.current = debounced;
    setFilter(debounced);
  }, [debounced]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the URL only
  useEffect(() => {
    const url = textOf(filter);
    if (sameText(url, written.current)) return;
    written.current = url;
    setText(url);
  }, [filter.actor, filter.action, filter.target]);

  const pager = useCursorPager(`${slug}|${auditFilterKey(filter)}`);
  const query = auditQuery(filter, pager.cursor);
  const events = useQuery<Page<AuditEvent>, ApiError>({
    queryKey: queryKeys.audit(slug, { ...filter, cursor: pager.cursor }),
    queryFn: ({ signal }) =>
      api.get<Page<AuditEvent>>(tenantPath(slug, '/audit-events'), { query: query ?? {}, signal }),
    enabled: query !== null,
    placeholderData: keepPreviousData,
  });
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const toggle = (id: string) =>
    setExpanded((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const phone = useMediaQuery(PHONE_QUERY) ?? false;
  const columnCount = phone ? 2 : 6;
  const [filtersOpen, setFiltersOpen] = useState(false);
  const activeFilters = (['actor', 'action', 'target', 'outcome', 'since', 'until'] as const).filter(
    (k) => filter[k],
  ).length;
  const actionError = actionProblem(text.action);
  const timeError = rangeProblem(filter.since, filter.until);
  const rows = events.data?.items;
  const fetching = events.isFetching && !events.isPending;

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change through the admin API and every sign-in, newest first. Refused attempts are recorded too, as failures."
      />
      <Paper withBorder radius="md" p="md" mb="md" component="section" aria-label="Filters">
        {phone && (
          <Button
            variant="subtle"
            size="compact-sm"
            px={0}
            mb={filtersOpen ? 'sm' : 0}
            onClick={() => setFiltersOpen((o) => !o)}
            aria-expanded={filtersOpen}
            aria-controls="audit-filters"
            leftSection={<IconFilter size={16} aria-hidden />}
            rightSection={
              <IconChevronDown
                size={14}
                aria-hidden
                style={{ transform: filtersOpen ? 'rotate(180deg)' : undefined, transition: 'transform 120ms' }}
              />
            }
          >
            Filters{activeFilters > 0 ? ` (${activeFilters} active)` : ''}
          </Button>
        )}
        <Collapse expanded={!phone || filtersOpen} id="audit-filters">
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm">
            <Autocomplete
              label="Action"
              description="Exact, or a prefix ending in *"
              placeholder="user.* or client.create"
              data={SUGGESTIONS}
              limit={12}
              value={text.action}
              onChange={(v) => setText((t) => ({ ...t, action: v }))}
              error={actionError}
              spellCheck={false}
            />
            <TextInput
              label="Actor ID"
              description="A user (usr_…) or API key (key_…)"
              placeholder="usr_…"
              value={text.actor}
              onChange={(e) => {
                const v = e.currentTarget.value;
                setText((t) => ({ ...t, actor: v }));
              }}
              spellCheck={false}
              autoComplete="off"
            />
            <TextInput
              label="Target ID"
              description="What it was done to"
              placeholder="usr_…, cli_…"
              value={text.target}
              onChange={(e) => {
                const v = e.currentTarget.value;
                setText((t) => ({ ...t, target: v }));
              }}
              spellCheck={false}
              autoComplete="off"
            />
            <Select
              label="Outcome"
              description="Failures are refused requests"
              data={[
                { value: '', label: 'Any outcome' },
                { value: 'success', label: 'Success' },
                { value: 'failure', label: 'Failure' },
              ]}
              value={filter.outcome}
              onChange={(v) => setFilter({ outcome: (v ?? '') as AuditFilter['outcome'] })}
              allowDeselect={false}
            />
            <TextInput
              type="datetime-local"
              label="From"
              description="Your local time, inclusive"
              value={isoToLocalInput(filter.since)}
              onChange={(e) => setFilter({ since: localInputToIso(e.currentTarget.value) })}
              error={timeError}
            />
            <TextInput
              type="datetime-local"
              label="To"
              description="Your local time, exclusive"
              value={isoToLocalInput(filter.until)}
              onChange={(e) => setFilter({ until: localInputToIso(e.currentTarget.value) })}
            />
          </SimpleGrid>
        </Collapse>
        <Group justify="space-between" mt="sm" gap="xs">
          <Menu position="bottom-start" shadow="md">
            <Menu.Target>
              <Button
                variant="default"
                size="xs"
                leftSection={<IconClock size={14} aria-hidden />}
                rightSection={<IconChevronDown size={14} aria-hidden />}
              >
                Quick range
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              {TIME_PRESETS.map((p) => (
                <Menu.Item key={p.value} onClick={() => setFilter(presetRange(p.value))}>
                  {p.label}
                </Menu.Item>
              ))}
              <Menu.Item onClick={() => setFilter({ since: '', until: '' })}>Any time</Menu.Item>
            </Menu.Dropdown>
          </Menu>
          <Group gap="xs">
            {fetching && <Loader size="xs" aria-label="Updating" />}
            <Button
              variant="subtle"
              size="xs"
              leftSection={<IconFilterOff size={14} aria-hidden />}
              disabled={!isFiltered(filter) && !text.action && !text.actor && !text.target}
              onClick={() => {
                setText({ actor: '', action: '', target: '' });
                setFilter(emptyAuditFilter);
              }}
            >
              Clear filters
            </Button>
          </Group>
        </Group>
      </Paper>

      {events.error && (
        <ApiErrorAlert
          error={events.error}
          title="Could not load the audit log"
          onRetry={() => void events.refetch()}
        />
      )}

      {/* On a phone: one column of stacked facts, never a table to scroll sideways. */}
      <Table.ScrollContainer minWidth={phone ? 0 : 820} type="native">
        <Table
          striped
          highlightOnHover
          verticalSpacing="xs"
          aria-busy={events.isFetching || undefined}
          style={{ opacity: events.isPlaceholderData ? 0.7 : 1, transition: 'opacity 120ms' }}
        >
          <VisuallyHidden component="caption">Audit events, newest first</VisuallyHidden>
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={40}>
                <VisuallyHidden>Details</VisuallyHidden>
              </Table.Th>
              {phone ? (
                <Table.Th>Event, actor and target</Table.Th>
              ) : (
                <>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Outcome</Table.Th>
                  <Table.Th>Actor</Table.Th>
                  <Table.Th>Target</Table.Th>
                </>
              )}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {events.isPending &&
              query !== null &&
              Array.from({ length: 6 }, (_, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
                <Table.Tr key={i}>
                  <Table.Td colSpan={columnCount}>
                    <Skeleton height={18} />
                  </Table.Td>
                </Table.Tr>
              ))}
            {(query === null || rows?.length === 0) && (
              <Table.Tr>
                <Table.Td colSpan={columnCount}>
                  <Text c="dimmed" ta="center" py="lg" size="sm">
                    {query === null
                      ? 'Fix the filters above to see events.'
                      : isFiltered(filter)
                        ? 'No event matches these filters.'
                        : 'Nothing recorded yet.'}
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
            {query !== null &&
              rows?.map((e) => {
                const open = expanded.has(e.id);
                const detailsId = `audit-details-${e.id}`;
                return (
                  <Fragment key={e.id}>
                    <Table.Tr>
                      <Table.Td>
                        <Tooltip label={open ? 'Hide details' : 'Show details'}>
                          <ActionIcon
                            variant="subtle"
                            size="sm"
                            onClick={() => toggle(e.id)}
                            aria-expanded={open}
                            aria-controls={open ? detailsId : undefined}
                            aria-label={`${open ? 'Hide' : 'Show'} details of ${e.action} ${formatRelative(e.occurredAt)}`}
                          >
                            <IconChevronRight
                              size={16}
                              aria-hidden
                              style={{ transform: open ? 'rotate(90deg)' : undefined, transition: 'transform 120ms' }}
                            />
                          </ActionIcon>
                        </Tooltip>
                      </Table.Td>
                      {phone ? (
                        <Table.Td style={{ overflowWrap: 'anywhere' }}>
                          <Stack gap={4}>
                            <Group gap={6}>
                              <Code>{e.action}</Code>
                              <OutcomeBadge outcome={e.outcome} />
                              <Text size="xs" c="dimmed" title={formatDateTime(e.occurredAt)}>
                                {formatRelative(e.occurredAt)}
                              </Text>
                            </Group>
                            <EventSummary event={e} />
                            <AuditRefText value={e.actor} />
                            {e.target && <AuditRefText value={e.target} />}
                          </Stack>
                        </Table.Td>
                      ) : (
                        <>
                          <Table.Td style={{ whiteSpace: 'nowrap' }} title={formatDateTime(e.occurredAt)}>
                            {formatRelative(e.occurredAt)}
                          </Table.Td>
                          <Table.Td>
                            <Code>{e.action}</Code>
                            <EventSummary event={e} />
                          </Table.Td>
                          <Table.Td>
                            <OutcomeBadge outcome={e.outcome} />
                          </Table.Td>
                          <Table.Td>
                            <AuditRefText value={e.actor} />
                          </Table.Td>
                          <Table.Td>{e.target ? <AuditRefText value={e.target} /> : '—'}</Table.Td>
                        </>
                      )}
                    </Table.Tr>
                    {open && (
                      <Table.Tr id={detailsId}>
                        <Table.Td />
                        <Table.Td colSpan={columnCount - 1}>
                          <AuditEventDetails
                            event={e}
                            onFilter={(patch) => {
                              setText((t) => ({ ...t, ...patch }));
                              setFilter(patch);
                            }}
                          />
                        </Table.Td>
                      </Table.Tr>
                    )}
                  </Fragment>
                );
              })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>

      <PageButtons
        number={pager.page}
        hasNext={Boolean(events.data?.nextCursor)}
        onPrevious={pager.previous}
        onNext={() => pager.next(events.data?.nextCursor ?? null)}
        previousLabel="Newer"
        nextLabel="Older"
        mt="sm"
      />
    </>
  );
}
