import { Badge } from '@mantine/core';
import type { ClientKind } from '../../api/types';

const COLORS: Record<ClientKind, string> = { web: 'blue', spa: 'grape', native: 'orange', service: 'teal' };
const SHORT: Record<ClientKind, string> = { web: 'Web', spa: 'SPA', native: 'Native', service: 'Service' };

export function KindBadge({ kind }: { kind: ClientKind }) {
  return (
    <Badge
      color={COLORS[kind]}
      variant="light"
      style={{ textTransform: 'none', flexShrink: 0, minWidth: 'max-content' }}
    >
      {SHORT[kind]}
    </Badge>
  );
}

export function kindShortLabel(kind: ClientKind): string {
  return SHORT[kind];
}
