/**
 * argon2id with OWASP's parameters as the floor (m=19456 KiB, t=2, p=1). Hashes are PHC
 * strings, so a change of parameters is visible in a stored hash and can be rehashed on
 * the next sign-in (`needsRehash`).
 */
import { availableParallelism } from 'node:os';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

// The library's `Algorithm` is a const enum, which isolated modules cannot read: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export const argon2Params = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * At most one hash per core at a time; more would only share the cores, each taking longer,
 * with 19 MiB of memory apiece. And two of libuv's threads stay free of hashes, for the
 * fsyncs and signatures that answers wait for (bin/latchkey.cjs sizes the pool to cores + 2).
 * The rest wait their turn, in order.
 */
const poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const slots = Math.max(1, Math.min(availableParallelism(), poolSize - 2));
let running = 0;
const waiting: (() => void)[] = [];

async function oneAtATimePerCore<T>(work: () => Promise<T>): Promise<T> {
  if (running >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export async function hashPassword(normalizedPassword: string): Promise<string> {
  return oneAtATimePerCore(() => hash(normalizedPassword, argon2Params));
}

export async function verifyPassword(phc: string, normalizedPassword: string): Promise<boolean> {
  try {
    return await oneAtATimePerCore(() => verify(phc, normalizedPassword));
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
