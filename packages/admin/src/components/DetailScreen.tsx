import { Anchor, Breadcrumbs, Skeleton, Stack, Text } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiErrorAlert } from './ApiErrorAlert';
import { PageHeader } from './PageHeader';

/** Breadcrumbs of one item's screen: back to its list, then the item. */
export function DetailCrumbs({ to, list, current }: { to: string; list: string; current: string }) {
  return (
    <Breadcrumbs>
      <Anchor component={Link} to={to} size="sm">
        {list}
      </Anchor>
      <Text size="sm" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
        {current}
      </Text>
    </Breadcrumbs>
  );
}

/**
 * One item's screen before it can show the item (`query` failed or is loading): why it could not
 * load it, with a retry, or placeholders.
 */
export function DetailFallback({
  crumbs,
  query,
  unavailable,
}: {
  crumbs: ReactNode;
  query: UseQueryResult<unknown, unknown>;
  /** The title when it failed, like "User not available". */
  unavailable: string;
}) {
  if (query.error) {
    return (
      <>
        <PageHeader above={crumbs} title={unavailable} />
        <ApiErrorAlert error={query.error} onRetry={() => void query.refetch()} />
      </>
    );
  }
  return (
    <Stack>
      {crumbs}
      <Skeleton h={36} w={320} />
      <Skeleton h={300} />
    </Stack>
  );
}
