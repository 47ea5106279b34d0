import { describe, expect, it } from 'vitest';
import { readChoices, storageKey, toggleChoice, visibleColumns, writeChoices } from './columnPrefs';

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
}

const columns = [
  { key: 'email', hideable: false },
  { key: 'name' },
  { key: 'status' },
  { key: 'id', defaultHidden: true },
];

describe('column preferences', () => {
  it('shows the defaults when nothing was chosen', () => {
    expect(visibleColumns(columns, {})).toEqual(['email', 'name', 'status']);
  });

  it('a choice overrides the default, in column order', () => {
    expect(visibleColumns(columns, { id: true, name: false })).toEqual(['email', 'status', 'id']);
  });

  it('never hides an unhideable column', () => {
    expect(visibleColumns(columns, { email: false })).toContain('email');
    expect(toggleChoice(columns, {}, 'email', false)).toEqual({});
  });

  it('records only departures from the default, for known columns', () => {
    let choices = toggleChoice(columns, {}, 'id', true);
    expect(choices).toEqual({ id: true });
    choices = toggleChoice(columns, choices, 'name', false);
    expect(choices).toEqual({ id: true, name: false });
    // Back to the default: forgotten, so a changed default later applies.
    choices = toggleChoice(columns, choices, 'id', false);
    expect(choices).toEqual({ name: false });
    expect(toggleChoice(columns, choices, 'nope', true)).toBe(choices);
  });

  it('round-trips through storage under a per-table key', () => {
    const storage = new MemoryStorage();
    writeChoices(storage, 'users', { id: true, name: false });
    expect(storage.data.has(storageKey('users'))).toBe(true);
    expect(readChoices(storage, 'users')).toEqual({ id: true, name: false });
    expect(readChoices(storage, 'tenants')).toEqual({});
  });

  it('ignores unreadable or foreign stored values, and columns that no longer exist', () => {
    const storage = new MemoryStorage();
    storage.setItem(storageKey('users'), '{not json');
    expect(readChoices(storage, 'users')).toEqual({});
    storage.setItem(storageKey('users'), '["id"]');
    expect(readChoices(storage, 'users')).toEqual({});
    storage.setItem(storageKey('users'), JSON.stringify({ id: 'yes', name: false, removed: true }));
    const choices = readChoices(storage, 'users');
    expect(choices).toEqual({ name: false, removed: true });
    expect(visibleColumns(columns, choices)).toEqual(['email', 'status']);
  });

  it('survives a storage that throws (disabled, full)', () => {
    const broken = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(readChoices(broken, 'users')).toEqual({});
    expect(() => writeChoices(broken, 'users', { id: true })).not.toThrow();
  });
});
