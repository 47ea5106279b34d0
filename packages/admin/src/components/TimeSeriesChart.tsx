import { Box, Group, Paper, Text, VisuallyHidden } from '@mantine/core';
import { useElementSize } from '@mantine/hooks';
import { type KeyboardEvent, useState } from 'react';

export interface ChartSeries {
  key: string;
  label: string;
  /** A CSS colour. */
  color: string;
}

export interface ChartPoint {
  /** ISO time of the bucket's start. */
  time: string;
  values: Record<string, number>;
}

const PAD = { top: 12, right: 12, bottom: 26, left: 36 };

/** Ticks from 0 past `max` in round steps (1, 2, 5 × 10^n), whole numbers only: these are counts. */
export function niceTicks(max: number, count = 4): number[] {
  if (max <= 0) return [0, 1];
  const raw = Math.max(1, max / count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/**
 * How series `index` is drawn, so that equal series both show: the first a wide solid line, each
 * later one narrower and dashed on top of it (the wider line shows at its edges and in its gaps).
 */
export function seriesStroke(index: number): { width: number; dash: string | undefined } {
  if (index === 0) return { width: 4, dash: undefined };
  return { width: Math.max(1.5, 4 - index * 1.5), dash: index === 1 ? '6 4' : '2 3' };
}

/** For each series, the label of an earlier one it equals at every point (drawn over it), if any. */
export function hiddenBehind(data: readonly ChartPoint[], series: readonly ChartSeries[]): (string | null)[] {
  return series.map((s, i) => {
    if (data.length === 0) return null;
    const same = series.slice(0, i).find((o) => data.every((p) => (p.values[o.key] ?? 0) === (p.values[s.key] ?? 0)));
    return same ? same.label : null;
  });
}

const hourFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', hour: 'numeric', minute: '2-digit' });

/**
 * A small line chart in plain SVG (cheaper than a chart library for two lines over 24 points).
 * Hover or focus and use the arrow keys to read a point; a hidden table carries the same numbers
 * for screen readers.
 */
export function TimeSeriesChart({
  data,
  series,
  title,
  height = 220,
}: {
  data: readonly ChartPoint[];
  series: readonly ChartSeries[];
  title: string;
  height?: number;
}) {
  const { ref, width } = useElementSize();
  const [active, setActive] = useState<number | null>(null);
  const w = Math.max(width, 200);
  const innerW = w - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom;
  const max = Math.max(0, ...data.flatMap((p) => series.map((s) => p.values[s.key] ?? 0)));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1] ?? 1;
  const x = (i: number) => PAD.left + (data.length <= 1 ? innerW / 2 : (i / (data.length - 1)) * innerW);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const labelEvery = Math.max(1, Math.ceil(data.length / Math.max(2, Math.floor(innerW / 56))));

  const pick = (clientX: number, rect: DOMRect) => {
    if (data.length === 0) return;
    const rel = (clientX - rect.left - PAD.left) / Math.max(1, innerW);
    setActive(Math.min(data.length - 1, Math.max(0, Math.round(rel * (data.length - 1)))));
  };
  const onKey = (e: KeyboardEvent) => {
    if (data.length === 0) return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      const d = e.key === 'ArrowRight' ? 1 : -1;
      setActive((a) => Math.min(data.length - 1, Math.max(0, (a ?? (d > 0 ? -1 : data.length)) + d)));
    } else if (e.key === 'Escape') setActive(null);
  };
  const point = active !== null ? data[active] : undefined;
  const behind = hiddenBehind(data, series);

  return (
    <Box>
      <Group gap="md" mb="xs">
        {series.map((s, i) => {
          const stroke = seriesStroke(i);
          return (
            <Group key={s.key} gap={6} wrap="nowrap">
              <svg width={20} height={8} aria-hidden style={{ display: 'block' }}>
                <line
                  x1={0}
                  x2={20}
                  y1={4}
                  y2={4}
                  stroke={s.color}
                  strokeWidth={Math.min(stroke.width, 4)}
                  strokeDasharray={stroke.dash}
                />
              </svg>
              <Text size="xs" c="dimmed">
                {s.label}
                {behind[i] ? ` (same as ${behind[i]} throughout)` : ''}
              </Text>
            </Group>
          );
        })}
      </Group>
      <Box ref={ref} pos="relative" style={{ width: '100%' }}>
        {width > 0 && (
          <svg
            width={w}
            height={height}
            role="img"
            aria-label={`${title}. Use the left and right arrow keys to read each hour.`}
            // biome-ignore lint/a11y/noNoninteractiveTabindex: focusable so keyboard users can read the points
            tabIndex={0}
            onKeyDown={onKey}
            onMouseMove={(e) => pick(e.clientX, e.currentTarget.getBoundingClientRect())}
            onMouseLeave={() => setActive(null)}
            onBlur={() => setActive(null)}
            style={{ display: 'block', outlineOffset: 2 }}
          >
            {ticks.map((t) => (
              <g key={t}>
                <line
                  x1={PAD.left}
                  x2={w - PAD.right}
                  y1={y(t)}
                  y2={y(t)}
                  stroke="var(--mantine-color-gray-3)"
                  strokeDasharray={t === 0 ? undefined : '3 3'}
                />
                <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" fontSize={11} fill="var(--mantine-color-dimmed)">
                  {t}
                </text>
              </g>
            ))}
            {data.map((p, i) =>
              i % labelEvery === 0 ? (
                <text
                  key={p.time}
                  x={x(i)}
                  y={height - 8}
                  textAnchor="middle"
                  fontSize={11}
                  fill="var(--mantine-color-dimmed)"
                >
                  {hourFormat.format(new Date(p.time))}
                </text>
              ) : null,
            )}
            {series.map((s, n) => {
              const pts = data.map((p, i) => `${x(i)},${y(p.values[s.key] ?? 0)}`).join(' ');
              const area = data.length ? `${x(0)},${y(0)} ${pts} ${x(data.length - 1)},${y(0)}` : '';
              const stroke = seriesStroke(n);
              return (
                <g key={s.key}>
                  <polygon points={area} fill={s.color} opacity={0.08} />
                  <polyline
                    points={pts}
                    fill="none"
                    stroke={s.color}
                    strokeWidth={stroke.width}
                    strokeDasharray={stroke.dash}
                    strokeLinejoin="round"
                    opacity={n === 0 ? 0.6 : 1}
                  />
                </g>
              );
            })}
            {point && active !== null && (
              <g>
                <line
                  x1={x(active)}
                  x2={x(active)}
                  y1={PAD.top}
                  y2={PAD.top + innerH}
                  stroke="var(--mantine-color-gray-5)"
                />
                {series.map((s) => (
                  <circle key={s.key} cx={x(active)} cy={y(point.values[s.key] ?? 0)} r={4} fill={s.color} />
                ))}
              </g>
            )}
          </svg>
        )}
        {point && active !== null && (
          <Paper
            withBorder
            shadow="sm"
            p={6}
            pos="absolute"
            top={4}
            style={{
              pointerEvents: 'none',
              left: Math.min(Math.max(0, x(active) + 10), Math.max(0, w - 150)),
              minWidth: 130,
            }}
            aria-live="polite"
          >
            <Text size="xs" fw={600}>
              {fullFormat.format(new Date(point.time))}
            </Text>
            {series.map((s) => (
              <Text key={s.key} size="xs">
                <span style={{ color: s.color }}>●</span> {s.label}: {point.values[s.key] ?? 0}
              </Text>
            ))}
          </Paper>
        )}
      </Box>
      <VisuallyHidden>
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">Hour</th>
              {series.map((s) => (
                <th key={s.key} scope="col">
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.map((p) => (
              <tr key={p.time}>
                <th scope="row">{fullFormat.format(new Date(p.time))}</th>
                {series.map((s) => (
                  <td key={s.key}>{p.values[s.key] ?? 0}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </VisuallyHidden>
    </Box>
  );
}
