import { Anchor, Button, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { IconSettings, IconUsers } from '@tabler/icons-react';
import { Link } from 'react-router';
import { useTenantStatsQuery } from '../../api/queries';
import { useCurrentTenant } from '../../app/tenant';
import { ApiErrorAlert } from '../../components/ApiErrorAlert';
import { PageHeader } from '../../components/PageHeader';
import { TimeSeriesChart } from '../../components/TimeSeriesChart';
import { failureHint, StatCards, signInSeries } from './StatCards';

/** One tenant at a glance: users, sessions, and sign-ins over the last 24 hours. */
export default function TenantOverviewScreen() {
  const { slug, tenant, path } = useCurrentTenant();
  const stats = useTenantStatsQuery(slug);
  const s = stats.data;
  return (
    <>
      <PageHeader
        title={tenant?.displayName ?? slug}
        description={
          <>
            Tenant{' '}
            <Text span ff="monospace">
              {slug}
            </Text>{' '}
            · overview of the last 24 hours
          </>
        }
        actions={
          <>
            <Button
              component={Link}
              to={path('users')}
              variant="default"
              leftSection={<IconUsers size={16} aria-hidden />}
            >
              Users
            </Button>
            <Button
              component={Link}
              to={path('settings')}
              variant="default"
              leftSection={<IconSettings size={16} aria-hidden />}
            >
              Settings
            </Button>
          </>
        }
      />
      <Stack gap="lg">
        {stats.error && (
          <ApiErrorAlert error={stats.error} title="Could not load the numbers" onRetry={() => void stats.refetch()} />
        )}
        <StatCards
          loading={stats.isPending}
          stats={[
            { label: 'Users', value: s?.users },
            { label: 'Active sessions', value: s?.activeSessions },
            { label: 'Sign-ins (24 h)', value: s?.signIns24h },
            {
              label: 'Failed sign-ins (24 h)',
              value: s?.failures24h,
              color: s && s.failures24h > 0 ? 'red.7' : undefined,
              hint: failureHint(s?.signIns24h, s?.failures24h),
            },
          ]}
        />
        <Paper withBorder p="md" radius="md">
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">
              Sign-ins per hour
            </Title>
            <Anchor component={Link} to={path('audit')} size="sm">
              Audit log
            </Anchor>
          </Group>
          {s && (
            <TimeSeriesChart
              title={`Sign-ins and failed sign-ins per hour in ${slug}, last 24 hours`}
              series={signInSeries}
              data={s.series.map((p) => ({ time: p.hour, values: { signIns: p.signIns, failures: p.failures } }))}
            />
          )}
        </Paper>
      </Stack>
    </>
  );
}
