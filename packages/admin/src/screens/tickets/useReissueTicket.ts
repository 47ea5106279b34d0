/** Reissuing one live ticket: the new link (shown once) for the modal, the lists refreshed. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useApi } from '../../api/ApiProvider';
import type { ApiError } from '../../api/client';
import type { IssuedTicket, Ticket } from '../../api/types';
import { useCurrentTenant } from '../../app/tenant';
import { ticketsKey, ticketTypePath } from './queries';
import type { Reissued } from './TicketLinkModal';

export function useReissueTicket() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { slug } = useCurrentTenant();
  const [reissued, setReissued] = useState<Reissued | null>(null);
  const mutation = useMutation<IssuedTicket, ApiError, Ticket>({
    mutationFn: (ticket) =>
      api.post<IssuedTicket>(ticketTypePath(slug, ticket.typeId, `/tickets/${encodeURIComponent(ticket.id)}/reissue`)),
    onSuccess: (issued, ticket) => {
      setReissued({ issued, email: ticket.email });
      void queryClient.invalidateQueries({ queryKey: ticketsKey(slug) });
    },
  });
  return {
    /** Rejects with the API's refusal (409 `ticket_not_live` for a ticket used or replaced meanwhile). */
    reissue: mutation.mutateAsync,
    /** The ticket being reissued now. */
    pendingId: mutation.isPending ? (mutation.variables?.id ?? null) : null,
    error: mutation.error,
    clearError: mutation.reset,
    reissued,
    closeLink: () => setReissued(null),
  };
}
