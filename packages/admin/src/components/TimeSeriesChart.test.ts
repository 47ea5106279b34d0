import { describe, expect, it } from 'vitest';
import { hiddenBehind, seriesStroke } from './TimeSeriesChart';

const series = [
  { key: 'a', label: 'Sign-ins', color: 'blue' },
  { key: 'b', label: 'Failures', color: 'red' },
];
const point = (a: number, b: number, hour: number) => ({
  time: `2026-01-01T${String(hour).padStart(2, '0')}:00:00.000Z`,
  values: { a, b },
});

describe('TimeSeriesChart: equal series both show', () => {
  it('draws later series narrower and dashed over a wider solid first one', () => {
    const [first, second, third] = [0, 1, 2].map(seriesStroke);
    expect(first?.dash).toBeUndefined();
    expect(second?.dash).toBeDefined();
    expect(third?.dash).toBeDefined();
    expect(third?.dash).not.toBe(second?.dash);
    expect(second?.width).toBeLessThan(first?.width ?? 0);
    expect(third?.width).toBeGreaterThan(0);
  });
  it('names the series a line lies on when they are equal at every point, and only then', () => {
    expect(hiddenBehind([point(0, 0, 0), point(2, 2, 1)], series)).toEqual([null, 'Sign-ins']);
    expect(hiddenBehind([point(0, 0, 0), point(2, 1, 1)], series)).toEqual([null, null]);
    expect(hiddenBehind([], series)).toEqual([null, null]);
  });
});
