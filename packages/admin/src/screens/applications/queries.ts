/** Query keys and list parameters of the applications (OAuth clients) of a tenant. */
import type { QueryValue } from '../../api/client';
import type { ClientKind } from '../../api/types';
import { KIND_ORDER } from './clientKinds';

export const clientsKey = (slug: string) => ['tenant', slug, 'clients'] as const;
export const clientKey = (slug: string, id: string) => ['tenant', slug, 'clients', 'one', id] as const;

export const CLIENT_SORTS = ['name', '-name', 'createdAt', '-createdAt'] as const;
export const DEFAULT_CLIENT_SORT = 'name';

export interface ClientsListParams {
  kind: ClientKind | '';
  sort: string;
  cursor: string | null;
}

export function clientsListKey(slug: string, params: ClientsListParams) {
  return [...clientsKey(slug), 'list', params] as const;
}

export function clientsListQuery(params: ClientsListParams): Record<string, QueryValue> {
  return {
    kind: params.kind || undefined,
    sort: params.sort === DEFAULT_CLIENT_SORT ? undefined : params.sort,
    limit: 50,
    cursor: params.cursor ?? undefined,
  };
}

export function kindFrom(raw: string | null): ClientKind | '' {
  return raw && (KIND_ORDER as readonly string[]).includes(raw) ? (raw as ClientKind) : '';
}

export function clientSortFrom(raw: string | null): string {
  return raw && (CLIENT_SORTS as readonly string[]).includes(raw) ? raw : DEFAULT_CLIENT_SORT;
}
