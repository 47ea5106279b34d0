import { ActionIcon, Tooltip } from '@mantine/core';
import type { TablerIcon } from '@tabler/icons-react';

/** An icon button of a table row, with a tooltip saying what it does and an accessible name saying to what. */
export function RowAction({
  tooltip,
  label,
  icon: IconComponent,
  color,
  onClick,
}: {
  tooltip: string;
  /** The accessible name, like "Delete role support". */
  label: string;
  icon: TablerIcon;
  color?: string;
  onClick: () => void;
}) {
  return (
    <Tooltip label={tooltip}>
      <ActionIcon variant="subtle" color={color} aria-label={label} onClick={onClick}>
        <IconComponent size={16} aria-hidden />
      </ActionIcon>
    </Tooltip>
  );
}
