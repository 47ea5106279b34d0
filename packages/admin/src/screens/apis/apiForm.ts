/**
 * The API (resource server) form: its identifier (the `aud` of its tokens), name, scopes and
 * access token lifetime, with the server's rules said before sending.
 */
import type { ResourceApi } from '../../api/types';

export interface ScopeRow {
  /** Stable React key; not sent. */
  key: string;
  name: string;
  description: string;
}

export interface ApiFormValues {
  identifier: string;
  name: string;
  scopes: ScopeRow[];
  /** '' means the tenant's access token lifetime. */
  accessTokenTtlSeconds: number | '';
}

let nextKey = 0;
export function scopeRow(name = '', description = ''): ScopeRow {
  nextKey += 1;
  return { key: `scope-${nextKey}`, name, description };
}

export const emptyApiForm = (): ApiFormValues => ({ identifier: '', name: '', scopes: [], accessTokenTtlSeconds: '' });

export function apiToForm(api: ResourceApi): ApiFormValues {
  return {
    identifier: api.identifier,
    name: api.name,
    scopes: api.scopes.map((s) => scopeRow(s.name, s.description)),
    accessTokenTtlSeconds: api.accessTokenTtlSeconds,
  };
}

/**
 * The server keeps identifiers exactly as a URL parser writes them, so that `aud` compares
 * byte for byte: `https://api.example.com` must be written `https://api.example.com/`.
 */
export function identifierProblem(raw: string): string | null {
  const v = raw.trim();
  if (!v) return 'Give the API an identifier, like https://api.example.com/orders';
  if (v.length > 2048) return 'At most 2048 characters';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'An absolute URI, like https://api.example.com/orders';
  }
  if (u.hash || v.includes('#')) return 'No fragment (#…)';
  if (u.href !== v) return `Write it as ${u.href} (the normalised form tokens will carry)`;
  return null;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const OIDC = new Set(['openid', 'profile', 'email', 'offline_access']);

export function scopeNameProblem(raw: string): string | null {
  const name = raw.trim();
  if (!name) return 'Name the scope, like orders:read';
  if (name.length > 100) return 'At most 100 characters';
  if (!SCOPE_TOKEN.test(name)) return 'No spaces, quotes or backslashes';
  if (OIDC.has(name)) return 'That is an OpenID Connect scope';
  return null;
}

/** Field path → message, for every problem the form can see before sending. */
export function validateApiForm(v: ApiFormValues, { creating }: { creating: boolean }): Record<string, string> {
  const errors: Record<string, string> = {};
  if (creating) {
    const p = identifierProblem(v.identifier);
    if (p) errors.identifier = p;
  }
  const name = v.name.trim();
  if (!name) errors.name = 'Give the API a name';
  else if (name.length > 200) errors.name = 'At most 200 characters';
  if (v.scopes.length > 100) errors.scopes = 'At most 100 scopes';
  const seen = new Map<string, number>();
  v.scopes.forEach((s, i) => {
    const p = scopeNameProblem(s.name);
    if (p) errors[`scopes.${i}.name`] = p;
    else if (seen.has(s.name.trim()))
      errors[`scopes.${i}.name`] = `Already defined (scope ${(seen.get(s.name.trim()) ?? 0) + 1})`;
    seen.set(s.name.trim(), seen.get(s.name.trim()) ?? i);
    if (s.description.length > 500) errors[`scopes.${i}.description`] = 'At most 500 characters';
  });
  const ttl = v.accessTokenTtlSeconds;
  if (ttl !== '' && (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400)) {
    errors.accessTokenTtlSeconds = 'Between 1 minute and 1 day';
  }
  return errors;
}

const scopesBody = (rows: ScopeRow[]) => rows.map((s) => ({ name: s.name.trim(), description: s.description.trim() }));

export function createApiBody(v: ApiFormValues): Record<string, unknown> {
  return {
    identifier: v.identifier.trim(),
    name: v.name.trim(),
    scopes: scopesBody(v.scopes),
    ...(v.accessTokenTtlSeconds === '' ? {} : { accessTokenTtlSeconds: v.accessTokenTtlSeconds }),
  };
}

/** What changed (the identifier never does; an emptied lifetime cannot be sent, so it is left as it was). */
export function patchApiBody(initial: ApiFormValues, v: ApiFormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (v.name.trim() !== initial.name.trim()) body.name = v.name.trim();
  const a = JSON.stringify(scopesBody(initial.scopes));
  const b = JSON.stringify(scopesBody(v.scopes));
  if (a !== b) body.scopes = scopesBody(v.scopes);
  if (v.accessTokenTtlSeconds !== '' && v.accessTokenTtlSeconds !== initial.accessTokenTtlSeconds) {
    body.accessTokenTtlSeconds = v.accessTokenTtlSeconds;
  }
  return body;
}

/** Form paths API errors may name, for the current number of scope rows. */
export function apiFormFields(scopeCount: number): string[] {
  const fields = ['identifier', 'name', 'scopes', 'accessTokenTtlSeconds'];
  for (let i = 0; i < scopeCount; i++) fields.push(`scopes.${i}.name`, `scopes.${i}.description`);
  return fields;
}
