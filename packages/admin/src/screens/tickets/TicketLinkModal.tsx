import { Text } from '@mantine/core';
import type { IssuedTicket } from '../../api/types';
import { SecretModal } from '../../components/SecretReveal';

/** A ticket just reissued, and whether its key is an email address (the server mails those the link). */
export interface Reissued {
  issued: IssuedTicket;
  email: string | null;
}

/** The link of a ticket just reissued: shown this once (Latchkey keeps only its hash). */
export function TicketLinkModal({ reissued, onClose }: { reissued: Reissued | null; onClose: () => void }) {
  return (
    <SecretModal
      opened={reissued !== null}
      onClose={onClose}
      title="New ticket link"
      secret={reissued?.issued.url ?? null}
      label="Ticket link"
    >
      {reissued && (
        <Text size="sm">
          A new ticket for <strong style={{ overflowWrap: 'anywhere' }}>{reissued.issued.foreignKey}</strong> replaces
          the old one, whose link no longer works.{' '}
          {reissued.email
            ? 'The invitation with this link is on its way to that address.'
            : 'Hand this link to its holder.'}
        </Text>
      )}
    </SecretModal>
  );
}
