import { describe, expect, it } from 'vitest';
import { switchedPath } from '../app/TenantSwitcher';
import { sumSeries } from '../screens/overview/SystemOverviewScreen';
import { bestUnit } from './DurationInput';
import { formatDuration } from './format';
import { niceTicks } from './TimeSeriesChart';

describe('chart ticks', () => {
  it('are whole, round steps from 0 past the maximum', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(1)).toEqual([0, 1]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(130)).toEqual([0, 50, 100, 150]);
  });
});

describe('sumSeries', () => {
  it('adds tenants hour by hour, in time order', () => {
    const a = {
      users: 1,
      activeSessions: 0,
      signIns24h: 3,
      failures24h: 1,
      series: [
        { hour: '2026-01-01T01:00:00.000Z', signIns: 1, failures: 0 },
        { hour: '2026-01-01T00:00:00.000Z', signIns: 2, failures: 1 },
      ],
    };
    const b = { ...a, series: [{ hour: '2026-01-01T00:00:00.000Z', signIns: 5, failures: 2 }] };
    expect(sumSeries([a, b])).toEqual([
      { time: '2026-01-01T00:00:00.000Z', values: { signIns: 7, failures: 3 } },
      { time: '2026-01-01T01:00:00.000Z', values: { signIns: 1, failures: 0 } },
    ]);
  });
});

describe('durations', () => {
  it('pick the largest exact unit', () => {
    expect(bestUnit(1_209_600)).toBe('days');
    expect(bestUnit(5400)).toBe('minutes');
    expect(bestUnit(90)).toBe('seconds');
    expect(bestUnit(86_400, ['hours', 'minutes', 'seconds'])).toBe('hours');
  });
  it('read as words', () => {
    expect(formatDuration(3600)).toBe('1 h');
    expect(formatDuration(1_209_600)).toBe('14 days');
    expect(formatDuration(90)).toBe('1 min 30 s');
  });
});

describe('tenant switcher', () => {
  it('keeps the screen and drops the detail', () => {
    expect(switchedPath('/tenants/a/users/usr_1', 'b')).toBe('/tenants/b/users');
    expect(switchedPath('/tenants/a', 'b')).toBe('/tenants/b');
    expect(switchedPath('/', 'b')).toBe('/tenants/b');
    expect(switchedPath('/tenants', 'b')).toBe('/tenants/b');
  });
});
