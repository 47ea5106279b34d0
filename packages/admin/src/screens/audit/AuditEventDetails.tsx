import { Anchor, Button, Code, Group, SimpleGrid, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { AuditEvent } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';

const fullTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });

/** Where a target can be opened in the console. */
export function targetLink(target: AuditEvent['target'], path: (...s: string[]) => string): string | null {
  if (!target) return null;
  if (target.type === 'user') return path('users', target.id);
  if (target.type === 'client') return path('applications', target.id);
  return null;
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={0} style={{ minWidth: 0 }}>
      <Text size="xs" c="dimmed" component="dt">
        {label}
      </Text>
      <Text size="sm" component="dd" m={0} style={{ overflowWrap: 'anywhere' }}>
        {children}
      </Text>
    </Stack>
  );
}

/** Everything recorded about one event, with shortcuts to filter by its actor or target. */
export function AuditEventDetails({
  event,
  onFilter,
}: {
  event: AuditEvent;
  onFilter: (patch: { actor?: string; target?: string; action?: string }) => void;
}) {
  const { path } = useCurrentTenant();
  const link = targetLink(event.target, path);
  return (
    // In the horizontally scrolling table of a phone, the details stay within the visible width.
    <Stack gap="sm" py="xs" style={{ position: 'sticky', left: 0, maxWidth: 'calc(100vw - 80px)' }}>
      <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm" component="dl" m={0}>
        <Fact label="Time">
          {fullTime.format(new Date(event.occurredAt))}
          <Text size="xs" c="dimmed" ff="monospace" component="span" display="block">
            {event.occurredAt}
          </Text>
        </Fact>
        <Fact label="Actor">
          <Code>{event.actor.type}</Code> {event.actor.id ? <Code>{event.actor.id}</Code> : null}
        </Fact>
        <Fact label="Target">
          {event.target ? (
            <>
              <Code>{event.target.type}</Code>{' '}
              {link ? (
                <Anchor component={Link} to={link} size="sm" ff="monospace">
                  {event.target.id}
                </Anchor>
              ) : (
                <Code>{event.target.id}</Code>
              )}
            </>
          ) : (
            '—'
          )}
        </Fact>
        <Fact label="Client IP">{event.ip ?? '—'}</Fact>
        <Fact label="Request ID">{event.requestId ? <Code>{event.requestId}</Code> : '—'}</Fact>
        <Fact label="Event ID">
          <Code>{event.id}</Code>
        </Fact>
      </SimpleGrid>
      <div>
        <Text size="xs" c="dimmed" mb={4}>
          Details
        </Text>
        {event.details ? (
          <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word', maxHeight: 320, overflow: 'auto' }}>
            {JSON.stringify(event.details, null, 2)}
          </Code>
        ) : (
          <Text size="sm" c="dimmed">
            None recorded.
          </Text>
        )}
      </div>
      <Group gap="xs">
        {event.actor.id && (
          <Button size="compact-xs" variant="light" onClick={() => onFilter({ actor: event.actor.id ?? '' })}>
            Events by this actor
          </Button>
        )}
        {event.target && (
          <Button size="compact-xs" variant="light" onClick={() => onFilter({ target: event.target?.id ?? '' })}>
            Events about this target
          </Button>
        )}
        <Button size="compact-xs" variant="light" onClick={() => onFilter({ action: event.action })}>
          Only {event.action}
        </Button>
      </Group>
    </Stack>
  );
}
