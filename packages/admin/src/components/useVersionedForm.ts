/**
 * The state of a form that edits one version of a resource (a tenant, a user, an application):
 * which version it shows (the If-Match of its save), a newer version replacing it when the admin
 * is not editing, a save's answer (412 `version_mismatch` → "changed meanwhile" with Reload; other
 * problems beside their fields or in an alert), reloading, and discarding edits.
 */
import { type RefObject, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { applyApiErrors, type ErrorSettable, type FieldErrorOptions } from './fieldErrors';

/** What of a Mantine form (`useForm`) this needs. */
export interface VersionedFormApi<V> extends ErrorSettable {
  setInitialValues(values: V): void;
  setValues(values: V): void;
  resetDirty(values?: V): void;
  clearErrors(): void;
  isDirty(): boolean;
  reset(): void;
}

/** Shows `values` as the form's new starting point: not dirty, no errors. */
export function showValues<V>(form: VersionedFormApi<V>, values: V): void {
  form.setInitialValues(values);
  form.setValues(values);
  form.resetDirty(values);
  form.clearErrors();
}

export interface VersionedForm<R> {
  /** The version on screen: send it as If-Match. */
  shownVersion: RefObject<number>;
  /** Shows this version of the resource in the form. */
  adopt(record: R): void;
  /** Whether the form has edits (as of this render). */
  dirty: boolean;
  /** A save met a 412: someone changed the resource meanwhile. */
  stale: boolean;
  reloading: boolean;
  /** A save's problems that matched no field. */
  other: string[];
  setOther(other: string[]): void;
  /** Fetches the latest version and shows it (dropping the edits). */
  reload(): Promise<void>;
  /** A save succeeded: show what it answered. */
  saved(record: R): void;
  /**
   * A save failed: a 412 marks the form stale (and answers true); other problems go beside their
   * fields or to `other`.
   */
  failed(error: unknown, options?: FieldErrorOptions): boolean;
  /** Drops the edits. */
  discard(): void;
}

/**
 * `record` is the resource as last loaded; `toValues` makes the form's values of it; `load`
 * fetches the latest version (for Reload). A newer `record` replaces the form unless it has edits:
 * then their save meets a 412.
 */
export function useVersionedForm<R extends { version: number }, V>(
  form: VersionedFormApi<V>,
  record: R,
  toValues: (record: R) => V,
  load: () => Promise<R | undefined>,
): VersionedForm<R> {
  const [other, setOther] = useState<string[]>([]);
  const [stale, setStale] = useState(false);
  const [reloading, setReloading] = useState(false);
  const shownVersion = useRef(record.version);
  const adopt = (r: R) => {
    shownVersion.current = r.version;
    showValues(form, toValues(r));
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a new version of the record matters
  useEffect(() => {
    if (record.version !== shownVersion.current && !form.isDirty()) adopt(record);
  }, [record]);

  return {
    shownVersion,
    adopt,
    dirty: form.isDirty(),
    stale,
    reloading,
    other,
    setOther,
    reload: async () => {
      setReloading(true);
      try {
        const latest = await load();
        if (latest) adopt(latest);
        setStale(false);
      } finally {
        setReloading(false);
      }
    },
    saved: (r) => {
      setOther([]);
      setStale(false);
      adopt(r);
    },
    failed: (error, options) => {
      if (error instanceof ApiError && error.isVersionMismatch) {
        setStale(true);
        setOther([]);
        return true;
      }
      setOther(applyApiErrors(form, error, options));
      return false;
    },
    discard: () => {
      form.reset();
      setOther([]);
    },
  };
}
