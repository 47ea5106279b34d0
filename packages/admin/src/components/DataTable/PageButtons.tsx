import { Button, Group, type GroupProps, Text } from '@mantine/core';
import { IconChevronLeft, IconChevronRight } from '@tabler/icons-react';

/** "Page n" and the buttons to the previous and next page; nothing while there is one page only. */
export function PageButtons({
  number,
  hasNext,
  onPrevious,
  onNext,
  previousLabel = 'Previous',
  nextLabel = 'Next',
  mt,
}: {
  number: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  previousLabel?: string;
  nextLabel?: string;
  mt?: GroupProps['mt'];
}) {
  if (number <= 1 && !hasNext) return null;
  return (
    <Group justify="space-between" gap="sm" mt={mt}>
      <Text size="sm" c="dimmed" aria-live="polite">
        Page {number}
      </Text>
      <Group gap="xs">
        <Button
          variant="default"
          size="xs"
          leftSection={<IconChevronLeft size={14} aria-hidden />}
          onClick={onPrevious}
          disabled={number <= 1}
        >
          {previousLabel}
        </Button>
        <Button
          variant="default"
          size="xs"
          rightSection={<IconChevronRight size={14} aria-hidden />}
          onClick={onNext}
          disabled={!hasNext}
        >
          {nextLabel}
        </Button>
      </Group>
    </Group>
  );
}
