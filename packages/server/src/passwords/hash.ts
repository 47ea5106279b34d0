/**
 * argon2id with OWASP's parameters as the floor (m=19456 KiB, t=2, p=1). Hashes are PHC
 * strings, so a change of parameters is visible in a stored hash and can be rehashed on
 * the next sign-in (`needsRehash`).
 *
 * Every hash a request asks for goes through one `PasswordHasher`: at most one hash per core
 * runs at a time, and the rest wait their turn fairly (round-robin over tenants, then over
 * source addresses within a tenant), so that one tenant or one address sending many attempts
 * at once delays the others by one hash at most, not by its whole burst. One address never
 * holds every core (all but one, when there are two or more), so another's attempt starts at
 * once rather than after a hash of the burst. How many may wait is
 * bounded (overall, per tenant, per source): past a bound the attempt is refused at once with
 * `BusyError` (429, Retry-After) before anything else is spent on it.
 *
 * A source refused as busy stays "hot" for `HOT_MS`: its sign-in attempts wait one at a time
 * (none while another is admitted). And an attempt from a source that already has one
 * admitted, or is hot, yields: it runs on the idle-priority thread (passwords/idle-hasher.ts),
 * one at a time and outside the slots, so that what a burst gets checked takes only CPU that
 * nobody else wants.
 */
import { availableParallelism } from 'node:os';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { sourceOf } from '../http/addresses.js';
import { AppError } from '../http/errors.js';
import type { IdleHasher } from './idle-hasher.js';
import { isImportedHash, verifyImported } from './imported.js';

// The library's `Algorithm` is a const enum, which isolated modules cannot read: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export const argon2Params = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * One hash per core at a time, and one more: a sign-in spends part of its time around its
 * hash (statements, the fsync its answer waits for, the redirects), and with only one hash
 * per core the cores idled a third of the time under a load of sign-ins (134% of 200% busy on
 * the benchmark's 2 cores: 57 sign-ins/s; with one more, 161% and 75/s, the slowest 0.2 s
 * rather than 1.6 s). More would only share the cores, with 19 MiB of memory apiece. One
 * source still runs at most one hash per core but one (`perSource`), so that a burst leaves
 * others two slots. And two of libuv's threads stay free of hashes, for the fsyncs and
 * signatures that answers wait for (bin/latchkey.cjs sizes the pool to cores + 3).
 */
const poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
export const hashSlots = Math.max(1, Math.min(availableParallelism() + 1, poolSize - 2));

/** How long a source refused as busy stays one whose attempts yield. */
const HOT_MS = 10_000;
/** Sources remembered as refused; past it the oldest is forgotten. */
const HOT_SOURCES_KEPT = 10_000;

/** Who a hash is for: the tenant, and the source address (client IP) that asked. */
export interface HashRequester {
  tenantId: string;
  source: string;
  /** A sign-in form's attempt: held to `maxWaitingSignInsPerSource` as well. */
  signIn?: boolean;
}

/** The requester of a request's hash: its tenant and source (client IP, or its IPv6 /64). */
export function requesterOf(tenantId: string, ip: string | null): HashRequester {
  return { tenantId, source: sourceOf(ip) };
}

/** The requester of a sign-in form's verification (login/): its tenant and source, as requesterOf. */
export function signInRequesterOf(tenantId: string, ip: string | null): HashRequester {
  return { ...requesterOf(tenantId, ip), signIn: true };
}

export interface HashQueueLimits {
  /** Attempts that may wait for a hash, in all. */
  maxWaiting: number;
  /** Attempts of one tenant that may wait. */
  maxWaitingPerTenant: number;
  /** Attempts from one source address that may wait, whatever their tenant. */
  maxWaitingPerSource: number;
  /**
   * Of those, sign-in form attempts: fewer, as one person signs in once at a time (a few
   * people behind one address rarely within the same few hashes); a script of an admin that
   * sets passwords is held to `maxWaitingPerSource` only.
   */
  maxWaitingSignInsPerSource: number;
}

/** Too many attempts wait for a password hash: try again after `retryAfterSeconds`. */
export class BusyError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'busy', 'Too many sign-in attempts are waiting; try again later', undefined, {
      'retry-after': String(retryAfterSeconds),
    });
  }
}

/**
 * A place in the queue, taken before the attempt does anything else (`admit`), used for one
 * hash or verification (`hash`, `verify`) or given back (`cancel`). It counts against the
 * bounds from the moment it is taken, so a burst is refused as it arrives.
 */
export interface Admission {
  readonly requester: HashRequester;
  /** Gives the place back without hashing (the attempt was refused for another reason). */
  cancel(): void;
}

/** Refused: a bound is reached; try again after `retryAfterSeconds`. Nothing was taken. */
export interface Busy {
  readonly retryAfterSeconds: number;
}

class Place implements Admission {
  settled = false;
  constructor(
    readonly requester: HashRequester,
    /** Whether its hash runs on the idle-priority thread (decided when the place is taken). */
    readonly yielding: boolean,
    private readonly release: (place: Place) => void,
  ) {}
  cancel(): void {
    if (this.settled) return;
    this.settled = true;
    this.release(this);
  }
}

interface Job {
  yielding: boolean;
  run: () => void;
}

export class PasswordHasher {
  private running = 0;
  /** Jobs on the idle-priority thread (at most one), outside `running`. */
  private idleRunning = 0;
  private idle: IdleHasher | undefined;
  /** Running jobs per source, in the slots or on the idle thread. */
  private readonly runningBySource = new Map<string, number>();
  /** Sources refused as busy lately: source → until when (ms) their attempts yield. */
  private readonly hot = new Map<string, number>();
  /** Hashes one source may run at once: all slots but two (but one), so that others never wait for a whole burst. */
  private readonly perSource: number;
  /** Jobs waiting: tenant → source → jobs, each Map in round-robin order (front is next). */
  private readonly ready = new Map<string, Map<string, Job[]>>();
  /** Admitted and not yet running, for the bounds. */
  private waiting = 0;
  private readonly waitingByTenant = new Map<string, number>();
  private readonly waitingBySource = new Map<string, number>();
  /** Mean milliseconds of one hash (moving average), for Retry-After. */
  private meanMs = 50;
  /** How many hashes and verifications ran, and how many attempts were refused as busy. */
  readonly counts = { hashes: 0, verifications: 0, refused: 0, yielded: 0 };

  constructor(
    private readonly limits: HashQueueLimits,
    private readonly slots = hashSlots,
  ) {
    this.perSource = Math.max(1, slots - 2);
  }

  /** From now on, attempts that yield run on `idle` (main.ts starts it). */
  useIdleThread(idle: IdleHasher | undefined): void {
    this.idle = idle;
  }

  /** Takes a place in the queue, or throws `BusyError` when a bound is reached. */
  admit(requester: HashRequester): Admission {
    const taken = this.tryAdmit(requester);
    if ('retryAfterSeconds' in taken) throw new BusyError(taken.retryAfterSeconds);
    return taken;
  }

  /**
   * `admit` without the exception, for the sign-in form's refusal that must cost next to
   * nothing (login/admission.ts): a place, or how long to wait when a bound is reached.
   */
  tryAdmit(requester: HashRequester): Admission | Busy {
    const { tenantId, source } = requester;
    const fromSource = this.waitingBySource.get(source) ?? 0;
    const busySource = fromSource > 0 || this.runningBySource.has(source);
    const hot = (this.hot.get(source) ?? 0) > Date.now();
    if (
      this.waiting >= this.limits.maxWaiting ||
      (this.waitingByTenant.get(tenantId) ?? 0) >= this.limits.maxWaitingPerTenant ||
      fromSource >= this.limits.maxWaitingPerSource ||
      (requester.signIn === true && (fromSource >= this.limits.maxWaitingSignInsPerSource || (hot && busySource)))
    ) {
      this.counts.refused++;
      this.markHot(source);
      return { retryAfterSeconds: this.retryAfterSeconds() };
    }
    const yielding = this.idle !== undefined && (busySource || hot);
    this.waiting++;
    bump(this.waitingByTenant, tenantId, 1);
    bump(this.waitingBySource, source, 1);
    return new Place(requester, yielding, () => this.leave(requester));
  }

  /** A new argon2id hash of `password`, for `who` (a requester, or a place already admitted). */
  hash(password: string, who: HashRequester | Admission): Promise<string> {
    return this.turn(who, (idle) => {
      this.counts.hashes++;
      return idle ? idle.hash(password, argon2Params) : hash(password, argon2Params);
    });
  }

  /**
   * Whether `password` matches the stored hash; a malformed one is a mismatch. A hash brought
   * by an import (bcrypt, PBKDF2, …: passwords/imported.ts) is verified as its format says,
   * in the same queue; `needsRehash` is true for it, so the sign-in replaces it with argon2id.
   */
  async verify(phc: string, password: string, who: HashRequester | Admission): Promise<boolean> {
    const imported = isImportedHash(phc);
    try {
      return await this.turn(who, (idle) => {
        this.counts.verifications++;
        if (imported) return verifyImported(phc, password);
        return idle ? idle.verify(phc, password) : verify(phc, password);
      });
    } catch (err) {
      if (err instanceof BusyError) throw err;
      return false;
    }
  }

  /** Runs `work` in its turn: with the idle thread when the place yields, else in libuv's pool. */
  private async turn<T>(who: HashRequester | Admission, work: (idle?: IdleHasher) => Promise<T>): Promise<T> {
    const place = who instanceof Place ? who : (this.admit(who as HashRequester) as Place);
    if (place.settled) throw new Error('this admission was already used');
    place.settled = true;
    const { tenantId, source } = place.requester;
    const idle = place.yielding && this.idle?.usable ? this.idle : undefined;
    await new Promise<void>((resolve) => {
      this.enqueue(tenantId, source, {
        yielding: idle !== undefined,
        run: () => {
          this.leave(place.requester);
          resolve();
        },
      });
      this.dispatch();
    });
    const started = performance.now();
    try {
      if (!idle) return await work();
      this.counts.yielded++;
      try {
        return await work(idle);
      } catch (err) {
        // The thread stopped under this job: it runs again in the pool; anything else stands.
        if (idle.usable) throw err;
        return await work();
      }
    } finally {
      if (idle) {
        this.idleRunning--;
      } else {
        // Only hashes at normal priority say how long the queue takes to drain.
        this.meanMs = 0.9 * this.meanMs + 0.1 * (performance.now() - started);
        this.running--;
      }
      bump(this.runningBySource, source, -1);
      this.dispatch();
    }
  }

  private markHot(source: string): void {
    this.hot.delete(source);
    this.hot.set(source, Date.now() + HOT_MS);
    if (this.hot.size > HOT_SOURCES_KEPT) {
      const oldest = this.hot.keys().next().value;
      if (oldest !== undefined) this.hot.delete(oldest);
    }
  }

  private leave({ tenantId, source }: HashRequester): void {
    this.waiting--;
    bump(this.waitingByTenant, tenantId, -1);
    bump(this.waitingBySource, source, -1);
  }

  private enqueue(tenantId: string, source: string, job: Job): void {
    let sources = this.ready.get(tenantId);
    if (!sources) {
      sources = new Map();
      this.ready.set(tenantId, sources);
    }
    const jobs = sources.get(source);
    if (jobs) jobs.push(job);
    else sources.set(source, [job]);
  }

  /** Starts waiting jobs while a slot (or the idle thread) is free and some source may take it. */
  private dispatch(): void {
    while (this.running < this.slots) {
      const next = this.dequeue(false);
      if (!next) break;
      this.running++;
      bump(this.runningBySource, next.source, 1);
      next.run();
    }
    while (this.idleRunning < 1) {
      const next = this.dequeue(true);
      if (!next) break;
      this.idleRunning++;
      bump(this.runningBySource, next.source, 1);
      next.run();
    }
  }

  /**
   * The next job of the kind asked for: the oldest of the first source, in the first tenant,
   * whose oldest job is of that kind (and, for a slot, whose source is below its share of the
   * slots); that source and that tenant then go to the back of their rounds.
   */
  private dequeue(yielding: boolean): { source: string; run: () => void } | undefined {
    for (const [tenantId, sources] of this.ready) {
      for (const [source, jobs] of sources) {
        if (jobs[0]?.yielding !== yielding) continue;
        if (!yielding && (this.runningBySource.get(source) ?? 0) >= this.perSource) continue;
        const job = jobs.shift();
        sources.delete(source);
        if (jobs.length > 0) sources.set(source, jobs);
        this.ready.delete(tenantId);
        if (sources.size > 0) this.ready.set(tenantId, sources);
        if (job) return { source, run: job.run };
      }
    }
    return undefined;
  }

  /** Seconds until the queue as it is now would have drained, at least 1. */
  private retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((((this.waiting + this.running) / this.slots) * this.meanMs) / 1000));
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

/**
 * A hash outside any request (bootstrap, the CLI, tests): no queue, as nothing else waits.
 * Request handlers use the context's `PasswordHasher`.
 */
export function hashPassword(normalizedPassword: string): Promise<string> {
  return hash(normalizedPassword, argon2Params);
}

/** A verification outside any request (tests, the CLI); see `hashPassword`. */
export async function verifyPassword(phc: string, normalizedPassword: string): Promise<boolean> {
  try {
    return await verify(phc, normalizedPassword);
  } catch {
    return false;
  }
}

/** True when a stored hash was made with other (older) parameters than today's. */
export function needsRehash(phc: string): boolean {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  if (!m) return true;
  return (
    Number(m[1]) !== argon2Params.memoryCost ||
    Number(m[2]) !== argon2Params.timeCost ||
    Number(m[3]) !== argon2Params.parallelism
  );
}
