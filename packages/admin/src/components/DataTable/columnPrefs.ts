/**
 * Which columns of a table the admin chose to see, remembered in localStorage per table.
 * Stored as the admin's explicit choices (`{"lastLoginAt": true}`), so a column added in a
 * later release shows or hides by its own default, and a column removed is simply ignored.
 */
import { useCallback, useMemo, useState } from 'react';

export interface ColumnPrefsColumn {
  key: string;
  /** Hidden until the admin picks it. */
  defaultHidden?: boolean;
  /** False for columns that are always shown (the one that names the row). */
  hideable?: boolean;
}

const PREFIX = 'latchkey.admin.columns.';

export function storageKey(tableId: string): string {
  return `${PREFIX}${tableId}`;
}

/** The admin's stored choices: column key → visible. Anything unreadable counts as no choice. */
export function readChoices(storage: Pick<Storage, 'getItem'> | null, tableId: string): Record<string, boolean> {
  let raw: string | null = null;
  try {
    raw = storage?.getItem(storageKey(tableId)) ?? null;
  } catch {
    return {};
  }
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'boolean') out[k] = v;
    return out;
  } catch {
    return {};
  }
}

export function writeChoices(
  storage: Pick<Storage, 'setItem'> | null,
  tableId: string,
  choices: Record<string, boolean>,
): void {
  try {
    storage?.setItem(storageKey(tableId), JSON.stringify(choices));
  } catch {
    // Storage full or disabled: the choice lasts for this page only.
  }
}

/** The visible column keys, in column order: choices over defaults; unhideable ones always. */
export function visibleColumns(columns: readonly ColumnPrefsColumn[], choices: Record<string, boolean>): string[] {
  const visible = columns.filter((c) => c.hideable === false || (choices[c.key] ?? !c.defaultHidden)).map((c) => c.key);
  // Never an empty table: fall back to the defaults.
  if (visible.length === 0) return columns.filter((c) => !c.defaultHidden).map((c) => c.key);
  return visible;
}

/** Choices after the admin toggles one column; only known, hideable columns are recorded. */
export function toggleChoice(
  columns: readonly ColumnPrefsColumn[],
  choices: Record<string, boolean>,
  key: string,
  visible: boolean,
): Record<string, boolean> {
  const column = columns.find((c) => c.key === key);
  if (!column || column.hideable === false) return choices;
  const next: Record<string, boolean> = {};
  for (const c of columns) if (c.key in choices && c.key !== key) next[c.key] = choices[c.key] as boolean;
  if (visible === !column.defaultHidden) return next; // Back to the default: forget the choice.
  next[key] = visible;
  return next;
}

function browserStorage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null;
  }
}

/** The visible columns of table `tableId` and a setter that remembers the admin's choice. */
export function useColumnPrefs(
  tableId: string,
  columns: readonly ColumnPrefsColumn[],
  storage: Storage | null = browserStorage(),
) {
  const [choices, setChoices] = useState(() => readChoices(storage, tableId));
  const visible = useMemo(() => visibleColumns(columns, choices), [columns, choices]);
  const setVisible = useCallback(
    (key: string, show: boolean) => {
      setChoices((current) => {
        const next = toggleChoice(columns, current, key, show);
        writeChoices(storage, tableId, next);
        return next;
      });
    },
    [columns, storage, tableId],
  );
  const reset = useCallback(() => {
    writeChoices(storage, tableId, {});
    setChoices({});
  }, [storage, tableId]);
  return { visible, setVisible, reset };
}
