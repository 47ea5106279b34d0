import { describe, expect, it } from 'vitest';
import {
  actionProblem,
  actionSuggestions,
  auditFilterFromParams,
  auditFilterKey,
  auditFilterToParams,
  auditQuery,
  emptyAuditFilter,
  isFiltered,
  isoToLocalInput,
  localInputToIso,
  presetRange,
  rangeProblem,
} from './auditFilter';

describe('URL round trip', () => {
  it('reads what it writes, leaving empty filters out and other parameters alone', () => {
    const filter = {
      ...emptyAuditFilter,
      action: 'user.*',
      outcome: 'failure' as const,
      since: '2025-03-01T00:00:00.000Z',
    };
    const params = auditFilterToParams(filter, new URLSearchParams('tab=x&actor=old'));
    expect(params.toString()).toBe('tab=x&action=user.*&outcome=failure&since=2025-03-01T00%3A00%3A00.000Z');
    expect(auditFilterFromParams(params)).toEqual(filter);
  });
  it('drops an unknown outcome and times that are not ISO 8601', () => {
    const f = auditFilterFromParams(new URLSearchParams('outcome=maybe&since=yesterday&until=2025-13-45T00:00Z'));
    expect(f.outcome).toBe('');
    expect(f.since).toBe('');
    expect(f.until).toBe('');
  });
});

describe('auditQuery', () => {
  it('sends only the filters that are set, trimmed, with the cursor', () => {
    const q = auditQuery({ ...emptyAuditFilter, actor: ' usr_1 ', action: ' client.* ' }, 'c1');
    expect(q).toEqual({
      action: 'client.*',
      actor: 'usr_1',
      target: undefined,
      outcome: undefined,
      since: undefined,
      until: undefined,
      limit: 50,
      cursor: 'c1',
    });
  });
  it('sends nothing the API would refuse: a * inside an action, an empty time range', () => {
    expect(auditQuery({ ...emptyAuditFilter, action: 'user.*.set' }, null)).toBeNull();
    expect(
      auditQuery({ ...emptyAuditFilter, since: '2025-03-02T00:00:00.000Z', until: '2025-03-01T00:00:00.000Z' }, null),
    ).toBeNull();
  });
});

describe('checks', () => {
  it('allows exact actions and trailing-star prefixes only', () => {
    expect(actionProblem('user.create')).toBeNull();
    expect(actionProblem('user.*')).toBeNull();
    expect(actionProblem('*')).toBeNull();
    expect(actionProblem('*.create')).toMatch(/end/);
  });
  it('refuses a range that ends before it starts', () => {
    expect(rangeProblem('2025-03-01T00:00:00Z', '2025-03-01T00:00:00Z')).toMatch(/before/);
    expect(rangeProblem('2025-03-01T00:00:00Z', '')).toBeNull();
  });
  it('keys filters by content, so paging restarts only when they change', () => {
    expect(auditFilterKey({ ...emptyAuditFilter, actor: 'a ' })).toBe(
      auditFilterKey({ ...emptyAuditFilter, actor: 'a' }),
    );
    expect(auditFilterKey({ ...emptyAuditFilter, actor: 'a' })).not.toBe(auditFilterKey(emptyAuditFilter));
    expect(isFiltered(emptyAuditFilter)).toBe(false);
    expect(isFiltered({ ...emptyAuditFilter, outcome: 'success' })).toBe(true);
  });
});

describe('times', () => {
  it('converts between local input values and ISO without drift', () => {
    const iso = localInputToIso('2025-03-10T15:30');
    expect(iso).toMatch(/Z$/);
    expect(isoToLocalInput(iso)).toBe('2025-03-10T15:30');
    const d = new Date(iso);
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()]).toEqual([2025, 2, 10, 15, 30]);
  });
  it('treats empty and invalid values as no time', () => {
    expect(localInputToIso('')).toBe('');
    expect(localInputToIso('10/03/2025')).toBe('');
    expect(isoToLocalInput('')).toBe('');
    expect(isoToLocalInput('nope')).toBe('');
  });
  it('presets start that long ago and stay open-ended', () => {
    const now = Date.parse('2025-03-10T12:00:00.000Z');
    expect(presetRange('24h', now)).toEqual({ since: '2025-03-09T12:00:00.000Z', until: '' });
  });
});

describe('actionSuggestions', () => {
  it('offers families first, each once', () => {
    const s = actionSuggestions();
    expect(s[0]).toMatch(/\.\*$/);
    expect(s).toContain('user.*');
    expect(s).toContain('client.secret.rotate');
    expect(new Set(s).size).toBe(s.length);
  });
});
