/**
 * Cells of the audit tables (the log and a user's activity): an actor or target as its kind,
 * then its email or name linking to its screen (its id when it is gone or not this tenant's);
 * the outcome; the event's one-line summary.
 */
import { Anchor, Badge, Text } from '@mantine/core';
import { useCallback } from 'react';
import { Link } from 'react-router';
import type { AuditEvent, AuditRef } from '../../api/types';
import { tenantBase } from '../../app/tenant';
import { useAuthClient } from '../../auth/AuthProvider';
import { kindName, refLabel, refLink, summary } from './auditText';

/** `tenantBase` for `refLink`: any tenant in the system console, only its own in a tenant console. */
export function useRefLinkBase(): (slug: string) => string | null {
  const { scope } = useAuthClient();
  return useCallback(
    (slug: string) => (scope.kind === 'system' || slug === scope.authTenant ? tenantBase(scope, slug) : null),
    [scope],
  );
}

export function AuditRefText({ value, showKind = true }: { value: AuditRef; showKind?: boolean }) {
  const base = useRefLinkBase();
  const link = refLink(value, base);
  const label = refLabel(value);
  const named = Boolean(value.name);
  return (
    <div style={{ minWidth: 0 }}>
      {showKind && (
        <Text size="xs" c="dimmed">
          {kindName(value.type)}
          {value.id && !named ? ' (not found)' : ''}
        </Text>
      )}
      {link ? (
        <Anchor component={Link} to={link} size="sm" title={value.id ?? undefined}>
          {label}
        </Anchor>
      ) : (
        (named || value.id) && (
          <Text size="sm" ff={named ? undefined : 'monospace'} title={value.id ?? undefined}>
            {label}
          </Text>
        )
      )}
    </div>
  );
}

export function OutcomeBadge({ outcome }: { outcome: AuditEvent['outcome'] }) {
  return (
    <Badge color={outcome === 'success' ? 'green' : 'red'} variant="light" style={{ minWidth: 'max-content' }}>
      {outcome}
    </Badge>
  );
}

/** The event's one-line summary under its action, when there is one. */
export function EventSummary({ event }: { event: AuditEvent }) {
  const text = summary(event);
  return text ? (
    <Text size="xs" c="dimmed" mt={2}>
      {text}
    </Text>
  ) : null;
}
