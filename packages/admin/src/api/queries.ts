/**
 * Query keys and hooks shared by several screens. A screen's own queries live in its folder;
 * keys start with the tenant slug so that switching tenants never shows another tenant's data.
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useApi } from './ApiProvider';
import { type ApiError, tenantPath } from './client';
import type { Page, Role, Tenant, TenantStats } from './types';

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
export function useRolesQuery(slug: string) {
  const api = useApi();
  return useQuery<Role[], ApiError>({
    queryKey: queryKeys.roles(slug),
    queryFn: async ({ signal }) =>
      (await api.get<Page<Role>>(tenantPath(slug, '/roles'), { query: { limit: 200 }, signal })).items,
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
}
