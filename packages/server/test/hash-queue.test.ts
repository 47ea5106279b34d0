/**
 * The password hash queue's treatment of a source that asks for more than one hash at a time
 * (passwords/hash.ts, passwords/idle-hasher.ts): the rest of its attempts hash on a thread at
 * the lowest CPU priority, outside the slots, so that a burst from one address takes only CPU
 * nobody else wants; a source refused as busy gets one sign-in attempt at a time for a while.
 * The HTTP side (429 pages, another tenant signing in meanwhile) is
 * sign-in-fairness.security.test.ts; the time figure is the benchmark's.
 * @see issue 9
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HashQueueLimits, hashPassword, PasswordHasher, verifyPassword } from '../src/passwords/hash.js';
import { IdleHasher } from '../src/passwords/idle-hasher.js';

const limits: HashQueueLimits = {
  maxWaiting: 50,
  maxWaitingPerTenant: 50,
  maxWaitingPerSource: 10,
  maxWaitingSignInsPerSource: 2,
};

/** Nice values of this process's threads (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('the idle-priority hash thread', () => {
  let idle: IdleHasher | undefined;
  let phc: string;

  beforeAll(async () => {
    idle = await IdleHasher.start();
    phc = await hashPassword('correct horse battery staple');
  });
  afterAll(async () => {
    await idle?.close();
  });

  it('runs at nice 19 while this process’s other threads stay at 0', () => {
    expect(idle).toBeDefined();
    const nice = threadNiceValues();
    expect(nice.filter((n) => n === 19)).toHaveLength(1);
    expect(nice.filter((n) => n !== 19 && n !== 0)).toEqual([]);
  });

  it('hashes and verifies as libuv’s pool does, a malformed hash a mismatch', async () => {
    const h = new PasswordHasher(limits, 2);
    h.useIdleThread(idle);
    const who = { tenantId: 't1', source: '198.51.100.1' };
    // Three at once from one source: the first in the pool, the other two yield.
    const [a, b, c] = await Promise.all([
      h.verify(phc, 'correct horse battery staple', who),
      h.verify(phc, 'wrong', who),
      h.hash('another password', who),
    ]);
    expect([a, b]).toEqual([true, false]);
    expect(await verifyPassword(c as string, 'another password')).toBe(true);
    expect(h.counts.yielded).toBe(2);
    expect(await Promise.all([h.verify('not a hash', 'x', who), h.verify('$argon2id$v=19$bad', 'x', who)])).toEqual([
      false,
      false,
    ]);
  });

  it('gives a yielding hash no slot: another source hashes at once beside it', async () => {
    const h = new PasswordHasher(limits, 1);
    h.useIdleThread(idle);
    const burst = { tenantId: 't1', source: '203.0.113.9' };
    const order: string[] = [];
    const run = (label: string, who: typeof burst) =>
      h.verify(phc, 'wrong', who).then(() => {
        order.push(label);
      });
    // The first of the burst takes the only slot; the next seven go to the idle thread, one at
    // a time; another source's attempt, sent last, takes the slot when the first is done: done
    // after two hashes' time, long before the idle thread's seventh (a margin wide enough for a
    // machine busy with other tests, where the idle thread may get a core of its own).
    await Promise.all([
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => run(`burst ${i}`, burst)),
      run('other', { tenantId: 't2', source: '192.0.2.1' }),
    ]);
    expect(order.indexOf('other')).toBeLessThan(order.indexOf('burst 8'));
    expect(h.counts.yielded).toBe(7);
  });

  it('gives a stopped thread’s work back to the pool, with the right answers', async () => {
    const own = await IdleHasher.start();
    expect(own).toBeDefined();
    const h = new PasswordHasher(limits, 2);
    h.useIdleThread(own);
    const who = { tenantId: 't1', source: '198.51.100.2' };
    const answers = Promise.all([
      h.verify(phc, 'correct horse battery staple', who),
      h.verify(phc, 'correct horse battery staple', who),
      h.verify(phc, 'nope', who),
    ]);
    await own?.close();
    expect(await answers).toEqual([true, true, false]);
    expect(own?.usable).toBe(false);
    // Later attempts do not yield to a thread that is gone.
    expect(await Promise.all([h.verify(phc, 'nope', who), h.verify(phc, 'nope', who)])).toEqual([false, false]);
  });
});

describe('a source refused as busy', () => {
  it('may then have one sign-in attempt admitted at a time; other sources are not held', () => {
    const h = new PasswordHasher(limits, 2);
    const burst = { tenantId: 't1', source: '203.0.113.10', signIn: true };
    const places = [h.tryAdmit(burst), h.tryAdmit(burst)];
    expect(places.every((p) => 'cancel' in p)).toBe(true);
    // The third waits past the per-source bound of sign-ins: refused, and the source is hot.
    expect('retryAfterSeconds' in h.tryAdmit(burst)).toBe(true);
    for (const p of places) if ('cancel' in p) p.cancel();
    const again = h.tryAdmit(burst);
    expect('cancel' in again).toBe(true);
    // Hot: a second attempt while the first is admitted is refused, though the bound is two.
    expect('retryAfterSeconds' in h.tryAdmit(burst)).toBe(true);
    // An admin's password change from that address is held to the general bound only.
    const admin = h.tryAdmit({ tenantId: 't1', source: '203.0.113.10' });
    expect('cancel' in admin).toBe(true);
    // Another address of the same tenant still has its two.
    const other = { tenantId: 't1', source: '192.0.2.2', signIn: true };
    expect(['cancel' in h.tryAdmit(other), 'cancel' in h.tryAdmit(other)]).toEqual([true, true]);
  });
});
