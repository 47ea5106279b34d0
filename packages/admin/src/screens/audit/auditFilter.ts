/**
 * The audit log's filters: kept in the URL (`?action=user.*&outcome=failure&since=…`) so a
 * filtered view can be shared, and turned into the API query. Times travel as ISO 8601 (UTC)
 * and are edited in the browser's time zone.
 */
import type { QueryValue } from '../../api/client';

export type Outcome = '' | 'success' | 'failure';

export interface AuditFilter {
  /** Actor id: a user (`usr_…`) or API key (`key_…`). */
  actor: string;
  /** Exact action, or a prefix ending in `*`. */
  action: string;
  outcome: Outcome;
  /** Target id. */
  target: string;
  /** ISO 8601, inclusive; '' for none. */
  since: string;
  /** ISO 8601, exclusive; '' for none. */
  until: string;
}

export const emptyAuditFilter: AuditFilter = { actor: '', action: '', outcome: '', target: '', since: '', until: '' };

export const AUDIT_PAGE_SIZE = 50;

const KEYS = ['actor', 'action', 'outcome', 'target', 'since', 'until'] as const;

function isIso(v: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v));
}

/** Reads the filter from the URL; a time that is not ISO 8601 and an unknown outcome are dropped. */
export function auditFilterFromParams(params: URLSearchParams): AuditFilter {
  const outcome = params.get('outcome');
  const time = (k: string) => {
    const v = params.get(k) ?? '';
    return isIso(v) ? v : '';
  };
  return {
    actor: params.get('actor') ?? '',
    action: params.get('action') ?? '',
    outcome: outcome === 'success' || outcome === 'failure' ? outcome : '',
    target: params.get('target') ?? '',
    since: time('since'),
    until: time('until'),
  };
}

/** Writes the filter into URL parameters, keeping unrelated ones and leaving empty ones out. */
export function auditFilterToParams(filter: AuditFilter, base?: URLSearchParams): URLSearchParams {
  const params = new URLSearchParams(base);
  for (const k of KEYS) {
    const v = filter[k].trim();
    if (v) params.set(k, v);
    else params.delete(k);
  }
  return params;
}

/** What is wrong with an action filter, if anything: a `*` works only at the end. */
export function actionProblem(action: string): string | null {
  const a = action.trim();
  if (a.length > 100) return 'At most 100 characters';
  const star = a.indexOf('*');
  if (star !== -1 && star !== a.length - 1) return 'A * works only at the end, as in user.*';
  return null;
}

/** Why the time range is empty, if it is. */
export function rangeProblem(since: string, until: string): string | null {
  if (since && until && Date.parse(since) >= Date.parse(until)) return '“From” must be before “To”';
  return null;
}

/** The query of `GET …/audit-events`; null while the filter is one the API would refuse. */
export function auditQuery(
  filter: AuditFilter,
  cursor: string | null,
  limit = AUDIT_PAGE_SIZE,
): Record<string, QueryValue> | null {
  if (actionProblem(filter.action) || rangeProblem(filter.since, filter.until)) return null;
  const action = filter.action.trim();
  return {
    action: action || undefined,
    actor: filter.actor.trim() || undefined,
    target: filter.target.trim() || undefined,
    outcome: filter.outcome || undefined,
    since: filter.since || undefined,
    until: filter.until || undefined,
    limit,
    cursor: cursor ?? undefined,
  };
}

/** What changes the result set: the pager starts again when it changes. */
export function auditFilterKey(filter: AuditFilter): string {
  return JSON.stringify(KEYS.map((k) => filter[k].trim()));
}

export function isFiltered(filter: AuditFilter): boolean {
  return KEYS.some((k) => filter[k].trim() !== '');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO time → the value of a `datetime-local` input in the browser's time zone (minutes). */
export function isoToLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value (local time) → ISO 8601 in UTC; '' for empty or invalid. */
export function localInputToIso(local: string): string {
  const m = local.match(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/);
  if (!m) return '';
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export const TIME_PRESETS = [
  { value: '1h', label: 'Last hour', ms: 3_600_000 },
  { value: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { value: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
] as const;

/** A preset as a range: from that long ago, open-ended. */
export function presetRange(preset: (typeof TIME_PRESETS)[number]['value'], now = Date.now()) {
  const p = TIME_PRESETS.find((x) => x.value === preset);
  return { since: new Date(now - (p?.ms ?? 0)).toISOString(), until: '' };
}

/** Actions Latchkey records (docs/api.md), and their families as prefixes, for suggestions. */
export const KNOWN_ACTIONS = [
  'api.create',
  'api.delete',
  'api.update',
  'api_key.create',
  'api_key.delete',
  'client.create',
  'client.delete',
  'client.secret.rotate',
  'client.update',
  'consent.grant',
  'identity_provider.create',
  'identity_provider.delete',
  'identity_provider.update',
  'keys.rotate',
  'login.password',
  'role.create',
  'role.delete',
  'system.bootstrap',
  'ticket.disable',
  'ticket.issue',
  'ticket.redeem',
  'ticket.reissue',
  'ticket.reissue.request',
  'ticket_type.create',
  'ticket_type.delete',
  'ticket_type.update',
  'tenant.create',
  'tenant.delete',
  'tenant.update',
  'user.create',
  'user.delete',
  'user.identity.link',
  'user.identity.unlink',
  'user.password.set',
  'user.register',
  'user.role.grant',
  'user.role.revoke',
  'user.sessions.end',
  'user.sign_in.federated',
  'user.update',
] as const;

export function actionSuggestions(): string[] {
  const families = [...new Set(KNOWN_ACTIONS.map((a) => `${a.split('.')[0]}.*`))];
  return [...families, ...KNOWN_ACTIONS];
}
