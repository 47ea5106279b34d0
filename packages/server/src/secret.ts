/**
 * The instance secret: LATCHKEY_SECRET, or for an embedded single-node set-up a random key
 * kept in the data directory (created on first start, readable only by its owner; see
 * private-files.ts).
 */
import { hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { makePrivateDir, tightenFile } from './private-files.js';

export function resolveSecret(config: Pick<Config, 'secret' | 'dataDir'>): string {
  if (config.secret) return config.secret;
  const file = join(config.dataDir, 'secret.key');
  if (existsSync(file)) {
    tightenFile(file);
    return readFileSync(file, 'utf8').trim();
  }
  makePrivateDir(config.dataDir);
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}

/** Keys derived from the instance secret, one per purpose (HKDF-SHA256). */
export class InstanceSecrets {
  constructor(readonly secret: string) {}

  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.secret, 'latchkey', purpose, 32));
  }
}

/** Whether `given` is the text `expected` (a MAC, a state), compared in constant time. */
export function sameText(expected: string, given: unknown): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(typeof given === 'string' ? given : '');
  return a.length === b.length && timingSafeEqual(a, b);
}
