import { Anchor, Paper, Stack, Text, Title } from '@mantine/core';
import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Page, Tenant, TenantStats } from '../../api/types';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { cursorPage, DataTable, type DataTableColumn, useCursorPager } from '../../components/DataTable';
import { formatNumber } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { TimeSeriesChart } from '../../components/TimeSeriesChart';
import { failureHint, StatCards, signInSeries } from './StatCards';

interface Row {
  tenant: Tenant;
  stats: TenantStats | undefined;
  error: ApiError | null;
}

const PAGE = 25;

/** Sums hourly series of several tenants (all cover the same 24 hours). */
export function sumSeries(all: TenantStats[]): { time: string; values: { signIns: number; failures: number } }[] {
  const byHour = new Map<string, { signIns: number; failures: number }>();
  for (const s of all) {
    for (const p of s.series) {
      const slot = byHour.get(p.hour) ?? { signIns: 0, failures: 0 };
      slot.signIns += p.signIns;
      slot.failures += p.failures;
      byHour.set(p.hour, slot);
    }
  }
  return [...byHour.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([time, values]) => ({ time, values }));
}

/** The system console's start: every tenant's numbers, and sign-ins over 24 hours across them. */
export default function SystemOverviewScreen() {
  const api = useApi();
  const pager = useCursorPager('overview');
  const tenants = useQuery<Page<Tenant>, ApiError>({
    queryKey: queryKeys.tenants({ overview: true, cursor: pager.cursor }),
    queryFn: ({ signal }) =>
      api.get<Page<Tenant>>('/v1/tenants', { query: { limit: PAGE, cursor: pager.cursor }, signal }),
    placeholderData: keepPreviousData,
  });
  const items = tenants.data?.items ?? [];
  const stats = useQueries({
    queries: items.map((t) => ({
      queryKey: queryKeys.stats(t.slug),
      queryFn: ({ signal }: { signal: AbortSignal }) => api.get<TenantStats>(tenantPath(t.slug, '/stats'), { signal }),
      staleTime: 30_000,
      refetchInterval: 60_000,
    })),
  });
  const rows: Row[] = items.map((tenant, i) => ({
    tenant,
    stats: stats[i]?.data,
    error: (stats[i]?.error as ApiError | null) ?? null,
  }));
  const loaded = rows.flatMap((r) => (r.stats ? [r.stats] : []));
  const total = (f: (s: TenantStats) => number) =>
    loaded.length === 0 ? undefined : loaded.reduce((a, s) => a + f(s), 0);
  const series = sumSeries(loaded);
  const statsPending = items.length > 0 && loaded.length === 0 && stats.some((s) => s.isPending);
  const scopeNote =
    tenants.data?.nextCursor || pager.page > 1 ? `the ${items.length} tenants on this page` : 'all tenants';

  const columns = useMemo<DataTableColumn<Row>[]>(
    () => [
      {
        key: 'tenant',
        header: 'Tenant',
        hideable: false,
        render: (r) => (
          <Stack gap={0}>
            <Anchor component={Link} to={`/tenants/${r.tenant.slug}`} fw={500}>
              {r.tenant.displayName}
            </Anchor>
            <Text size="xs" c="dimmed" ff="monospace">
              {r.tenant.slug}
            </Text>
          </Stack>
        ),
      },
      { key: 'users', header: 'Users', align: 'right', render: (r) => statCell(r, (s) => s.users) },
      {
        key: 'sessions',
        secondary: true,
        header: 'Active sessions',
        align: 'right',
        render: (r) => statCell(r, (s) => s.activeSessions),
      },
      { key: 'signIns', header: 'Sign-ins (24 h)', align: 'right', render: (r) => statCell(r, (s) => s.signIns24h) },
      {
        key: 'failures',
        secondary: true,
        header: 'Failures (24 h)',
        align: 'right',
        render: (r) =>
          r.stats ? (
            <Text
              size="sm"
              c={r.stats.failures24h > 0 ? 'red.7' : undefined}
              fw={r.stats.failures24h > 0 ? 600 : undefined}
            >
              {formatNumber(r.stats.failures24h)}
            </Text>
          ) : (
            statCell(r, (s) => s.failures24h)
          ),
      },
    ],
    [],
  );

  return (
    <>
      <PageHeader title="Overview" description={`Activity over the last 24 hours across ${scopeNote}.`} />
      <Stack gap="lg">
        <StatCards
          loading={tenants.isPending || statsPending}
          stats={[
            { label: 'Users', value: total((s) => s.users) },
            { label: 'Active sessions', value: total((s) => s.activeSessions) },
            { label: 'Sign-ins (24 h)', value: total((s) => s.signIns24h) },
            {
              label: 'Failed sign-ins (24 h)',
              value: total((s) => s.failures24h),
              hint: failureHint(
                total((s) => s.signIns24h),
                total((s) => s.failures24h),
              ),
            },
          ]}
        />
        <Paper withBorder p="md" radius="md">
          <Title order={2} size="h4" mb="sm">
            Sign-ins per hour
          </Title>
          {loaded.length > 0 ? (
            <TimeSeriesChart
              title={`Sign-ins and failed sign-ins per hour across ${scopeNote}, last 24 hours`}
              series={signInSeries}
              data={series}
            />
          ) : (
            <Text c="dimmed" size="sm">
              {statsPending || tenants.isPending ? 'Loading…' : 'No data yet.'}
            </Text>
          )}
        </Paper>
        <Paper withBorder p="md" radius="md">
          <Title order={2} size="h4" mb="sm">
            Tenants
          </Title>
          {tenants.error && <ApiErrorAlert error={tenants.error} onRetry={() => void tenants.refetch()} />}
          <DataTable
            id="overview-tenants"
            caption="Tenants and their activity over the last 24 hours"
            columns={columns}
            rows={tenants.data ? rows : undefined}
            rowKey={(r) => r.tenant.slug}
            loading={tenants.isPending}
            fetching={tenants.isPlaceholderData}
            minWidth={560}
            page={cursorPage(tenants, pager)}
            empty="No tenants yet."
          />
        </Paper>
      </Stack>
    </>
  );
}

function statCell(r: Row, f: (s: TenantStats) => number) {
  if (r.error) {
    return (
      <Text size="sm" c="dimmed" title={r.error.message}>
        n/a
      </Text>
    );
  }
  if (!r.stats) {
    return (
      <Text size="sm" c="dimmed">
        …
      </Text>
    );
  }
  return <Text size="sm">{formatNumber(f(r.stats))}</Text>;
}
