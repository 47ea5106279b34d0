/**
 * How an audit event reads in the console: actors and targets by email or name (the id when the
 * thing is gone), a link to the screen of each, and the details as a short sentence plus a
 * key/value list instead of raw JSON. Pure functions, shared by the audit log and a user's
 * activity panel.
 */
import type { AuditEvent, AuditRef } from '../../api/types';

/** What each kind of actor or target is called. */
const kindNames: Record<string, string> = {
  user: 'User',
  api_key: 'API key',
  client: 'Application',
  api: 'API',
  role: 'Role',
  ticket_type: 'Ticket type',
  identity_provider: 'Identity provider',
  tenant: 'Tenant',
  system: 'Latchkey',
};

export function kindName(type: string): string {
  return kindNames[type] ?? type;
}

/** The line an admin reads: the email or name, else the id, else the kind (`Latchkey` itself). */
export function refLabel(ref: Pick<AuditRef, 'type' | 'id' | 'name'>): string {
  if (ref.name) return ref.name;
  if (ref.id) return ref.id;
  return kindName(ref.type);
}

/**
 * Where the console shows an actor or target, or null: only things that still exist (named), and
 * only in a tenant this console can open (`tenantBase`, which answers null for other tenants).
 */
export function refLink(ref: AuditRef, tenantBase: (slug: string) => string | null): string | null {
  if (!ref.id || !ref.name || !ref.tenantSlug) return null;
  const base = tenantBase(ref.tenantSlug);
  if (base === null) return null;
  const q = (screen: string) => `${base}/${screen}?q=${encodeURIComponent(ref.name ?? '')}`;
  switch (ref.type) {
    case 'user':
      return `${base}/users/${encodeURIComponent(ref.id)}`;
    case 'client':
      return `${base}/applications/${encodeURIComponent(ref.id)}`;
    case 'role':
      return q('roles');
    case 'api_key':
      return `${base}/api-keys`;
    case 'api':
      return `${base}/apis`;
    case 'ticket_type':
      return `${base}/tickets/${encodeURIComponent(ref.id)}`;
    case 'identity_provider':
      return `${base}/identity-providers/${encodeURIComponent(ref.id)}`;
    case 'tenant':
      return base;
    default:
      return null;
  }
}

const statusTexts: Record<number, string> = {
  400: 'Bad request',
  401: 'Not signed in',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  412: 'Stale version',
  413: 'Too large',
  422: 'Unprocessable',
  428: 'Version required',
  429: 'Too many requests',
};

/** Field names of the API, as the console's forms call them. */
const fieldNames: Record<string, string> = {
  displayName: 'display name',
  email: 'email',
  status: 'status',
  attributes: 'attributes',
  redirectUris: 'redirect URIs',
  postLogoutRedirectUris: 'post-logout redirect URIs',
  firstParty: 'first party',
  idTokenAlg: 'ID token algorithm',
  scopes: 'scopes',
  roles: 'roles',
  name: 'name',
  settings: 'settings',
  identifier: 'identifier',
  description: 'description',
  permissions: 'permissions',
};

/** Labels of the details' keys. */
const keyLabels: Record<string, string> = {
  email: 'Email',
  withPassword: 'Initial password',
  fields: 'Changed',
  settings: 'Settings changed',
  status: 'Answer',
  url: 'Path',
  reason: 'Reason',
  roles: 'Roles',
  role: 'Role',
  scopes: 'Scopes',
  sessions: 'Sessions ended',
  permissions: 'Permissions',
  identifier: 'Identifier',
  name: 'Name',
  kind: 'Kind',
  slug: 'Slug',
  rehashed: 'Password hash upgraded',
  adminUser: 'Admin user',
  apiKey: 'API key',
  provider: 'Identity provider',
  identityId: 'Identity',
};

/** `camelCase` → `Camel case`, for keys the console does not know yet. */
function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const reasons: Record<string, string> = {
  unknown_user: 'no such account',
  wrong_password: 'wrong password',
  account_locked: 'account locked after too many failures',
  ip_locked: 'address locked after too many failures',
  changed_during_sign_in: 'the account changed during sign-in',
  disabled: 'account disabled',
  no_password: 'the account has no password',
};

function valueText(key: string, value: unknown): string {
  if (key === 'status' && typeof value === 'number') {
    const text = statusTexts[value];
    return text ? `${value} ${text}` : String(value);
  }
  if (key === 'reason' && typeof value === 'string') return reasons[value] ?? value.replaceAll('_', ' ');
  if ((key === 'fields' || key === 'settings') && Array.isArray(value)) {
    return value.length === 0 ? 'nothing' : value.map((f) => fieldNames[String(f)] ?? humanize(String(f))).join(', ');
  }
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => valueText('', v)).join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (value === null || value === undefined) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export interface Fact {
  label: string;
  value: string;
}

/** The details as a key/value list, in the order recorded. */
export function detailFacts(details: AuditEvent['details']): Fact[] {
  if (!details) return [];
  return Object.entries(details).map(([key, value]) => ({
    label: keyLabels[key] ?? humanize(key),
    value: valueText(key, value),
  }));
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const list = (v: unknown): string | null => (Array.isArray(v) ? valueText('', v) : null);

/** One sentence about the event for the tables, or null when the facts say it all. */
export function summary(event: Pick<AuditEvent, 'action' | 'outcome' | 'details'>): string | null {
  const d = event.details ?? {};
  if (event.outcome === 'failure') {
    if (typeof d.status === 'number') return `Refused: ${valueText('status', d.status)}`;
    if (str(d.reason)) return `Refused: ${valueText('reason', d.reason)}`;
    return 'Refused';
  }
  switch (event.action) {
    case 'user.create':
      return d.withPassword === true ? 'Created with a password' : 'Created without a password';
    case 'user.update':
    case 'client.update':
    case 'ticket_type.update':
    case 'identity_provider.update':
    case 'api.update':
    case 'tenant.update':
      return Array.isArray(d.fields) ? `Changed ${valueText('fields', d.fields)}` : null;
    case 'user.role.grant':
      return str(d.role) ? `Granted role ${d.role}` : null;
    case 'user.role.revoke':
      return str(d.role) ? `Revoked role ${d.role}` : null;
    case 'user.identity.link':
      return str(d.provider) ? `Linked an identity at ${d.provider}` : null;
    case 'user.identity.unlink':
      return str(d.provider) ? `Unlinked the identity at ${d.provider}` : null;
    case 'user.sign_in.federated':
      return str(d.provider) ? `Signed in through ${d.provider}` : 'Signed in through an identity provider';
    case 'user.sessions.end':
      return typeof d.sessions === 'number' ? `Ended ${d.sessions} session${d.sessions === 1 ? '' : 's'}` : null;
    case 'api_key.create':
      return list(d.roles) ? `Holding ${list(d.roles)}` : null;
    case 'role.create':
      if (!Array.isArray(d.permissions)) return null;
      return d.permissions.length === 0 ? 'Grants no permissions' : `Grants ${list(d.permissions)}`;
    case 'consent.grant':
      return list(d.scopes) ? `Scopes ${list(d.scopes)}` : null;
    case 'ticket.issue':
      return typeof d.issued === 'number'
        ? `Issued ${d.issued}, reissued ${d.reissued ?? 0}, skipped ${d.skipped ?? 0}`
        : null;
    case 'ticket.disable':
      return typeof d.disabled === 'number' ? `Disabled ${d.disabled} of ${d.asked ?? d.disabled}` : null;
    case 'keys.rotate':
      return 'Rotated the signing keys';
    case 'login.password':
      return d.rehashed === true ? 'Signed in; password hash upgraded' : 'Signed in';
    default:
      return null;
  }
}
