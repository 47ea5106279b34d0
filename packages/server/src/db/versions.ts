/**
 * Optimistic concurrency: rows carry a `version`, and a change made on what was read goes
 * through only if the row still has the version read; else the caller gets a 412.
 */
import type { Kysely } from 'kysely';
import { preconditionFailed } from '../http/errors.js';
import type { DB } from './schema.js';

/** Deletes the row if it still has `version`; else throws 412 (it changed, or went, meanwhile). */
export async function deleteAtVersion(
  trx: Kysely<DB>,
  table: 'users' | 'clients' | 'apis' | 'ticket_types' | 'identity_providers',
  id: string,
  version: number,
): Promise<void> {
  const res = await trx
    .deleteFrom(table as 'users')
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  if (res.numDeletedRows === 0n) throw preconditionFailed();
}
