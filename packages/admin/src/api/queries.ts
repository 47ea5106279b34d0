/**
 * Query keys and hooks shared by several screens. A screen's own queries live in its folder;
 * keys start with the tenant slug so that switching tenants never shows another tenant's data.
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useAuth } from '../auth/AuthProvider';
import { accessTokenRoles, holdsPermission, needsRoleDefinitions } from '../auth/permissions';
import { useApi } from './ApiProvider';
import { type ApiError, tenantPath } from './client';
import type { Page, Permission, Role, Tenant, TenantStats } from './types';

export const queryKeys = {
  tenants: (params: object) => ['tenants', params] as const,
  tenant: (slug: string) => ['tenant', slug] as const,
  stats: (slug: string) => ['tenant', slug, 'stats'] as const,
  roles: (slug: string) => ['tenant', slug, 'roles'] as const,
  users: (slug: string, params?: object) => (params ? ['tenant', slug, 'users', params] : ['tenant', slug, 'users']),
  user: (slug: string, id: string) => ['tenant', slug, 'user', id] as const,
  audit: (slug: string, params?: object) => (params ? ['tenant', slug, 'audit', params] : ['tenant', slug, 'audit']),
};

export function useTenantQuery(slug: string) {
  const api = useApi();
  return useQuery<Tenant, ApiError>({
    queryKey: queryKeys.tenant(slug),
    queryFn: ({ signal }) => api.get<Tenant>(tenantPath(slug), { signal }),
  });
}

export function useTenantStatsQuery(slug: string, options: { enabled?: boolean } = {}) {
  const api = useApi();
  return useQuery<TenantStats, ApiError>({
    queryKey: queryKeys.stats(slug),
    queryFn: ({ signal }) => api.get<TenantStats>(tenantPath(slug, '/stats'), { signal }),
    staleTime: 30_000,
    refetchInterval: 60_000,
    enabled: options.enabled ?? true,
  });
}

/** Every role of a tenant (roles are few: up to 200 in one page is plenty for pickers). */
export function useRolesQuery(slug: string, options: { enabled?: boolean } = {}) {
  const api = useApi();
  return useQuery<Role[], ApiError>({
    queryKey: queryKeys.roles(slug),
    queryFn: async ({ signal }) =>
      (await api.get<Page<Role>>(tenantPath(slug, '/roles'), { query: { limit: 200 }, signal })).items,
    staleTime: 60_000,
    placeholderData: keepPreviousData,
    enabled: options.enabled ?? true,
  });
}

/**
 * Whether the signed-in admin holds `permission` in tenant `slug`, to hide actions the API would
 * refuse (auth/permissions.ts). Built-in admin roles answer at once; custom roles need their
 * permissions (`roles:read`): false while they load, and true when they cannot be read, since
 * the API decides and a hidden action the admin may take would be worse than a refusal.
 */
export function usePermission(slug: string, permission: Permission): boolean {
  const { state, client } = useAuth();
  const scope = client.scope;
  const roles = state.status === 'signed-in' ? accessTokenRoles(state.session.accessToken) : null;
  const needed = needsRoleDefinitions({ scope, slug, roles }, permission);
  const definitions = useRolesQuery(scope.authTenant, { enabled: needed });
  if (!needed) return holdsPermission({ scope, slug, roles }, permission) ?? true;
  if (definitions.isPending) return false;
  return holdsPermission({ scope, slug, roles, definitions: definitions.data }, permission) ?? true;
}
