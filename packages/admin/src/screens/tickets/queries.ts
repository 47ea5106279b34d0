/**
 * Query keys, list parameters and shared queries of a tenant's ticket types, their tickets and
 * the reissue queue; how each ticket state is shown.
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useApi } from '../../api/ApiProvider';
import { type ApiError, type QueryValue, tenantPath } from '../../api/client';
import { type Page, TICKET_STATES, type TicketState, type TicketType } from '../../api/types';

export const ticketTypesKey = (slug: string) => ['tenant', slug, 'ticket-types'] as const;
export const ticketTypeKey = (slug: string, id: string) => [...ticketTypesKey(slug), 'one', id] as const;
/** Every ticket list of the tenant (all types, and the reissue queue) starts with this. */
export const ticketsKey = (slug: string) => ['tenant', slug, 'tickets'] as const;
export const reissueQueueKey = (slug: string) => [...ticketsKey(slug), 'reissue-requests'] as const;

export const ticketTypePath = (slug: string, id: string, rest = '') =>
  tenantPath(slug, `/ticket-types/${encodeURIComponent(id)}${rest}`);

export const TICKET_TYPE_SORTS = ['name', '-name', 'createdAt', '-createdAt'] as const;
export const DEFAULT_TICKET_TYPE_SORT = 'name';

export function ticketTypeSortFrom(raw: string | null): string {
  return raw && (TICKET_TYPE_SORTS as readonly string[]).includes(raw) ? raw : DEFAULT_TICKET_TYPE_SORT;
}

export function ticketTypesListQuery(params: { sort: string; cursor: string | null }): Record<string, QueryValue> {
  return {
    sort: params.sort === DEFAULT_TICKET_TYPE_SORT ? undefined : params.sort,
    limit: 50,
    cursor: params.cursor ?? undefined,
  };
}

/** Up to 200 types of a tenant, by name: for naming a type where only its id is at hand. */
export function useTicketTypeNames(slug: string) {
  const api = useApi();
  return useQuery<Map<string, string>, ApiError>({
    queryKey: [...ticketTypesKey(slug), 'names'],
    queryFn: async ({ signal }) => {
      const page = await api.get<Page<TicketType>>(tenantPath(slug, '/ticket-types'), {
        query: { limit: 200 },
        signal,
      });
      return new Map(page.items.map((t) => [t.id, t.name]));
    },
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
}

export function ticketStateFrom(raw: string | null): TicketState | '' {
  return raw && (TICKET_STATES as readonly string[]).includes(raw) ? (raw as TicketState) : '';
}

export interface TicketsFilter {
  state: TicketState | '';
  /** An exact foreign key (an email address matches in any case: the API normalises it). */
  foreignKey: string;
}

export function ticketsListQuery(filter: TicketsFilter, cursor: string | null): Record<string, QueryValue> {
  return {
    state: filter.state || undefined,
    foreignKey: filter.foreignKey.trim() || undefined,
    limit: 50,
    cursor: cursor ?? undefined,
  };
}

export const TICKET_STATE_INFO: Record<TicketState, { label: string; color: string; description: string }> = {
  usable: { label: 'Usable', color: 'green', description: 'Its link works' },
  expired: { label: 'Expired', color: 'gray', description: 'Past its time; a new batch or a reissue replaces it' },
  reissue_requested: {
    label: 'Reissue requested',
    color: 'yellow',
    description: 'Expired, and its holder asked for a new one',
  },
  used: { label: 'Used', color: 'blue', description: 'Someone signed in or registered with it' },
  disabled: { label: 'Disabled', color: 'red', description: 'Turned off by an admin' },
  reissued: { label: 'Reissued', color: 'grape', description: 'Replaced by a newer ticket' },
};

/** A live ticket (at most one per key and type) can be disabled or reissued. */
export function isLive(state: TicketState): boolean {
  return state === 'usable' || state === 'expired' || state === 'reissue_requested';
}
