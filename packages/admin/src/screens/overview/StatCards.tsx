import { Paper, SimpleGrid, Skeleton, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { formatNumber } from '../../components/format';

export interface Stat {
  label: string;
  value: number | undefined;
  hint?: ReactNode;
  color?: string;
}

export function StatCards({ stats, loading }: { stats: Stat[]; loading?: boolean }) {
  return (
    <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md">
      {stats.map((s) => (
        <Paper key={s.label} withBorder p="md" radius="md">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            {s.label}
          </Text>
          {loading || s.value === undefined ? (
            <Skeleton height={30} mt={6} width="60%" />
          ) : (
            <Text fz={28} fw={700} c={s.color} lh={1.3}>
              {formatNumber(s.value)}
            </Text>
          )}
          {s.hint && (
            <Text size="xs" c="dimmed">
              {s.hint}
            </Text>
          )}
        </Paper>
      ))}
    </SimpleGrid>
  );
}

export const signInSeries = [
  { key: 'signIns', label: 'Sign-ins', color: 'var(--mantine-color-blue-6)' },
  { key: 'failures', label: 'Failed sign-ins', color: 'var(--mantine-color-red-6)' },
];

/** Failure share as a hint: "12% of attempts". */
export function failureHint(signIns: number | undefined, failures: number | undefined): string | undefined {
  if (signIns === undefined || failures === undefined) return undefined;
  const total = signIns + failures;
  if (total === 0) return 'No attempts';
  return `${Math.round((failures / total) * 100)}% of attempts`;
}
