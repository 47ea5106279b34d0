/**
 * Failed sign-in counters, per account and per client IP. A key that reaches its limit
 * within the window is locked for the tenant's lockout duration. Kept in Redis when
 * REDIS_URL is set (every node sees the same counts), else in the database.
 */
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

export interface LockoutPolicy {
  maxFailures: number;
  durationSeconds: number;
}

export interface KeyState {
  /** Milliseconds until unlocked, or 0 when not locked. */
  lockedMs: number;
  /** Something is recorded for the key (failures or a lock), so `reset` has work to do. */
  recorded: boolean;
}

export interface LockoutStore {
  /** The state of each key, in the order given, in one round trip. */
  states(tenantId: string, keys: readonly string[]): Promise<KeyState[]>;
  /** Counts one failure; locks the key when it reaches the limit. */
  fail(tenantId: string, key: string, policy: LockoutPolicy): Promise<void>;
  reset(tenantId: string, key: string): Promise<void>;
}

export class DbLockoutStore implements LockoutStore {
  constructor(private readonly db: Kysely<DB>) {}

  async states(tenantId: string, keys: readonly string[]): Promise<KeyState[]> {
    const ids = keys.map((key) => `${tenantId}:${key}`);
    const rows = await this.db
      .selectFrom('login_failures')
      .select(['key', 'locked_until'])
      .where('key', 'in', ids)
      .execute();
    const now = Date.now();
    return ids.map((id) => {
      const row = rows.find((r) => r.key === id);
      return { lockedMs: Math.max((row?.locked_until ?? 0) - now, 0), recorded: row !== undefined };
    });
  }

  async fail(tenantId: string, key: string, policy: LockoutPolicy): Promise<void> {
    const id = `${tenantId}:${key}`;
    const now = Date.now();
    const windowMs = policy.durationSeconds * 1000;
    await this.db.transaction().execute(async (trx) => {
      // Start a new window when the last one ended; else count within it (atomic increment).
      await trx
        .insertInto('login_failures')
        .values({ key: id, tenant_id: tenantId, count: 1, window_started_at: now, locked_until: null })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            count: eb
              .case()
              .when('login_failures.window_started_at', '<=', now - windowMs)
              .then(1)
              .else(eb('login_failures.count', '+', 1))
              .end(),
            window_started_at: eb
              .case()
              .when('login_failures.window_started_at', '<=', now - windowMs)
              .then(now)
              .else(eb.ref('login_failures.window_started_at'))
              .end(),
          })),
        )
        .execute();
      await trx
        .updateTable('login_failures')
        .set({ locked_until: now + windowMs, count: 0, window_started_at: now })
        .where('key', '=', id)
        .where('count', '>=', policy.maxFailures)
        .execute();
    });
  }

  async reset(tenantId: string, key: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('key', '=', `${tenantId}:${key}`).execute();
  }
}

export class RedisLockoutStore implements LockoutStore {
  constructor(private readonly redis: Redis) {}

  async states(tenantId: string, keys: readonly string[]): Promise<KeyState[]> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.pttl(`lk:lock:${tenantId}:${key}`).exists(`lk:fail:${tenantId}:${key}`);
    const replies = ((await pipeline.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return Number(value);
    });
    return keys.map((_, i) => {
      const ttl = replies[2 * i] ?? -2;
      return { lockedMs: Math.max(ttl, 0), recorded: ttl !== -2 || replies[2 * i + 1] === 1 };
    });
  }

  async fail(tenantId: string, key: string, policy: LockoutPolicy): Promise<void> {
    const counter = `lk:fail:${tenantId}:${key}`;
    const windowMs = policy.durationSeconds * 1000;
    const [[, count]] = (await this.redis.multi().incr(counter).pexpire(counter, windowMs, 'NX').exec()) as [
      [Error | null, number],
    ];
    if (count >= policy.maxFailures) {
      await this.redis.multi().set(`lk:lock:${tenantId}:${key}`, '1', 'PX', windowMs).del(counter).exec();
    }
  }

  async reset(tenantId: string, key: string): Promise<void> {
    await this.redis.del(`lk:fail:${tenantId}:${key}`, `lk:lock:${tenantId}:${key}`);
  }
}
