/** What the Sign-in methods card says when the server refuses an unlink. */
import { ApiError } from '../../api/client';

/**
 * The server's 409 `last_sign_in_method` (the unlink would leave the user no way to sign in),
 * with what the admin can do about it; null for any other error.
 */
export function unlinkRefusal(error: unknown): ApiError | null {
  if (!(error instanceof ApiError) || error.code !== 'last_sign_in_method') return null;
  return new ApiError(
    error.status,
    error.code,
    `${error.message.replace(/\.?\s*$/, '.')} Set a password for them first, or let them link another way to sign in.`,
    error.details,
    error.requestId,
  );
}
