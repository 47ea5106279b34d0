/** Query keys and API paths of a tenant's identity providers, and of a user's identities at them. */
import { tenantPath } from '../../api/client';
import { queryKeys } from '../../api/queries';

export const idpsKey = (slug: string) => ['tenant', slug, 'identity-providers'] as const;
export const idpKey = (slug: string, id: string) => [...idpsKey(slug), 'one', id] as const;
export const idpsListKey = (slug: string) => [...idpsKey(slug), 'list'] as const;

export const idpPath = (slug: string, id?: string) =>
  tenantPath(slug, id === undefined ? '/identity-providers' : `/identity-providers/${encodeURIComponent(id)}`);

export const identitiesKey = (slug: string, userId: string) => [...queryKeys.user(slug, userId), 'identities'] as const;

export const identitiesPath = (slug: string, userId: string, identityId?: string) =>
  tenantPath(
    slug,
    `/users/${encodeURIComponent(userId)}/identities${identityId === undefined ? '' : `/${encodeURIComponent(identityId)}`}`,
  );
