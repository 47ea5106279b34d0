/**
 * Takes out of the stored OIDC payloads the values that redeem: until now oidc-provider's
 * payloads were stored with the value they are keyed by (`jti`: the code, the token, the
 * session cookie, the interaction uid), so a copy of the database could redeem live refresh
 * tokens. The adapter now stores payloads without it and puts it back on read
 * (oidc/adapter.ts); this does the same to the rows already there: no `jti` but on grants
 * (whose id is a name, not a secret), and on interactions no `session.cookie` and no uid at
 * the end of `returnTo`. Expired rows go instead. Rows are read in pages by primary key and
 * written back one by one, in plain SQL and JSON handled here, so both dialects (and
 * PostgreSQL-compatible ones) do the same; payloads are JSON text that PostgreSQL's `jsonb`
 * could refuse (`\u0000`), hence not in SQL. Immutable once released: this is what was
 * stored then, whatever the adapter does later.
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from '../migrate.js';

const PAGE = 500;

/** The payload without what redeems, or undefined when there is nothing to take out. */
function stripped(model: string, payload: Record<string, unknown>): Record<string, unknown> | undefined {
  const { jti, ...rest } = payload;
  let changed = jti !== undefined;
  if (model === 'Interaction') {
    const session = rest.session;
    if (typeof session === 'object' && session !== null && 'cookie' in session) {
      const { cookie: _cookie, ...named } = session as Record<string, unknown>;
      rest.session = named;
      changed = true;
    }
    if (typeof jti === 'string' && typeof rest.returnTo === 'string' && rest.returnTo.endsWith(`/${jti}`)) {
      rest.returnTo = rest.returnTo.slice(0, -jti.length);
    }
  }
  return changed ? rest : undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema as it was then
export async function up(db: Kysely<any>, _ctx: MigrationContext): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('expires_at', '<=', Date.now()).execute();
  let after: { model: string; id: string } | undefined;
  for (;;) {
    let page = db
      .selectFrom('oidc_payloads')
      .select(['model', 'id', 'payload'])
      .where('model', '<>', 'Grant')
      .orderBy('model')
      .orderBy('id')
      .limit(PAGE);
    if (after) {
      const { model, id } = after;
      page = page.where((eb) => eb.or([eb('model', '>', model), eb.and([eb('model', '=', model), eb('id', '>', id)])]));
    }
    const rows = (await page.execute()) as { model: string; id: string; payload: string }[];
    for (const row of rows) {
      const payload = stripped(row.model, JSON.parse(row.payload) as Record<string, unknown>);
      if (!payload) continue;
      await db
        .updateTable('oidc_payloads')
        .set({ payload: JSON.stringify(payload) })
        .where('model', '=', row.model)
        .where('id', '=', row.id)
        .execute();
    }
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) return;
    after = { model: last.model, id: last.id };
  }
}
