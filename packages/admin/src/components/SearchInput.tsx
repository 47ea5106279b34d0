import { TextInput, type TextInputProps } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { useEffect, useState } from 'react';

/**
 * A search box that reports what was typed once typing pauses (250 ms). It keeps its own text,
 * so keystrokes re-render only the box, not the list below it.
 */
export function SearchInput({
  value,
  onSearch,
  delay = 250,
  ...props
}: Omit<TextInputProps, 'value' | 'onChange'> & { value: string; onSearch: (value: string) => void; delay?: number }) {
  const [text, setText] = useState(value);
  const report = useDebouncedCallback(onSearch, delay);
  // Follow the value when it changes from outside (back button, a link).
  useEffect(() => {
    setText((current) => (current.trim() === value.trim() ? current : value));
  }, [value]);
  return (
    <TextInput
      type="search"
      leftSection={<IconSearch size={16} aria-hidden />}
      {...props}
      value={text}
      onChange={(e) => {
        setText(e.currentTarget.value);
        report(e.currentTarget.value);
      }}
    />
  );
}
