/**
 * A 403 `forbidden` from the granting rule (docs/authorization.md) says in `details.missing`
 * what the caller would hand out without holding it. This turns it into lines an admin can act
 * on ("Admin permissions you do not hold: users:write"); other errors answer null.
 */
import { ApiError } from '../api/client';
import type { GrantRefusalDetails } from '../api/types';

export function grantRefusalDetails(error: unknown): GrantRefusalDetails | null {
  if (!(error instanceof ApiError) || error.status !== 403 || error.code !== 'forbidden') return null;
  const details = error.details as Partial<GrantRefusalDetails> | undefined;
  const missing = details?.missing;
  if (!missing || typeof missing !== 'object') return null;
  return { missing, ...(Array.isArray(details.roles) ? { roles: details.roles } : {}) };
}

/** What is missing, one line per kind; `apiName` names an API by its identifier. */
export function grantRefusalLines(
  details: GrantRefusalDetails,
  apiName: (identifier: string) => string = (id) => id,
): string[] {
  const { missing } = details;
  const lines: string[] = [];
  if (missing.systemWide) lines.push('It reaches every tenant (system:admin): only a system admin can hand that out.');
  if (missing.tenantWide) lines.push('It reaches everything in this tenant (tenant:admin), which you do not hold.');
  if (missing.permissions?.length) {
    lines.push(`Admin permissions you do not hold: ${missing.permissions.join(', ')}`);
  }
  const perApi = new Map<string, string[]>();
  for (const { api, scope } of missing.apiPermissions ?? []) perApi.set(api, [...(perApi.get(api) ?? []), scope]);
  for (const [api, scopes] of perApi) {
    const name = apiName(api);
    lines.push(`Scopes of ${name === api ? api : `${name} (${api})`} you do not hold: ${scopes.join(', ')}`);
  }
  if (details.roles?.length) lines.push(`Roles carrying more than you hold: ${details.roles.join(', ')}`);
  return lines;
}
