/**
 * Ticket types and single tickets made through the admin API, for the tests of the ticket
 * page: a type with `defaults` (then the test's own fields), and one ticket of a type for a key.
 */
import { expect } from 'vitest';
import type { ApiClient } from './server.js';

export function ticketMaker(api: () => { admin: ApiClient; slug: string }, defaults: Record<string, unknown>) {
  let n = 0;
  return {
    /** A new type of the tenant; its id. */
    async makeType(body: Record<string, unknown> = {}): Promise<string> {
      const { admin, slug } = api();
      n += 1;
      const res = await admin('POST', `/api/v1/tenants/${slug}/ticket-types`, {
        body: { name: `type ${n}`, ...defaults, ...body },
      });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    },
    /** One ticket of the type for `key`: its id and its link (with the secret, shown once). */
    async issue(typeId: string, key: string): Promise<{ ticketId: string; url: string }> {
      const { admin, slug } = api();
      const res = await admin('POST', `/api/v1/tenants/${slug}/ticket-types/${typeId}/tickets`, {
        body: { foreignKeys: [key] },
      });
      expect(res.status, res.text).toBe(200);
      return res.body.items[0] as { ticketId: string; url: string };
    },
  };
}
