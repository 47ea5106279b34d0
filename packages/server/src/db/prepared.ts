/**
 * Queries built and compiled once, then run with new values: for the statements every sign-in,
 * token and refresh runs. Kysely builds a query's tree, freezes it and compiles it to SQL on
 * every call, which costs more than SQLite takes to run a primary-key lookup (the oidc
 * benchmark's profile: about 1.3 ms of a sign-in's main thread went to Kysely's builder and
 * compiler, for some twenty statements). Here the builder runs once per dialect, with named
 * placeholders where the values go, and each call sends that SQL with its values as
 * parameters. The statement caches below (database.ts: SQLite's compiled statements,
 * PostgreSQL's named ones) then see one text per query.
 */
import { type Compilable, CompiledQuery, type Kysely, PostgresAdapter, type QueryResult } from 'kysely';
import type { Database } from './database.js';
import type { DB } from './schema.js';

type Values = Record<string, unknown>;

/** Where each parameter of the compiled SQL comes from: a value given per call, or a constant. */
type Slot = { name: string } | { value: unknown };

interface Plan {
  sql: string;
  slots: Slot[];
}

const MARK = '\u0000latchkey-parameter:';

/**
 * A query of `build`, compiled once per dialect. `build` gets the database and `p`, whose
 * properties stand for the values of each call (`p.id`): use them only where a value goes
 * (no arithmetic, no branching on them), so that each becomes one parameter. The result runs
 * the query with `values` on `db` (a transaction too); a value left out is NULL. `dialect`
 * is the one the query is compiled for.
 */
export function prepared<P extends Values, R = unknown>(
  build: (db: Kysely<DB>, p: P, dialect: Database['dialect']) => Compilable<R>,
): (db: Kysely<DB>, values: P) => Promise<QueryResult<R>> {
  const plans = new WeakMap<object, Plan>();
  const planFor = (db: Kysely<DB>): Plan => {
    // The compiled text depends on the dialect only: transactions share their database's adapter.
    const adapter = db.getExecutor().adapter;
    let plan = plans.get(adapter);
    if (plan) return plan;
    const names = new Map<string, string>();
    const p = new Proxy({} as P, {
      get: (_target, name) => {
        const mark = `${MARK}${String(name)}`;
        names.set(mark, String(name));
        return mark;
      },
    });
    const compiled = build(db, p, adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite').compile();
    if (compiled.sql.includes(MARK))
      throw new Error('a prepared query has a value in its SQL text, not as a parameter');
    plan = {
      sql: compiled.sql,
      slots: compiled.parameters.map((value) => {
        const name = typeof value === 'string' ? names.get(value) : undefined;
        // Arithmetic or text made of a placeholder: a constant that should have been a value.
        if ((typeof value === 'string' && value.includes(MARK) && name === undefined) || Number.isNaN(value)) {
          throw new Error('a prepared query computed with a placeholder instead of passing it as a value');
        }
        return name === undefined ? { value } : { name };
      }),
    };
    plans.set(adapter, plan);
    return plan;
  };
  return async (db, values) => {
    const plan = planFor(db);
    const parameters = plan.slots.map((slot) => ('name' in slot ? (values[slot.name] ?? null) : slot.value));
    return db.executeQuery<R>(CompiledQuery.raw(plan.sql, parameters));
  };
}
