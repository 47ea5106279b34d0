/**
 * Maps an API error to the fields of a form: validation details carry JSON pointers into the
 * request body (`/settings/lifetimes/accessTokenSeconds`), which become Mantine form paths
 * (`settings.lifetimes.accessTokenSeconds`). What matches no field stays in `other`, for an alert.
 */
import { ApiError } from '../api/client';
import { grantRefusalDetails, grantRefusalLines } from './grantRefusal';

export interface FieldErrorOptions {
  /**
   * The form's field paths (dotted). A problem deeper than a known field (an item of a list,
   * `allowedOrigins.2`) lands on the nearest known ancestor; one matching nothing goes to `other`.
   * Without `fields`, every path is taken as it is.
   */
  fields?: readonly string[];
  /** Error codes that concern one field though they carry no path, e.g. `{ email_taken: 'email' }`. */
  codes?: Readonly<Record<string, string>>;
  /** A prefix of the body the form does not have, e.g. `settings` when the form edits settings only. */
  stripPrefix?: string;
  /** Names an API by its identifier, in a refusal's list of missing scopes. */
  apiName?: (identifier: string) => string;
}

export interface FieldErrors {
  /** Form path → message (the first problem per field; several are joined). */
  fields: Record<string, string>;
  /** Messages that belong to no field. */
  other: string[];
}

/** `/settings/allowedOrigins/0` → `settings.allowedOrigins.0` (RFC 6901 unescaping). */
export function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

export function apiFieldErrors(error: unknown, options: FieldErrorOptions = {}): FieldErrors {
  const result: FieldErrors = { fields: {}, other: [] };
  if (!(error instanceof ApiError)) {
    result.other.push(error instanceof Error ? error.message : String(error));
    return result;
  }
  const known = options.fields ? new Set(options.fields) : null;
  const add = (path: string, message: string) => {
    const field = resolveField(path, known, options.stripPrefix);
    if (field === null) {
      result.other.push(path ? `${path}: ${message}` : message);
      return;
    }
    const previous = result.fields[field];
    if (!previous) result.fields[field] = message;
    else if (!previous.split('; ').includes(message)) result.fields[field] = `${previous}; ${message}`;
  };

  const codeField = options.codes?.[error.code];
  if (codeField) {
    add(codeField, error.message);
    return result;
  }
  const details = error.fieldDetails;
  if (details.length > 0) {
    for (const d of details) {
      // A problem of an item inside a field says which item (the field shows the whole list).
      const path = pointerToPath(d.path);
      const field = resolveField(path, known, options.stripPrefix);
      const itemSuffix = field !== null ? itemOf(stripped(path, options.stripPrefix), field) : null;
      add(path, itemSuffix ? `${itemSuffix}: ${d.message}` : d.message);
    }
    return result;
  }
  // Some codes name the field in an object: {"field": "redirectUris"}.
  const named = (error.details as { field?: unknown } | undefined)?.field;
  if (typeof named === 'string') {
    add(named, error.message);
    return result;
  }
  result.other.push(error.message);
  // The granting rule's refusal says what the caller lacks.
  const refusal = grantRefusalDetails(error);
  if (refusal) result.other.push(...grantRefusalLines(refusal, options.apiName));
  return result;
}

function stripped(path: string, prefix: string | undefined): string {
  if (!prefix) return path;
  if (path === prefix) return '';
  return path.startsWith(`${prefix}.`) ? path.slice(prefix.length + 1) : path;
}

function resolveField(path: string, known: Set<string> | null, prefix: string | undefined): string | null {
  const p = stripped(path, prefix);
  if (p === '') return null;
  if (!known) return p;
  const parts = p.split('.');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('.');
    if (known.has(candidate)) return candidate;
  }
  return null;
}

/** For `allowedOrigins.2` under field `allowedOrigins`: "Item 3". */
function itemOf(path: string, field: string): string | null {
  if (path === field) return null;
  const rest = path.slice(field.length + 1).split('.');
  const index = rest[0] !== undefined && /^\d+$/.test(rest[0]) ? Number(rest[0]) : null;
  return index === null ? rest.join('.') : `Item ${index + 1}`;
}

/** The least a form needs: Mantine's `form.setErrors` has this shape. */
export interface ErrorSettable {
  setErrors(errors: Record<string, string>): void;
}

/**
 * Puts an API error's field problems on the form and answers what is left for an alert
 * (empty when every problem found its field).
 */
export function applyApiErrors(form: ErrorSettable, error: unknown, options: FieldErrorOptions = {}): string[] {
  const { fields, other } = apiFieldErrors(error, options);
  form.setErrors(fields);
  return other;
}
