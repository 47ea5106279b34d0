/** The APIs (resource servers) of a tenant: one short list (at most 101), the built-in admin API first. */
import { useQuery } from '@tanstack/react-query';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, tenantPath } from '../../api/client';
import type { Page, ResourceApi } from '../../api/types';

export const apisKey = (slug: string) => ['tenant', slug, 'apis'] as const;
export const apiKey = (slug: string, id: string) => ['tenant', slug, 'apis', id] as const;

export function useApisQuery(slug: string, options: { enabled?: boolean } = {}) {
  const api = useApi();
  return useQuery<ResourceApi[], ApiError>({
    queryKey: apisKey(slug),
    queryFn: async ({ signal }) => (await api.get<Page<ResourceApi>>(tenantPath(slug, '/apis'), { signal })).items,
    staleTime: 30_000,
    enabled: options.enabled ?? true,
  });
}
