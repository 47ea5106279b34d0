import type { UserStatus } from '../../api/types';

/** How a user's status shows: `pending` is a self-registration waiting for its email's link. */
export const statusBadge: Record<UserStatus, { color: string; label: string }> = {
  active: { color: 'green', label: 'Active' },
  disabled: { color: 'gray', label: 'Disabled' },
  pending: { color: 'yellow', label: 'Pending verification' },
};
