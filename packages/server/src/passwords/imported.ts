/**
 * Password hashes brought from other systems (issue 13, "Moving users in"): a company leaving
 * Auth0, Keycloak, Django or Firebase brings its users' hashes, and its users should sign in
 * with the passwords they have rather than all reset at once. An import line's `passwordHash`
 * is checked here and turned into the one string `users.password_hash` holds; a sign-in against
 * such a string is verified here; on the first success the caller replaces it with argon2id
 * (every string stored here is one that `needsRehash` in ./hash.ts answers true for, bar an
 * argon2id of today's parameters, which is a native hash already).
 *
 * Everything an importer controls is bounded (`importedHashBounds`): a cost of the import's
 * choosing is work an attacker may ask for on every sign-in attempt, so a PBKDF2 of 10^9
 * iterations or a scrypt of N = 2^30 is refused at import, and refused again (a mismatch) if
 * it reaches the column another way. The work runs off the event loop where Node allows
 * (PBKDF2 and scrypt in libuv's pool, argon2 in its native threads); bcryptjs is pure
 * JavaScript and yields between rounds. Comparisons are constant-time.
 *
 * Stored forms (B64 is standard base64 without padding):
 * - bcrypt and argon2 (`$2a$`, `$2b$`, `$2y$`, `$argon2i$`, `$argon2id$`): as they came;
 * - `$pbkdf2-<sha1|sha256|sha512>$i=<iterations>$<B64 salt>$<B64 key>` (Keycloak, Django);
 * - `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<B64 salt>$<B64 key>`;
 * - `$firebase-scrypt$ln=<memCost>,r=<rounds>$<B64 salt>$<B64 separator>$<B64 signer key>$<B64 hash>`;
 * - `$salted-<sha256|sha512>$pos=<prefix|suffix>$<B64 salt>$<B64 digest>`.
 * Each is also accepted as an import line's `passwordHash`, so a user moves between Latchkeys.
 * docs/import-formats.md shows an import line of each source format.
 */
import { createCipheriv, createHash, pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { verify as argon2Verify } from '@node-rs/argon2';
import { hash as bcryptHash } from 'bcryptjs';

/** The reasons an import's `passwordHash` is refused, stable for the import report. */
export const importedHashErrorCodes = [
  /** Not a format listed in docs/import-formats.md (or a known one's unsupported variant). */
  'unsupported_hash_format',
  /** A known format, wrongly written: syntax, base64, lengths, unknown or missing fields. */
  'malformed_hash',
  /** A known format whose cost (iterations, memory, rounds) is outside `importedHashBounds`. */
  'hash_cost_out_of_range',
] as const;

export type ImportedHashErrorCode = (typeof importedHashErrorCodes)[number];

/** Why a `passwordHash` was refused: a stable code and a message for people (never the hash). */
export interface ImportedHashError {
  error: ImportedHashErrorCode;
  message: string;
}

/**
 * What is accepted. The costs allow what the source systems use by default, and several times
 * it, but no more than about a second or two of one core per attempt on a 2-core machine
 * (measured: 1M PBKDF2-SHA-256 blocks ≈ 0.26 s, scrypt N=2^17 r=8 ≈ 0.38 s, argon2
 * m=256 MiB t=3 ≈ 0.19 s, bcryptjs cost 10 ≈ 0.1 s and each cost step doubles it).
 */
export const importedHashBounds = {
  /** Characters of the whole hash string, and of each field of an object (Keycloak's JSON strings included). */
  maxLength: 4096,
  /**
   * bcrypt cost (log2 rounds). bcryptjs runs on the event loop (in slices): cost 12 is about
   * 0.4 s of it per attempt, and each step doubles it, so no more (most systems use 10).
   */
  bcrypt: { minCost: 4, maxCost: 12 },
  argon2: {
    maxMemoryKiB: 262_144,
    maxTimeCost: 16,
    maxParallelism: 16,
    /** memory × passes, KiB: 256 MiB × 4, 64 MiB × 16 ... */
    maxWork: 1_048_576,
    saltBytes: { min: 8, max: 64 },
    hashBytes: { min: 16, max: 64 },
  },
  pbkdf2: {
    maxIterations: 3_000_000,
    /** iterations × output blocks (⌈key length / digest length⌉): what PBKDF2 computes. */
    maxWork: 6_000_000,
    saltBytes: { min: 1, max: 256 },
    keyBytes: { min: 16, max: 128 },
  },
  scrypt: {
    maxLog2N: 20,
    maxR: 32,
    maxP: 16,
    /** 128 × N × r bytes: scrypt's memory. */
    maxMemoryBytes: 256 * 1024 * 1024,
    /** N × r × p: scrypt's work. */
    maxWork: 4_194_304,
    saltBytes: { min: 1, max: 256 },
    keyBytes: { min: 16, max: 64 },
  },
  firebaseScrypt: {
    rounds: { min: 1, max: 8 },
    memCost: { min: 1, max: 14 },
    saltBytes: { min: 1, max: 256 },
    separatorBytes: { min: 0, max: 64 },
    signerKeyBytes: { min: 16, max: 128 },
  },
  saltedSha: { saltBytes: { min: 1, max: 1024 } },
} as const;

type Digest = 'sha1' | 'sha256' | 'sha512';
type Range = { readonly min: number; readonly max: number };

const digestBytes: Record<Digest, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** A hash as this module understands it, from an import line or from a stored string. */
type Imported =
  | { kind: 'bcrypt'; text: string }
  | { kind: 'argon2'; text: string; variant: 'argon2i' | 'argon2id' }
  | { kind: 'pbkdf2'; digest: Digest; iterations: number; salt: Buffer; key: Buffer }
  | { kind: 'scrypt'; log2N: number; r: number; p: number; salt: Buffer; key: Buffer }
  | {
      kind: 'firebase-scrypt';
      memCost: number;
      rounds: number;
      salt: Buffer;
      separator: Buffer;
      signerKey: Buffer;
      hash: Buffer;
    }
  | { kind: 'salted-sha'; digest: 'sha256' | 'sha512'; position: 'prefix' | 'suffix'; salt: Buffer; hash: Buffer };

type Parsed = Imported | ImportedHashError;

const fail = (error: ImportedHashErrorCode, message: string): ImportedHashError => ({ error, message });
const failed = (value: unknown): value is ImportedHashError =>
  typeof value === 'object' && value !== null && 'error' in value;

/**
 * Validates an import line's `passwordHash` (a string or an object, see docs/import-formats.md)
 * and gives the string to store in `users.password_hash`, or why it is refused. Never throws.
 *
 * @example
 * ```ts
 * parseImportedHash('pbkdf2_sha256$870000$seasalt$Zm9v...');
 * // { stored: '$pbkdf2-sha256$i=870000$c2Vhc2FsdA$Zm9v...' }
 * parseImportedHash({ algorithm: 'md5', hash: '...' });
 * // { error: 'unsupported_hash_format', message: '...' }
 * ```
 */
export function parseImportedHash(input: unknown): { stored: string } | ImportedHashError {
  try {
    const parsed = typeof input === 'string' ? fromString(input) : fromObject(input);
    return failed(parsed) ? parsed : { stored: storedForm(parsed) };
  } catch {
    // Every path above returns its refusal; this only keeps the promise of never throwing.
    return fail('malformed_hash', 'the password hash could not be read');
  }
}

/**
 * Whether a stored `password_hash` is an imported form that `verifyImported` checks: true for
 * bcrypt, argon2i, PBKDF2, scrypt, Firebase scrypt and salted SHA within the bounds; false for
 * argon2id (./hash.ts verifies and rehashes those) and for anything unreadable.
 */
export function isImportedHash(stored: string): boolean {
  if (typeof stored !== 'string') return false;
  const parsed = fromStored(stored);
  return !failed(parsed) && !isArgon2id(parsed);
}

function isArgon2id(hash: Imported): boolean {
  return hash.kind === 'argon2' && hash.variant === 'argon2id';
}

/**
 * Whether `password` (already NFKC-normalised by the caller; its UTF-8 bytes are what is
 * hashed) matches an imported stored hash. False for a mismatch, for a malformed or
 * out-of-bounds string, and for argon2id (see `isImportedHash`); never throws.
 *
 * @example
 * ```ts
 * if (isImportedHash(row.password_hash) && (await verifyImported(row.password_hash, password))) {
 *   // signed in; needsRehash(row.password_hash) is true: store a new argon2id hash
 * }
 * ```
 */
export async function verifyImported(stored: string, password: string): Promise<boolean> {
  if (typeof stored !== 'string' || typeof password !== 'string') return false;
  const parsed = fromStored(stored);
  if (failed(parsed) || isArgon2id(parsed)) return false;
  try {
    return await matches(parsed, password);
  } catch {
    return false;
  }
}

async function matches(hash: Imported, password: string): Promise<boolean> {
  const secret = Buffer.from(password, 'utf8');
  switch (hash.kind) {
    case 'bcrypt': {
      // bcryptjs re-encodes the salt; only the 31 characters of the checksum are compared.
      const computed = await bcryptHash(password, hash.text.slice(0, 29));
      return sameBytes(Buffer.from(computed.slice(29)), Buffer.from(hash.text.slice(29)));
    }
    case 'argon2':
      return argon2Verify(hash.text, secret);
    case 'pbkdf2':
      return sameBytes(await pbkdf2Bytes(secret, hash.salt, hash.iterations, hash.key.length, hash.digest), hash.key);
    case 'scrypt':
      return sameBytes(await scryptBytes(secret, hash.salt, hash.key.length, hash.log2N, hash.r, hash.p), hash.key);
    case 'firebase-scrypt': {
      const key = await scryptBytes(
        secret,
        Buffer.concat([hash.salt, hash.separator]),
        32,
        hash.memCost,
        hash.rounds,
        1,
      );
      const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
      return sameBytes(Buffer.concat([cipher.update(hash.signerKey), cipher.final()]), hash.hash);
    }
    case 'salted-sha': {
      const parts = hash.position === 'prefix' ? [hash.salt, secret] : [secret, hash.salt];
      return sameBytes(createHash(hash.digest).update(Buffer.concat(parts)).digest(), hash.hash);
    }
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function pbkdf2Bytes(
  secret: Buffer,
  salt: Buffer,
  iterations: number,
  length: number,
  digest: Digest,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(secret, salt, iterations, length, digest, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function scryptBytes(
  secret: Buffer,
  salt: Buffer,
  length: number,
  log2N: number,
  r: number,
  p: number,
): Promise<Buffer> {
  const N = 2 ** log2N;
  // OpenSSL's own count of what scrypt allocates, with room to spare; the bounds cap it.
  const maxmem = 128 * r * (N + p + 2) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

// ---- Stored forms ------------------------------------------------------------------------

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

function storedForm(hash: Imported): string {
  switch (hash.kind) {
    case 'bcrypt':
    case 'argon2':
      return hash.text;
    case 'pbkdf2':
      return `$pbkdf2-${hash.digest}$i=${hash.iterations}$${b64(hash.salt)}$${b64(hash.key)}`;
    case 'scrypt':
      return `$scrypt$ln=${hash.log2N},r=${hash.r},p=${hash.p}$${b64(hash.salt)}$${b64(hash.key)}`;
    case 'firebase-scrypt':
      return `$firebase-scrypt$ln=${hash.memCost},r=${hash.rounds}$${[hash.salt, hash.separator, hash.signerKey, hash.hash].map(b64).join('$')}`;
    case 'salted-sha':
      return `$salted-${hash.digest}$pos=${hash.position}$${b64(hash.salt)}$${b64(hash.hash)}`;
  }
}

/** A stored string (one of the forms in the header), with the bounds of an import. */
function fromStored(text: string): Parsed {
  if (text.length > importedHashBounds.maxLength) return fail('malformed_hash', 'the hash is too long');
  if (/^\$2[aby]\$/.test(text)) return bcryptOf(text);
  if (/^\$argon2(id|i)\$/.test(text)) return argon2Of(text);
  const parts = text.split('$');
  const [empty, id = '', params = ''] = parts;
  if (empty !== '') return fail('unsupported_hash_format', 'not a recognised password hash format');
  const pbkdf2Digest = /^pbkdf2-(sha1|sha256|sha512)$/.exec(id)?.[1] as Digest | undefined;
  if (pbkdf2Digest) {
    const [iterations] = numbers(params, ['i']) ?? [];
    if (parts.length !== 5 || iterations === undefined) return malformed(`$${id}$i=<iterations>$<salt>$<key>`);
    const salt = base64('salt', parts[3], importedHashBounds.pbkdf2.saltBytes);
    const key = base64('key', parts[4], importedHashBounds.pbkdf2.keyBytes);
    return failed(salt) ? salt : failed(key) ? key : pbkdf2Of(pbkdf2Digest, iterations, salt, key);
  }
  if (id === 'scrypt') {
    const [log2N, r, p] = numbers(params, ['ln', 'r', 'p']) ?? [];
    if (parts.length !== 5 || log2N === undefined || r === undefined || p === undefined) {
      return malformed('$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>');
    }
    const salt = base64('salt', parts[3], importedHashBounds.scrypt.saltBytes);
    const key = base64('hash', parts[4], importedHashBounds.scrypt.keyBytes);
    return failed(salt) ? salt : failed(key) ? key : scryptOf(log2N, r, p, salt, key);
  }
  if (id === 'firebase-scrypt') {
    const [memCost, rounds] = numbers(params, ['ln', 'r']) ?? [];
    if (parts.length !== 7 || memCost === undefined || rounds === undefined) {
      return malformed('$firebase-scrypt$ln=<memCost>,r=<rounds>$<salt>$<separator>$<signer key>$<hash>');
    }
    return firebaseOf({
      memCost,
      rounds,
      salt: parts[3],
      saltSeparator: parts[4],
      signerKey: parts[5],
      hash: parts[6],
    });
  }
  const shaDigest = /^salted-(sha256|sha512)$/.exec(id)?.[1] as 'sha256' | 'sha512' | undefined;
  if (shaDigest) {
    const position = /^pos=(prefix|suffix)$/.exec(params)?.[1] as 'prefix' | 'suffix' | undefined;
    if (parts.length !== 5 || !position) return malformed(`$${id}$pos=<prefix|suffix>$<salt>$<digest>`);
    const salt = base64('salt', parts[3], importedHashBounds.saltedSha.saltBytes);
    const hash = base64('digest', parts[4], { min: digestBytes[shaDigest], max: digestBytes[shaDigest] });
    return failed(salt) ? salt : failed(hash) ? hash : { kind: 'salted-sha', digest: shaDigest, position, salt, hash };
  }
  return fail('unsupported_hash_format', 'not a recognised password hash format');
}

/** `k1=<n>,k2=<n>` with exactly these keys in this order, as decimal integers. */
function numbers(params: string, keys: readonly string[]): number[] | undefined {
  const values = params.split(',');
  if (values.length !== keys.length) return undefined;
  const out: number[] = [];
  for (const [i, pair] of values.entries()) {
    const [key, value = ''] = pair.split('=');
    const n = decimal(value);
    if (key !== keys[i] || n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

function decimal(text: string): number | undefined {
  return /^(0|[1-9]\d{0,9})$/.test(text) ? Number(text) : undefined;
}

function malformed(expected: string): ImportedHashError {
  return fail('malformed_hash', `expected ${expected}`);
}

// ---- One function per family: the bounds -------------------------------------------------

function outOfRange(what: string, value: number, range: Range): ImportedHashError | undefined {
  if (value >= range.min && value <= range.max) return undefined;
  return fail('hash_cost_out_of_range', `${what} is ${value}; accepted: ${range.min} to ${range.max}`);
}

function bcryptOf(text: string): Parsed {
  const cost = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(text)?.[1];
  if (cost === undefined) return malformed('a bcrypt string of 60 characters ($2b$<cost>$<53 characters>)');
  const { minCost, maxCost } = importedHashBounds.bcrypt;
  return outOfRange('the bcrypt cost', Number(cost), { min: minCost, max: maxCost }) ?? { kind: 'bcrypt', text };
}

function argon2Of(text: string): Parsed {
  const m = /^\$(argon2id|argon2i)\$v=(?:16|19)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(
    text,
  );
  const [memory, time, lanes] = [m?.[2], m?.[3], m?.[4]].map((n) => decimal(n ?? ''));
  if (!m || memory === undefined || time === undefined || lanes === undefined) {
    return malformed('an argon2 PHC string ($argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>)');
  }
  const bounds = importedHashBounds.argon2;
  const refused =
    outOfRange('the argon2 parallelism (p)', lanes, { min: 1, max: bounds.maxParallelism }) ??
    outOfRange('the argon2 memory (m, KiB)', memory, { min: 8 * lanes, max: bounds.maxMemoryKiB }) ??
    outOfRange('the argon2 passes (t)', time, { min: 1, max: bounds.maxTimeCost }) ??
    outOfRange('the argon2 memory × passes', memory * time, { min: 1, max: bounds.maxWork });
  if (refused) return refused;
  const salt = base64('salt', m[5], bounds.saltBytes, true);
  if (failed(salt)) return salt;
  const hash = base64('hash', m[6], bounds.hashBytes, true);
  if (failed(hash)) return hash;
  return { kind: 'argon2', text, variant: m[1] === 'argon2id' ? 'argon2id' : 'argon2i' };
}

function pbkdf2Of(digest: Digest, iterations: number, salt: Buffer, key: Buffer): Parsed {
  const bounds = importedHashBounds.pbkdf2;
  const blocks = Math.ceil(key.length / digestBytes[digest]);
  return (
    outOfRange('the PBKDF2 iteration count', iterations, { min: 1, max: bounds.maxIterations }) ??
    outOfRange('the PBKDF2 iterations × output blocks', iterations * blocks, { min: 1, max: bounds.maxWork }) ?? {
      kind: 'pbkdf2',
      digest,
      iterations,
      salt,
      key,
    }
  );
}

function scryptOf(log2N: number, r: number, p: number, salt: Buffer, key: Buffer): Parsed {
  const bounds = importedHashBounds.scrypt;
  const N = 2 ** Math.min(log2N, 64);
  return (
    outOfRange('the scrypt log2 N', log2N, { min: 1, max: bounds.maxLog2N }) ??
    outOfRange('the scrypt r', r, { min: 1, max: bounds.maxR }) ??
    outOfRange('the scrypt p', p, { min: 1, max: bounds.maxP }) ??
    outOfRange('the scrypt memory (128 × N × r bytes)', 128 * N * r, { min: 1, max: bounds.maxMemoryBytes }) ??
    outOfRange('the scrypt work (N × r × p)', N * r * p, { min: 1, max: bounds.maxWork }) ?? {
      kind: 'scrypt',
      log2N,
      r,
      p,
      salt,
      key,
    }
  );
}

interface FirebaseFields {
  memCost?: unknown;
  rounds?: unknown;
  salt?: unknown;
  saltSeparator?: unknown;
  signerKey?: unknown;
  hash?: unknown;
}

function firebaseOf(fields: FirebaseFields): Parsed {
  const bounds = importedHashBounds.firebaseScrypt;
  const rounds = integer('rounds', fields.rounds, bounds.rounds);
  if (failed(rounds)) return rounds;
  const memCost = integer('memCost', fields.memCost, bounds.memCost);
  if (failed(memCost)) return memCost;
  const salt = base64('salt', fields.salt, bounds.saltBytes);
  if (failed(salt)) return salt;
  const separator = base64('saltSeparator', fields.saltSeparator, bounds.separatorBytes);
  if (failed(separator)) return separator;
  const signerKey = base64('signerKey', fields.signerKey, bounds.signerKeyBytes);
  if (failed(signerKey)) return signerKey;
  // The hash is the signer key encrypted (AES-CTR): exactly as long.
  const hash = base64('hash', fields.hash, { min: signerKey.length, max: signerKey.length });
  if (failed(hash)) return hash;
  return { kind: 'firebase-scrypt', memCost, rounds, salt, separator, signerKey, hash };
}

/** An integer field: not one is malformed; one out of range is a refused cost. */
function integer(field: string, value: unknown, range: Range): number | ImportedHashError {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    return fail('malformed_hash', `${field} must be an integer`);
  }
  return outOfRange(field, value, range) ?? value;
}

/**
 * Base64 (standard or URL-safe, padded or not; `phc`: standard, unpadded, as PHC strings are)
 * decoding to a length within `range`. Non-canonical text (stray bits, junk) is malformed.
 */
function base64(field: string, text: unknown, range: Range, phc = false): Buffer | ImportedHashError {
  const alphabet = phc ? /^[A-Za-z0-9+/]*$/ : /^[A-Za-z0-9+/_-]*={0,2}$/;
  if (typeof text !== 'string' || text.length > importedHashBounds.maxLength || !alphabet.test(text)) {
    return fail('malformed_hash', `${field} is not base64`);
  }
  const body = text.replace(/=+$/, '');
  const padded = text.length !== body.length;
  const normal = body.replaceAll('-', '+').replaceAll('_', '/');
  const bytes = Buffer.from(normal, 'base64');
  if (body.length % 4 === 1 || (padded && text.length % 4 !== 0) || b64(bytes) !== normal) {
    return fail('malformed_hash', `${field} is not base64`);
  }
  if (bytes.length < range.min || bytes.length > range.max) {
    const size = range.min === range.max ? `${range.min}` : `${range.min} to ${range.max}`;
    return fail('malformed_hash', `${field} must decode to ${size} bytes, not ${bytes.length}`);
  }
  return bytes;
}

// ---- Import lines ------------------------------------------------------------------------

/** A string: a stored form (bcrypt, argon2 and scrypt PHC among them) or Django's. */
function fromString(text: string): Parsed {
  if (text.length > importedHashBounds.maxLength) return fail('malformed_hash', 'the hash is too long');
  if (text.startsWith('$')) return fromStored(text);
  // Django writes `<hasher>$<the hasher's encoding>`; its bcrypt and argon2 hashers embed the library's string.
  if (text.startsWith('bcrypt$$2')) return bcryptOf(text.slice('bcrypt$'.length));
  if (text.startsWith('argon2$argon2')) return argon2Of(text.slice('argon2'.length));
  const django = /^pbkdf2_(sha256|sha1)\$([^$]*)\$([^$]*)\$([^$]*)$/.exec(text);
  if (!django) return fail('unsupported_hash_format', 'not a recognised password hash format');
  const digest = django[1] === 'sha1' ? 'sha1' : 'sha256';
  const iterations = decimal(django[2] ?? '');
  if (iterations === undefined) return malformed(`pbkdf2_${digest}$<iterations>$<salt>$<base64 hash>`);
  // Django's salt is text, hashed as its UTF-8 bytes.
  const salt = Buffer.from(django[3] ?? '', 'utf8');
  const { saltBytes } = importedHashBounds.pbkdf2;
  if (salt.length < saltBytes.min || salt.length > saltBytes.max) {
    return fail('malformed_hash', `the salt must be ${saltBytes.min} to ${saltBytes.max} bytes`);
  }
  const key = base64('hash', django[4], { min: digestBytes[digest], max: digestBytes[digest] });
  return failed(key) ? key : pbkdf2Of(digest, iterations, salt, key);
}

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The first field not in `allowed`, named in a message (its name cut short), or nothing. */
function unknownField(fields: Fields, allowed: readonly string[]): ImportedHashError | undefined {
  const extra = Object.keys(fields).find((key) => !allowed.includes(key));
  if (extra === undefined) return undefined;
  const name = /^[\w-]{1,40}$/.test(extra) ? `"${extra}"` : 'with an unusual name';
  return fail('malformed_hash', `unknown field ${name}`);
}

/** Fields Keycloak exports beside a password credential that say nothing about its hash. */
const keycloakBesides = ['id', 'type', 'userLabel', 'createdDate', 'priority', 'temporary'] as const;
const keycloakDigests = new Map<unknown, Digest>([
  ['pbkdf2', 'sha1'],
  ['pbkdf2-sha256', 'sha256'],
  ['pbkdf2-sha512', 'sha512'],
]);
const keycloakArgon2Types = new Map<unknown, 'argon2i' | 'argon2id'>([
  ['i', 'argon2i'],
  ['id', 'argon2id'],
]);
const keycloakArgon2Versions = new Map<unknown, number>([
  ['1.3', 19],
  ['1.0', 16],
]);

function fromObject(input: unknown): Parsed {
  if (!isFields(input)) return fail('unsupported_hash_format', 'passwordHash must be a string or an object');
  if ('secretData' in input || 'credentialData' in input) return fromKeycloakExport(input);
  const { algorithm } = input;
  if (keycloakDigests.has(algorithm)) return fromKeycloakCredential(input);
  switch (algorithm) {
    case 'scrypt':
      return fromScryptObject(input);
    case 'firebase-scrypt':
      return (
        unknownField(input, ['algorithm', 'hash', 'salt', 'signerKey', 'saltSeparator', 'rounds', 'memCost']) ??
        firebaseOf(input)
      );
    case 'sha256':
    case 'sha512':
      return fromSaltedSha(algorithm, input);
    default:
      return fail('unsupported_hash_format', 'unknown or missing algorithm');
  }
}

/** Keycloak's credential representation: `{ algorithm, hashIterations, value, salt }` (older exports: `hashedSaltedValue`). */
function fromKeycloakCredential(input: Fields): Parsed {
  const refused =
    unknownField(input, [...keycloakBesides, 'algorithm', 'hashIterations', 'value', 'hashedSaltedValue', 'salt']) ??
    notPassword(input.type);
  if (refused) return refused;
  if ('value' in input && 'hashedSaltedValue' in input) {
    return fail('malformed_hash', 'give value or hashedSaltedValue, not both');
  }
  return keycloakHash(input.algorithm, input.hashIterations, input.value ?? input.hashedSaltedValue, input.salt, {});
}

/** A Keycloak realm export's credential: `secretData` and `credentialData` are JSON in strings. */
function fromKeycloakExport(input: Fields): Parsed {
  const refused = unknownField(input, [...keycloakBesides, 'secretData', 'credentialData']) ?? notPassword(input.type);
  if (refused) return refused;
  const secret = jsonFields('secretData', input.secretData);
  if (failed(secret)) return secret;
  const credential = jsonFields('credentialData', input.credentialData);
  if (failed(credential)) return credential;
  const odd =
    unknownField(secret, ['value', 'salt', 'additionalParameters']) ??
    unknownField(credential, ['hashIterations', 'algorithm', 'additionalParameters']);
  if (odd) return odd;
  if (secret.additionalParameters !== undefined && !emptyFields(secret.additionalParameters)) {
    return fail('unsupported_hash_format', 'secretData.additionalParameters are not supported');
  }
  const params = credential.additionalParameters ?? {};
  if (!isFields(params)) return fail('malformed_hash', 'credentialData.additionalParameters must be an object');
  return keycloakHash(credential.algorithm, credential.hashIterations, secret.value, secret.salt, params);
}

function notPassword(type: unknown): ImportedHashError | undefined {
  return type === undefined || type === 'password'
    ? undefined
    : fail('unsupported_hash_format', 'only password credentials carry a password hash');
}

function emptyFields(value: unknown): boolean {
  return isFields(value) && Object.keys(value).length === 0;
}

function jsonFields(field: string, value: unknown): Fields | ImportedHashError {
  if (isFields(value)) return value;
  if (typeof value !== 'string' || value.length > importedHashBounds.maxLength) {
    return fail('malformed_hash', `${field} must be a JSON object in a string`);
  }
  try {
    const parsed: unknown = JSON.parse(value);
    if (isFields(parsed)) return parsed;
  } catch {
    // Not JSON: refused below like any other shape.
  }
  return fail('malformed_hash', `${field} must be a JSON object in a string`);
}

function keycloakHash(algorithm: unknown, iterations: unknown, value: unknown, salt: unknown, params: Fields): Parsed {
  if (algorithm === 'argon2') return keycloakArgon2(iterations, value, salt, params);
  const digest = keycloakDigests.get(algorithm);
  if (!digest) return fail('unsupported_hash_format', 'unknown Keycloak algorithm');
  if (!emptyFields(params)) return fail('unsupported_hash_format', 'Keycloak PBKDF2 with additionalParameters');
  const bounds = importedHashBounds.pbkdf2;
  const count = integer('hashIterations', iterations, { min: 1, max: bounds.maxIterations });
  if (failed(count)) return count;
  const saltBytes = base64('salt', salt, bounds.saltBytes);
  if (failed(saltBytes)) return saltBytes;
  const key = base64('value', value, bounds.keyBytes);
  return failed(key) ? key : pbkdf2Of(digest, count, saltBytes, key);
}

/**
 * Keycloak's argon2 (its default since 24): the raw hash in `value`, the parameters in
 * `additionalParameters` as lists of strings, the passes in `hashIterations`. Written as the
 * PHC string it amounts to, so argon2's checks and `verify` apply.
 */
function keycloakArgon2(iterations: unknown, value: unknown, salt: unknown, params: Fields): Parsed {
  const odd = unknownField(params, ['version', 'type', 'hashLength', 'memory', 'parallelism']);
  if (odd) return odd;
  const first = (key: string): string | undefined => {
    const v = params[key];
    const s = Array.isArray(v) && v.length === 1 ? v[0] : v;
    return typeof s === 'string' ? s : undefined;
  };
  const variant = keycloakArgon2Types.get(first('type'));
  if (!variant) return fail('unsupported_hash_format', 'Keycloak argon2 of a type other than id or i');
  const version = keycloakArgon2Versions.get(first('version'));
  const memory = decimal(first('memory') ?? '');
  const lanes = decimal(first('parallelism') ?? '');
  const length = decimal(first('hashLength') ?? '');
  if (!version || memory === undefined || lanes === undefined || length === undefined) {
    return fail('malformed_hash', 'Keycloak argon2 needs version, memory, parallelism and hashLength');
  }
  const passes = integer('hashIterations', iterations, { min: 1, max: importedHashBounds.argon2.maxTimeCost });
  if (failed(passes)) return passes;
  const saltBytes = base64('salt', salt, importedHashBounds.argon2.saltBytes);
  if (failed(saltBytes)) return saltBytes;
  const hash = base64('value', value, { min: length, max: length });
  if (failed(hash)) return hash;
  return argon2Of(`$${variant}$v=${version}$m=${memory},t=${passes},p=${lanes}$${b64(saltBytes)}$${b64(hash)}`);
}

/** `{ algorithm: 'scrypt', salt, hash, N | ln, r, p, keyLength? }`, salt and hash in base64. */
function fromScryptObject(input: Fields): Parsed {
  const refused = unknownField(input, ['algorithm', 'salt', 'hash', 'N', 'ln', 'r', 'p', 'keyLength']);
  if (refused) return refused;
  const bounds = importedHashBounds.scrypt;
  if ('N' in input === 'ln' in input) return fail('malformed_hash', 'give N or ln (log2 N), one of them');
  let log2N: number;
  if ('N' in input) {
    const N = integer('N', input.N, { min: 2, max: 2 ** bounds.maxLog2N });
    if (failed(N)) return N;
    log2N = Math.log2(N);
    if (!Number.isInteger(log2N)) return fail('malformed_hash', 'N must be a power of two');
  } else {
    const ln = integer('ln', input.ln, { min: 1, max: bounds.maxLog2N });
    if (failed(ln)) return ln;
    log2N = ln;
  }
  const r = integer('r', input.r, { min: 1, max: bounds.maxR });
  if (failed(r)) return r;
  const p = integer('p', input.p, { min: 1, max: bounds.maxP });
  if (failed(p)) return p;
  const salt = base64('salt', input.salt, bounds.saltBytes);
  if (failed(salt)) return salt;
  const key = base64('hash', input.hash, bounds.keyBytes);
  if (failed(key)) return key;
  if (input.keyLength !== undefined && input.keyLength !== key.length) {
    return fail(
      'malformed_hash',
      `keyLength says ${String(input.keyLength).slice(0, 10)}, the hash has ${key.length} bytes`,
    );
  }
  return scryptOf(log2N, r, p, salt, key);
}

/** `{ algorithm: 'sha256' | 'sha512', hash, salt, saltPosition?, encoding? }`: one digest of salt and password. */
function fromSaltedSha(digest: 'sha256' | 'sha512', input: Fields): Parsed {
  const refused = unknownField(input, ['algorithm', 'hash', 'salt', 'saltPosition', 'encoding']);
  if (refused) return refused;
  const position = input.saltPosition ?? 'prefix';
  if (position !== 'prefix' && position !== 'suffix') {
    return fail('malformed_hash', 'saltPosition must be "prefix" or "suffix"');
  }
  const { encoding } = input;
  if (encoding !== undefined && encoding !== 'hex' && encoding !== 'base64') {
    return fail('malformed_hash', 'encoding must be "hex" or "base64"');
  }
  if (typeof input.salt !== 'string' || input.salt.length > importedHashBounds.maxLength) {
    return fail('malformed_hash', 'salt must be a string');
  }
  const salt = Buffer.from(input.salt, 'utf8');
  const { saltBytes } = importedHashBounds.saltedSha;
  if (salt.length < saltBytes.min || salt.length > saltBytes.max) {
    return fail('malformed_hash', `salt must be ${saltBytes.min} to ${saltBytes.max} bytes`);
  }
  const size = digestBytes[digest];
  const hex = typeof input.hash === 'string' && input.hash.length === 2 * size && /^[0-9a-fA-F]+$/.test(input.hash);
  let hash: Buffer | ImportedHashError;
  if (encoding === 'hex' || (encoding === undefined && hex)) {
    hash = hex ? Buffer.from(String(input.hash), 'hex') : fail('malformed_hash', `hash must be ${2 * size} hex digits`);
  } else {
    hash = base64('hash', input.hash, { min: size, max: size });
  }
  return failed(hash) ? hash : { kind: 'salted-sha', digest, position, salt, hash };
}
