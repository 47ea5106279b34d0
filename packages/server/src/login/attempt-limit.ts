/**
 * A fixed-window limit on how often one client address may attempt something that an
 * unauthenticated caller could otherwise repeat at will (self-registration today; password
 * reset requests and the like later). Counted in the sign-in lockout store, under a key of its
 * own per tenant (Redis when configured, so every node sees the same count; else the
 * database). An attempt past the limit locks the address for the window and is refused, with
 * the seconds until it may try again, before any other work is done.
 */
import { sourceOf } from '../http/addresses.js';
import type { LockoutStore } from './lockout.js';

export interface AttemptPolicy {
  /** Attempts allowed per address within the window. */
  max: number;
  windowSeconds: number;
}

export type AttemptVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class AttemptLimit {
  constructor(
    private readonly store: LockoutStore,
    /** What is limited, part of the key: `register`. */
    private readonly name: string,
    private readonly policy: AttemptPolicy,
  ) {}

  /** Counts one attempt from `address` (its source: an IPv6 address counts as its /64) in the tenant; refused once the window's allowance is used. */
  async take(tenantId: string, address: string | null | undefined): Promise<AttemptVerdict> {
    return this.takeFor(tenantId, `ip:${sourceOf(address)}`);
  }

  /** Counts one attempt for `subject` (an address's source, `to:` a recipient…) in the tenant. */
  async takeFor(tenantId: string, subject: string): Promise<AttemptVerdict> {
    const key = `${this.name}:${subject}`;
    const policy = { maxFailures: this.policy.max, durationSeconds: this.policy.windowSeconds };
    const reservation = await this.store.reserve(tenantId, key, policy);
    if (reservation.allowed) return { allowed: true };
    await this.store.lockIfReached(tenantId, key, policy);
    // Locked before: until its lock ends; locked by this attempt: for the whole window.
    return { allowed: false, retryAfterSeconds: Math.ceil(reservation.lockedMs / 1000) || this.policy.windowSeconds };
  }
}
