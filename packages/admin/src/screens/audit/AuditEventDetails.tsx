import { Button, Code, Group, SimpleGrid, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { AuditEvent } from '../../api/types';
import { AuditRefText } from './AuditCells';
import { detailFacts, summary } from './auditText';

const fullTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });

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
  const facts = detailFacts(event.details);
  const sentence = summary(event);
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
          <AuditRefText value={event.actor} />
          {event.actor.id && event.actor.name && <Code>{event.actor.id}</Code>}
        </Fact>
        <Fact label="Target">
          {event.target ? (
            <>
              <AuditRefText value={event.target} />
              {event.target.name && <Code>{event.target.id}</Code>}
            </>
          ) : (
            <Text size="sm" c="dimmed" component="span">
              {event.outcome === 'failure' ? 'None named: a creation, or a tenant out of reach' : 'None'}
            </Text>
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
        {sentence && (
          <Text size="sm" mb={4}>
            {sentence}
          </Text>
        )}
        {facts.length > 0 ? (
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="xs" component="dl" m={0} aria-label="Details">
            {facts.map((f) => (
              <Fact key={f.label} label={f.label}>
                {f.value}
              </Fact>
            ))}
          </SimpleGrid>
        ) : (
          !sentence && (
            <Text size="sm" c="dimmed">
              None recorded.
            </Text>
          )
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
