import { NativeSelect, NumberInput } from '@mantine/core';
import { type ReactNode, useRef, useState } from 'react';

export const DURATION_UNITS = [
  { value: 'days', label: 'days', seconds: 86_400 },
  { value: 'hours', label: 'hours', seconds: 3_600 },
  { value: 'minutes', label: 'minutes', seconds: 60 },
  { value: 'seconds', label: 'seconds', seconds: 1 },
] as const;
export type DurationUnit = (typeof DURATION_UNITS)[number]['value'];

const unitSeconds = (u: DurationUnit) => DURATION_UNITS.find((x) => x.value === u)?.seconds ?? 1;

/** The largest unit that divides `seconds` exactly: 86400 → days, 5400 → minutes. */
export function bestUnit(seconds: number, allowed: readonly DurationUnit[] = ['days', 'hours', 'minutes', 'seconds']) {
  for (const u of DURATION_UNITS) {
    if (allowed.includes(u.value) && seconds !== 0 && seconds % u.seconds === 0) return u.value;
  }
  return allowed[allowed.length - 1] ?? 'seconds';
}

/**
 * A duration stored in seconds, edited as an amount and a unit ("14 days" rather than 1209600).
 */
export function DurationInput({
  label,
  description,
  value,
  onChange,
  error,
  units = ['days', 'hours', 'minutes', 'seconds'],
  min,
  max,
  onBlur,
  onFocus,
}: {
  label: ReactNode;
  description?: ReactNode;
  value?: number | '';
  onChange: (seconds: number | '') => void;
  error?: ReactNode;
  units?: readonly DurationUnit[];
  /** Seconds. */
  min?: number;
  max?: number;
  onBlur?: () => void;
  onFocus?: () => void;
}) {
  const [unit, setUnit] = useState<DurationUnit>(() => bestUnit(typeof value === 'number' ? value : 0, units));
  // A value set from outside (discard, reload) picks its own unit again; typing keeps the admin's.
  const emitted = useRef<number | '' | undefined>(value);
  const [seen, setSeen] = useState(value);
  if (value !== seen) {
    setSeen(value);
    if (value !== emitted.current && typeof value === 'number') setUnit(bestUnit(value, units));
  }
  const emit = (seconds: number | '') => {
    emitted.current = seconds;
    onChange(seconds);
  };
  const size = unitSeconds(unit);
  const amount = typeof value === 'number' ? Math.round((value / size) * 1000) / 1000 : '';
  const unitSelect = (
    <NativeSelect
      aria-label={`Unit of ${typeof label === 'string' ? label.toLowerCase() : 'the duration'}`}
      data={DURATION_UNITS.filter((u) => units.includes(u.value)).map((u) => ({ value: u.value, label: u.label }))}
      value={unit}
      onChange={(e) => setUnit(e.currentTarget.value as DurationUnit)}
      variant="unstyled"
      styles={{ input: { fontWeight: 500, paddingLeft: 8, paddingRight: 24, textAlign: 'right' } }}
      w={96}
    />
  );
  return (
    <NumberInput
      label={label}
      description={description}
      value={amount}
      onChange={(v) => emit(typeof v === 'number' ? Math.round(v * size) : '')}
      onBlur={onBlur}
      onFocus={onFocus}
      error={error}
      min={min !== undefined ? min / size : 0}
      max={max !== undefined ? max / size : undefined}
      allowNegative={false}
      decimalScale={3}
      hideControls
      rightSection={unitSelect}
      rightSectionWidth={96}
      rightSectionPointerEvents="all"
    />
  );
}
