/**
 * The scopes of the tenant's own APIs a role carries (`apiPermissions`, as Auth0's RBAC names
 * them), as the console edits and shows them: grouped per API, each pair once, in a stable order
 * so that a form can tell an edit from the same list sent back.
 */
import type { ApiPermission, ResourceApi } from '../../api/types';

/** Each pair once, sorted by API then scope. */
export function normalizeApiPermissions(list: readonly ApiPermission[]): ApiPermission[] {
  const seen = new Map<string, ApiPermission>();
  for (const p of list) seen.set(`${p.api}\n${p.scope}`, { api: p.api, scope: p.scope });
  return [...seen.values()].sort((a, b) =>
    a.api === b.api ? a.scope.localeCompare(b.scope) : a.api.localeCompare(b.api),
  );
}

/** API identifier → its scopes in the list, APIs in the list's order. */
export function scopesByApi(list: readonly ApiPermission[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { api, scope } of list) {
    const scopes = out.get(api) ?? [];
    if (!scopes.includes(scope)) scopes.push(scope);
    out.set(api, scopes);
  }
  return out;
}

/** The list with the scopes of one API replaced by `scopes` (none: the API is left out). */
export function setApiScopes(list: readonly ApiPermission[], api: string, scopes: readonly string[]): ApiPermission[] {
  return normalizeApiPermissions([...list.filter((p) => p.api !== api), ...scopes.map((scope) => ({ api, scope }))]);
}

/** The APIs a role can take scopes of: the tenant's own, with at least one scope (not the admin API). */
export function apisWithScopes(apis: readonly ResourceApi[]): ResourceApi[] {
  return apis.filter((a) => !a.builtin && a.scopes.length > 0);
}

/** An API's name for a list, or its identifier when the tenant no longer has it. */
export function apiLabel(identifier: string, apis: readonly ResourceApi[]): string {
  return apis.find((a) => a.identifier === identifier)?.name ?? identifier;
}

/** One line for a list: "Orders: orders:read, orders:write · Billing: invoices:read", "No API permissions". */
export function summarizeApiPermissions(list: readonly ApiPermission[], apis: readonly ResourceApi[]): string {
  const groups = scopesByApi(normalizeApiPermissions(list));
  if (groups.size === 0) return 'No API permissions';
  return [...groups].map(([api, scopes]) => `${apiLabel(api, apis)}: ${scopes.join(', ')}`).join(' · ');
}
