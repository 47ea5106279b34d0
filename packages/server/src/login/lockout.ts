/**
 * Failed sign-in counters, per account and per client IP. A key that reaches its limit
 * within the window is locked for the tenant's lockout duration. Kept in Redis when
 * REDIS_URL is set (every node sees the same counts), else in the database.
 *
 * Attempts are counted when they begin (`reserve`), not when their password check ends:
 * checks wait their turn at argon2id, so guesses sent all at once would all pass a check of
 * the count made beforehand. Only the first `maxFailures` of them are checked; the rest are
 * refused as locked, before any hashing. A failure locks the key once the count reached the
 * limit (`lockIfReached`). A success clears an account's count (`reset`), and gives a client
 * IP's reservation back (`release`): the IP's limit, shared by many people, counts failures
 * (and attempts under way), not sign-ins.
 */
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { DB } from '../db/schema.js';

export interface LockoutPolicy {
  maxFailures: number;
  durationSeconds: number;
}

export interface Reservation {
  /** The attempt may be checked: the key is not locked and the attempt is within the limit. */
  allowed: boolean;
  /** Milliseconds until the key's lock ends, when it was locked already (else 0). */
  lockedMs: number;
}

export interface LockoutStore {
  /** Counts an attempt as it begins, atomically; a locked key counts nothing. */
  reserve(tenantId: string, key: string, policy: LockoutPolicy): Promise<Reservation>;
  /**
   * After a failed attempt that `reserve` counted: locks the key if the count reached the
   * limit. True when this call locked it (of failures ending at once, exactly one does).
   */
  lockIfReached(tenantId: string, key: string, policy: LockoutPolicy): Promise<boolean>;
  reset(tenantId: string, key: string): Promise<void>;
  /** Takes back one attempt that `reserve` counted (it succeeded); a locked key stays locked. */
  release(tenantId: string, key: string): Promise<void>;
  /** A sign-in that succeeded: `reset` of the account's key and `release` of the address's, at once. */
  succeeded(tenantId: string, accountKey: string, ipKey: string): Promise<void>;
}

export class DbLockoutStore implements LockoutStore {
  constructor(private readonly db: Kysely<DB>) {}

  async reserve(tenantId: string, key: string, policy: LockoutPolicy): Promise<Reservation> {
    const id = `${tenantId}:${key}`;
    const now = Date.now();
    const windowMs = policy.durationSeconds * 1000;
    // One statement: a locked key stays as it is; else a new window starts or the count grows.
    const [row] = (await reserveCounter(this.db, { key: id, tenantId, now, windowStartedBefore: now - windowMs })).rows;
    if (!row) throw new Error('the sign-in counter was not written');
    const lockedMs = Math.max(0, (row.locked_until ?? 0) - now);
    return { allowed: lockedMs === 0 && row.count <= policy.maxFailures, lockedMs };
  }

  async lockIfReached(tenantId: string, key: string, policy: LockoutPolicy): Promise<boolean> {
    const now = Date.now();
    // The lock sets the count back to 0: a second failure ending at once finds nothing to lock.
    const result = await this.db
      .updateTable('login_failures')
      .set({ locked_until: now + policy.durationSeconds * 1000, count: 0, window_started_at: now })
      .where('key', '=', `${tenantId}:${key}`)
      .where('count', '>=', policy.maxFailures)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async reset(tenantId: string, key: string): Promise<void> {
    await resetCounter(this.db, { key: `${tenantId}:${key}` });
  }

  async release(tenantId: string, key: string): Promise<void> {
    await releaseAttempt(this.db, { key: `${tenantId}:${key}`, now: Date.now() });
  }

  /**
   * One statement: the account's counter to zero and unlocked (its row stays until the purge,
   * as a count of nothing), the address's taken back by one unless it is locked.
   */
  async succeeded(tenantId: string, accountKey: string, ipKey: string): Promise<void> {
    await clearAndRelease(this.db, {
      account: `${tenantId}:${accountKey}`,
      ip: `${tenantId}:${ipKey}`,
      now: Date.now(),
    });
  }
}

// The statements of every sign-in, prepared (db/prepared.ts).
const reserveCounter = prepared((db, p: { key: string; tenantId: string; now: number; windowStartedBefore: number }) =>
  db
    .insertInto('login_failures')
    .values({ key: p.key, tenant_id: p.tenantId, count: 1, window_started_at: p.now, locked_until: null })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => {
        const locked = eb('login_failures.locked_until', '>', p.now);
        const expired = eb('login_failures.window_started_at', '<=', p.windowStartedBefore);
        return {
          count: eb
            .case()
            .when(locked)
            .then(eb.ref('login_failures.count'))
            .when(expired)
            .then(1)
            .else(eb('login_failures.count', '+', 1))
            .end(),
          // A value in a CASE is written into the SQL unless it is `eb.val`.
          window_started_at: eb
            .case()
            .when(locked)
            .then(eb.ref('login_failures.window_started_at'))
            .when(expired)
            .then(eb.val(p.now))
            .else(eb.ref('login_failures.window_started_at'))
            .end(),
        };
      }),
    )
    .returning(['count', 'locked_until']),
);

const resetCounter = prepared((db, p: { key: string }) => db.deleteFrom('login_failures').where('key', '=', p.key));

const clearAndRelease = prepared((db, p: { account: string; ip: string; now: number }) =>
  db
    .updateTable('login_failures')
    .set((eb) => ({
      count: eb
        .case()
        .when('key', '=', p.account)
        .then(0)
        .else(eb('count', '-', 1))
        .end(),
      locked_until: eb.case().when('key', '=', p.account).then(null).else(eb.ref('locked_until')).end(),
    }))
    .where((eb) =>
      eb.or([
        eb('key', '=', p.account),
        eb.and([
          eb('key', '=', p.ip),
          eb('count', '>', 0),
          eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', p.now)]),
        ]),
      ]),
    ),
);

const releaseAttempt = prepared((db, p: { key: string; now: number }) =>
  db
    .updateTable('login_failures')
    .set((eb) => ({ count: eb('count', '-', 1) }))
    .where('key', '=', p.key)
    .where('count', '>', 0)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', p.now)])),
);

/** Deletes counters whose window and lock have both ended (the longest lockout lasts a day). */
export async function purgeLoginFailures(db: Kysely<DB>): Promise<number> {
  const before = Date.now() - 86_400_000;
  const res = await db
    .deleteFrom('login_failures')
    .where('window_started_at', '<=', before)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', before)]))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** KEYS: lock, counter. ARGV: window ms. Returns [count, 0], or [-1, ms left] when locked. */
const reserveScript = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then return {-1, ttl} end
local count = redis.call('INCR', KEYS[2])
if count == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return {count, 0}`;

/** KEYS: lock, counter. ARGV: window ms, limit. Returns 1 when it locked the key, else 0. */
const lockIfReachedScript = `
local count = tonumber(redis.call('GET', KEYS[2]) or '0')
if count >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0`;

/** KEYS: lock, counter. Takes one off the counter unless the key is locked or the count gone. */
const releaseScript = `
if redis.call('PTTL', KEYS[1]) > 0 then return 0 end
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then return redis.call('DECR', KEYS[2]) end
return 0`;

export class RedisLockoutStore implements LockoutStore {
  constructor(private readonly redis: Redis) {}

  async reserve(tenantId: string, key: string, policy: LockoutPolicy): Promise<Reservation> {
    const [count, lockedMs] = (await this.redis.eval(
      reserveScript,
      2,
      `lk:lock:${tenantId}:${key}`,
      `lk:fail:${tenantId}:${key}`,
      policy.durationSeconds * 1000,
    )) as [number, number];
    return { allowed: count > 0 && count <= policy.maxFailures, lockedMs };
  }

  async lockIfReached(tenantId: string, key: string, policy: LockoutPolicy): Promise<boolean> {
    const locked = await this.redis.eval(
      lockIfReachedScript,
      2,
      `lk:lock:${tenantId}:${key}`,
      `lk:fail:${tenantId}:${key}`,
      policy.durationSeconds * 1000,
      policy.maxFailures,
    );
    return locked === 1;
  }

  async reset(tenantId: string, key: string): Promise<void> {
    await this.redis.del(`lk:fail:${tenantId}:${key}`, `lk:lock:${tenantId}:${key}`);
  }

  async release(tenantId: string, key: string): Promise<void> {
    await this.redis.eval(releaseScript, 2, `lk:lock:${tenantId}:${key}`, `lk:fail:${tenantId}:${key}`);
  }

  async succeeded(tenantId: string, accountKey: string, ipKey: string): Promise<void> {
    await Promise.all([this.reset(tenantId, accountKey), this.release(tenantId, ipKey)]);
  }
}
