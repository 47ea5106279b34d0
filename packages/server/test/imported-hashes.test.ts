/**
 * Password hashes brought from other systems (passwords/imported.ts): each format made here
 * with its reference implementation (bcryptjs, @node-rs/argon2, node:crypto following each
 * system's algorithm) and published vectors where one is known exactly (RFC 6070 PBKDF2-SHA1,
 * RFC 7914 PBKDF2-SHA256 and scrypt, the firebase/scrypt README's example), then: accepted,
 * verified, refused on a wrong or altered password; malformed and over-cost inputs refused
 * with their code, never thrown. Pure functions: no server.
 * @see issue 13
 */
import { createCipheriv, createHash, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { type Algorithm, hash as argon2Hash, hashRaw as argon2HashRaw } from '@node-rs/argon2';
import { hashSync as bcryptHashSync } from 'bcryptjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { needsRehash } from '../src/passwords/hash.js';
import {
  type ImportedHashError,
  importedHashErrorCodes,
  isImportedHash,
  parseImportedHash,
  verifyImported,
} from '../src/passwords/imported.js';

// @node-rs/argon2's `Algorithm` is a const enum, which isolated modules cannot read.
const ARGON2I = 1 as Algorithm;
const ARGON2ID = 2 as Algorithm;

const PASSWORD = 'correct horse battery staple';

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

function stored(input: unknown): string {
  const result = parseImportedHash(input);
  if ('error' in result) throw new Error(`refused: ${result.error}: ${result.message}`);
  return result.stored;
}

function refusal(input: unknown): ImportedHashError {
  const result = parseImportedHash(input);
  if (!('error' in result)) throw new Error(`accepted: ${result.stored}`);
  return result;
}

/** The password with one character changed (its last, to the next code point). */
function oneOff(password: string): string {
  const chars = [...password];
  const last = chars.pop() ?? 'a';
  return chars.join('') + String.fromCodePoint((last.codePointAt(0) ?? 0) + 1);
}

function firebaseHash(
  password: string,
  salt: Buffer,
  separator: Buffer,
  signerKey: Buffer,
  rounds: number,
  memCost: number,
) {
  const key = scryptSync(Buffer.from(password, 'utf8'), Buffer.concat([salt, separator]), 32, {
    N: 2 ** memCost,
    r: rounds,
    p: 1,
  });
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(signerKey), cipher.final()]);
}

interface Case {
  name: string;
  input: unknown;
  password: string;
  /** How the stored string begins. */
  prefix: string;
}

const pbkdf2 = (password: string, salt: Buffer | string, iterations: number, length: number, digest: string) =>
  pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, length, digest);

function keycloakCases(): Case[] {
  const salt = randomBytes(16);
  // Keycloak derives 256 bits for pbkdf2-sha256 and 512 for the others.
  const variants: [string, string, number, string][] = [
    ['pbkdf2-sha256', 'sha256', 32, '$pbkdf2-sha256$i=1000$'],
    ['pbkdf2-sha512', 'sha512', 64, '$pbkdf2-sha512$i=1000$'],
    ['pbkdf2', 'sha1', 64, '$pbkdf2-sha1$i=1000$'],
  ];
  return variants.flatMap(([algorithm, digest, length, prefix]) => {
    const value = b64(pbkdf2(PASSWORD, salt, 1000, length, digest));
    return [
      {
        name: `Keycloak credential, ${algorithm}`,
        input: { algorithm, hashIterations: 1000, value, salt: b64(salt) },
        password: PASSWORD,
        prefix,
      },
      {
        name: `Keycloak realm export credential, ${algorithm}`,
        input: {
          id: 'c0ffee',
          type: 'password',
          createdDate: 1_700_000_000_000,
          secretData: JSON.stringify({ value, salt: b64(salt), additionalParameters: {} }),
          credentialData: JSON.stringify({ hashIterations: 1000, algorithm, additionalParameters: {} }),
        },
        password: PASSWORD,
        prefix,
      },
    ];
  });
}

async function keycloakArgon2Case(type: 'i' | 'id'): Promise<Case> {
  const salt = randomBytes(16);
  const raw = await argon2HashRaw(PASSWORD, {
    algorithm: type === 'i' ? ARGON2I : ARGON2ID,
    memoryCost: 1024,
    timeCost: 2,
    parallelism: 1,
    outputLen: 32,
    salt,
  });
  return {
    name: `Keycloak realm export credential, argon2 ${type}`,
    input: {
      type: 'password',
      secretData: JSON.stringify({ value: b64(raw), salt: b64(salt), additionalParameters: {} }),
      credentialData: JSON.stringify({
        hashIterations: 2,
        algorithm: 'argon2',
        additionalParameters: {
          hashLength: ['32'],
          memory: ['1024'],
          type: [type],
          version: ['1.3'],
          parallelism: ['1'],
        },
      }),
    },
    password: PASSWORD,
    prefix: type === 'i' ? '$argon2i$v=19$m=1024,t=2,p=1$' : '$argon2id$v=19$m=1024,t=2,p=1$',
  };
}

function djangoCases(): Case[] {
  const sha256 = b64(pbkdf2(PASSWORD, 'seasalt2', 1000, 32, 'sha256'));
  const sha1 = b64(pbkdf2(PASSWORD, 'seasalt2', 1000, 20, 'sha1'));
  return [
    {
      name: 'Django pbkdf2_sha256',
      input: `pbkdf2_sha256$1000$seasalt2$${sha256}`,
      password: PASSWORD,
      prefix: '$pbkdf2-sha256$i=1000$',
    },
    {
      name: 'Django pbkdf2_sha1',
      input: `pbkdf2_sha1$1000$seasalt2$${sha1}`,
      password: PASSWORD,
      prefix: '$pbkdf2-sha1$i=1000$',
    },
    // RFC 6070's first PBKDF2-HMAC-SHA1 vector, written as Django writes it.
    {
      name: 'Django pbkdf2_sha1, RFC 6070 vector',
      input: `pbkdf2_sha1$1$salt$${b64(Buffer.from('0c60c80f961f0e71f3a9b524af6012062fe037a6', 'hex'))}`,
      password: 'password',
      prefix: '$pbkdf2-sha1$i=1$',
    },
    {
      name: 'Django bcrypt (bcrypt$ before the bcrypt string)',
      input: `bcrypt$${bcryptHashSync(PASSWORD, 4)}`,
      password: PASSWORD,
      prefix: '$2b$04$',
    },
  ];
}

function scryptCases(): Case[] {
  const salt = randomBytes(16);
  const key = scryptSync(Buffer.from(PASSWORD, 'utf8'), salt, 32, { N: 1024, r: 8, p: 1 });
  // RFC 7914, section 12, second vector: P "password", S "NaCl", N 1024, r 8, p 16, 64 bytes.
  const rfc = Buffer.from(
    'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    'hex',
  );
  const phc = (s: Buffer, k: Buffer, params: string) =>
    `$scrypt$${params}$${b64(s).replace(/=+$/, '')}$${b64(k).replace(/=+$/, '')}`;
  return [
    {
      name: 'scrypt PHC string',
      input: phc(salt, key, 'ln=10,r=8,p=1'),
      password: PASSWORD,
      prefix: '$scrypt$ln=10,r=8,p=1$',
    },
    {
      name: 'scrypt object with N',
      input: { algorithm: 'scrypt', salt: b64(salt), hash: b64(key), N: 1024, r: 8, p: 1, keyLength: 32 },
      password: PASSWORD,
      prefix: '$scrypt$ln=10,r=8,p=1$',
    },
    {
      name: 'scrypt object with ln',
      input: { algorithm: 'scrypt', salt: b64(salt), hash: b64(key), ln: 10, r: 8, p: 1 },
      password: PASSWORD,
      prefix: '$scrypt$ln=10,r=8,p=1$',
    },
    {
      name: 'scrypt, RFC 7914 vector',
      input: { algorithm: 'scrypt', salt: b64(Buffer.from('NaCl')), hash: b64(rfc), N: 1024, r: 8, p: 16 },
      password: 'password',
      prefix: '$scrypt$ln=10,r=8,p=16$',
    },
  ];
}

function firebaseCases(): Case[] {
  const salt = randomBytes(12);
  const separator = Buffer.from('Bw==', 'base64');
  const signerKey = randomBytes(64);
  const hash = firebaseHash(PASSWORD, salt, separator, signerKey, 8, 14);
  return [
    {
      name: 'Firebase scrypt, computed here',
      input: {
        algorithm: 'firebase-scrypt',
        hash: b64(hash),
        salt: b64(salt),
        signerKey: b64(signerKey),
        saltSeparator: 'Bw==',
        rounds: 8,
        memCost: 14,
      },
      password: PASSWORD,
      prefix: '$firebase-scrypt$ln=14,r=8$',
    },
    {
      // The example in the README of github.com/firebase/scrypt.
      name: "Firebase scrypt, Firebase's published example",
      input: {
        algorithm: 'firebase-scrypt',
        hash: 'lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
        salt: '42xEC+ixf3L2lw==',
        signerKey: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
        saltSeparator: 'Bw==',
        rounds: 8,
        memCost: 14,
      },
      password: 'user1password',
      prefix: '$firebase-scrypt$ln=14,r=8$',
    },
  ];
}

function saltedShaCases(): Case[] {
  const cases: Case[] = [];
  for (const digest of ['sha256', 'sha512'] as const) {
    for (const position of ['prefix', 'suffix'] as const) {
      const salt = 'pepper-and-salt';
      const bytes = position === 'prefix' ? salt + PASSWORD : PASSWORD + salt;
      const value = createHash(digest).update(bytes, 'utf8').digest();
      cases.push(
        {
          name: `salted ${digest}, salt ${position}, hex`,
          input: { algorithm: digest, hash: value.toString('hex'), salt, saltPosition: position },
          password: PASSWORD,
          prefix: `$salted-${digest}$pos=${position}$`,
        },
        {
          name: `salted ${digest}, salt ${position}, base64 named`,
          input: { algorithm: digest, hash: b64(value), salt, saltPosition: position, encoding: 'base64' },
          password: PASSWORD,
          prefix: `$salted-${digest}$pos=${position}$`,
        },
      );
    }
  }
  const prefixed = createHash('sha256').update(`s4lt${PASSWORD}`, 'utf8').digest('hex').toUpperCase();
  cases.push({
    name: 'salted sha256, default position (prefix), upper-case hex named',
    input: { algorithm: 'sha256', hash: prefixed, salt: 's4lt', encoding: 'hex' },
    password: PASSWORD,
    prefix: '$salted-sha256$pos=prefix$',
  });
  return cases;
}

function bcryptCases(): Case[] {
  const b = bcryptHashSync(PASSWORD, 4);
  return ['$2a$', '$2b$', '$2y$'].map((prefix) => ({
    name: `bcrypt ${prefix}`,
    input: prefix + b.slice(4),
    password: PASSWORD,
    prefix: `${prefix}04$`,
  }));
}

describe('imported hashes of each format', () => {
  const cases: Case[] = [];

  beforeAll(async () => {
    const argon2i = await argon2Hash(PASSWORD, { algorithm: ARGON2I, memoryCost: 1024, timeCost: 2, parallelism: 1 });
    cases.push(
      ...bcryptCases(),
      { name: 'argon2i PHC string', input: argon2i, password: PASSWORD, prefix: '$argon2i$v=19$m=1024,t=2,p=1$' },
      {
        name: 'Django argon2 (argon2$ before the PHC string)',
        input: `argon2${argon2i}`,
        password: PASSWORD,
        prefix: '$argon2i$v=19$m=1024,t=2,p=1$',
      },
      ...keycloakCases(),
      await keycloakArgon2Case('i'),
      ...djangoCases(),
      ...scryptCases(),
      ...firebaseCases(),
      ...saltedShaCases(),
    );
  });

  it('accepts each, verifies the right password and refuses a wrong or altered one', async () => {
    expect(cases.length).toBeGreaterThan(25);
    for (const c of cases) {
      const s = stored(c.input);
      expect(s.startsWith(c.prefix), c.name).toBe(true);
      expect(isImportedHash(s), c.name).toBe(true);
      expect(needsRehash(s), c.name).toBe(true);
      expect(await verifyImported(s, c.password), c.name).toBe(true);
      expect(await verifyImported(s, 'wrong password'), c.name).toBe(false);
      expect(await verifyImported(s, oneOff(c.password)), c.name).toBe(false);
      expect(await verifyImported(s, `${c.password}x`), c.name).toBe(false);
      expect(await verifyImported(s, ''), c.name).toBe(false);
      // A stored form is an import line's passwordHash too, and comes back the same.
      expect(stored(s), c.name).toBe(s);
    }
  });

  it('stores argon2id as it is, for the existing code to verify and rehash', async () => {
    const phc = await argon2Hash(PASSWORD, { algorithm: ARGON2ID, memoryCost: 1024, timeCost: 2, parallelism: 1 });
    expect(stored(phc)).toBe(phc);
    expect(isImportedHash(phc)).toBe(false);
    expect(needsRehash(phc)).toBe(true);
    expect(await verifyImported(phc, PASSWORD)).toBe(false);
    const keycloak = await keycloakArgon2Case('id');
    const fromKeycloak = stored(keycloak.input);
    expect(fromKeycloak.startsWith(keycloak.prefix)).toBe(true);
    expect(isImportedHash(fromKeycloak)).toBe(false);
  });

  it('verifies the UTF-8 bytes of the password it is given, unnormalised', async () => {
    const composed = 'caf\u00e9 au lait';
    const decomposed = 'cafe\u0301 au lait';
    const s = stored(`pbkdf2_sha256$1000$salt$${b64(pbkdf2(composed, 'salt', 1000, 32, 'sha256'))}`);
    expect(await verifyImported(s, composed)).toBe(true);
    expect(await verifyImported(s, decomposed)).toBe(false);
  });
});

/** Well-formed pieces for the refusal tables, which change one thing each. */
const salt16 = b64(randomBytes(16));
const key32 = b64(randomBytes(32));
const bcrypt = bcryptHashSync(PASSWORD, 4);
const firebase = {
  algorithm: 'firebase-scrypt',
  hash: b64(randomBytes(64)),
  salt: salt16,
  signerKey: b64(randomBytes(64)),
  saltSeparator: 'Bw==',
  rounds: 8,
  memCost: 14,
};

describe('refused inputs', () => {
  const kcExport = (secret: unknown, credential: unknown) => ({
    type: 'password',
    secretData: secret,
    credentialData: credential,
  });
  const kcSecret = JSON.stringify({ value: key32, salt: salt16 });
  const kcCredential = JSON.stringify({ hashIterations: 1000, algorithm: 'pbkdf2-sha256' });
  /** A Keycloak argon2 export credential of 32 bytes, its parameters changed by `changes`. */
  const kcArgon2 = (changes: Record<string, string[]>) =>
    kcExport(
      kcSecret,
      JSON.stringify({
        hashIterations: 1,
        algorithm: 'argon2',
        additionalParameters: {
          type: ['id'],
          version: ['1.3'],
          memory: ['1024'],
          parallelism: ['1'],
          hashLength: ['32'],
          ...changes,
        },
      }),
    );
  const scryptObject = { algorithm: 'scrypt', salt: salt16, hash: key32, N: 1024, r: 8, p: 1 };
  const sha = { algorithm: 'sha256', hash: 'ab'.repeat(32), salt: 'salt' };

  it.each<[string, unknown, (typeof importedHashErrorCodes)[number]]>([
    ['undefined', undefined, 'unsupported_hash_format'],
    ['null', null, 'unsupported_hash_format'],
    ['a number', 42, 'unsupported_hash_format'],
    ['an array', [bcrypt], 'unsupported_hash_format'],
    ['an empty string', '', 'unsupported_hash_format'],
    ['plain text', 'hunter2', 'unsupported_hash_format'],
    ['an MD5 hex digest', '5f4dcc3b5aa765d61d8327deb882cf99', 'unsupported_hash_format'],
    ['an unknown PHC id', '$md5$abc$def', 'unsupported_hash_format'],
    ['an unknown algorithm', { algorithm: 'md5', hash: 'x' }, 'unsupported_hash_format'],
    ['an algorithm from the prototype', { algorithm: 'toString', hash: 'x' }, 'unsupported_hash_format'],
    ['no algorithm', { hash: key32 }, 'unsupported_hash_format'],
    ['a very long string', `$2b$10$${'a'.repeat(10_000)}`, 'malformed_hash'],
    // bcrypt
    ['bcrypt $2x$', `$2x$${bcrypt.slice(4)}`, 'unsupported_hash_format'],
    ['bcrypt cut short', bcrypt.slice(0, 59), 'malformed_hash'],
    ['bcrypt with a character outside its alphabet', `${bcrypt.slice(0, 59)}!`, 'malformed_hash'],
    ['bcrypt with a trailing space', `${bcrypt} `, 'malformed_hash'],
    // argon2
    ['argon2d', `$argon2d$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$${'A'.repeat(43)}`, 'unsupported_hash_format'],
    ['argon2i without a version', `$argon2i$m=1024,t=2,p=1$c29tZXNhbHQ$${'A'.repeat(43)}`, 'malformed_hash'],
    ['argon2i with padded base64', `$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQ=$${'A'.repeat(43)}`, 'malformed_hash'],
    ['argon2i with a short salt', `$argon2i$v=19$m=1024,t=2,p=1$c2FsdA$${'A'.repeat(43)}`, 'malformed_hash'],
    ['argon2i with a short hash', '$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$AAAA', 'malformed_hash'],
    [
      'argon2i with parameters out of order',
      `$argon2i$v=19$t=2,m=1024,p=1$c29tZXNhbHQ$${'A'.repeat(43)}`,
      'malformed_hash',
    ],
    // Keycloak
    [
      'Keycloak: salt not base64',
      { algorithm: 'pbkdf2-sha256', hashIterations: 1000, value: key32, salt: 'no*base64' },
      'malformed_hash',
    ],
    [
      'Keycloak: padding inside the value',
      { algorithm: 'pbkdf2-sha256', hashIterations: 1000, value: `QQ==${key32}`, salt: salt16 },
      'malformed_hash',
    ],
    [
      'Keycloak: value with stray bits',
      { algorithm: 'pbkdf2-sha256', hashIterations: 1000, value: `${'A'.repeat(41)}B=`, salt: salt16 },
      'malformed_hash',
    ],
    [
      'Keycloak: value with a space',
      { algorithm: 'pbkdf2-sha256', hashIterations: 1000, value: ` ${key32}`, salt: salt16 },
      'malformed_hash',
    ],
    [
      'Keycloak: value too short',
      { algorithm: 'pbkdf2-sha256', hashIterations: 1000, value: 'AAAA', salt: salt16 },
      'malformed_hash',
    ],
    [
      'Keycloak: iterations as text',
      { algorithm: 'pbkdf2-sha256', hashIterations: '1000', value: key32, salt: salt16 },
      'malformed_hash',
    ],
    [
      'Keycloak: fractional iterations',
      { algorithm: 'pbkdf2-sha256', hashIterations: 1.5, value: key32, salt: salt16 },
      'malformed_hash',
    ],
    [
      'Keycloak: an unknown field',
      { algorithm: 'pbkdf2-sha256', hashIterations: 1000, value: key32, salt: salt16, pepper: 'x' },
      'malformed_hash',
    ],
    [
      'Keycloak: value and hashedSaltedValue',
      { algorithm: 'pbkdf2-sha256', hashIterations: 1000, value: key32, hashedSaltedValue: key32, salt: salt16 },
      'malformed_hash',
    ],
    [
      'Keycloak: an OTP credential',
      { type: 'otp', algorithm: 'pbkdf2-sha256', hashIterations: 1000, value: key32, salt: salt16 },
      'unsupported_hash_format',
    ],
    ['Keycloak export: secretData not JSON', kcExport('{value:', kcCredential), 'malformed_hash'],
    ['Keycloak export: secretData a JSON array', kcExport('[]', kcCredential), 'malformed_hash'],
    ['Keycloak export: credentialData missing', kcExport(kcSecret, undefined), 'malformed_hash'],
    [
      'Keycloak export: unknown algorithm',
      kcExport(kcSecret, JSON.stringify({ hashIterations: 1, algorithm: 'md5' })),
      'unsupported_hash_format',
    ],
    [
      'Keycloak export: PBKDF2 with parameters',
      kcExport(
        kcSecret,
        JSON.stringify({ hashIterations: 1, algorithm: 'pbkdf2', additionalParameters: { x: ['1'] } }),
      ),
      'unsupported_hash_format',
    ],
    ['Keycloak export: argon2d', kcArgon2({ type: ['d'] }), 'unsupported_hash_format'],
    ['Keycloak export: argon2 hashLength not the value', kcArgon2({ hashLength: ['64'] }), 'malformed_hash'],
    ['Keycloak export: an unknown field', { ...kcExport(kcSecret, kcCredential), extra: 1 }, 'malformed_hash'],
    // Django
    ['Django: iterations not a number', `pbkdf2_sha256$many$salt$${key32}`, 'malformed_hash'],
    ['Django: empty salt', `pbkdf2_sha256$1000$$${key32}`, 'malformed_hash'],
    ['Django: hash of the wrong length', `pbkdf2_sha256$1000$salt$${b64(randomBytes(20))}`, 'malformed_hash'],
    ['Django: hash not base64', `pbkdf2_sha256$1000$salt$${'*'.repeat(44)}`, 'malformed_hash'],
    ['Django: a field too many', `pbkdf2_sha256$1000$salt$${key32}$x`, 'unsupported_hash_format'],
    ['Django: md5', 'md5$salt$5f4dcc3b5aa765d61d8327deb882cf99', 'unsupported_hash_format'],
    // scrypt
    ['scrypt PHC: missing p', `$scrypt$ln=10,r=8$${salt16}$${key32}`, 'malformed_hash'],
    ['scrypt PHC: a leading zero', `$scrypt$ln=010,r=8,p=1$${salt16}$${key32}`, 'malformed_hash'],
    ['scrypt PHC: hash too short', `$scrypt$ln=10,r=8,p=1$${salt16}$AAAA`, 'malformed_hash'],
    ['scrypt: N not a power of two', { ...scryptObject, N: 1000 }, 'malformed_hash'],
    ['scrypt: both N and ln', { ...scryptObject, ln: 10 }, 'malformed_hash'],
    ['scrypt: keyLength not the hash', { ...scryptObject, keyLength: 64 }, 'malformed_hash'],
    ['scrypt: an unknown field', { ...scryptObject, dkLen: 32 }, 'malformed_hash'],
    ['scrypt: r missing', { ...scryptObject, r: undefined }, 'malformed_hash'],
    // Firebase
    ['Firebase: signer key not base64', { ...firebase, signerKey: '%%%' }, 'malformed_hash'],
    ['Firebase: hash not as long as the signer key', { ...firebase, hash: b64(randomBytes(32)) }, 'malformed_hash'],
    ['Firebase: salt separator missing', { ...firebase, saltSeparator: undefined }, 'malformed_hash'],
    ['Firebase: rounds as text', { ...firebase, rounds: '8' }, 'malformed_hash'],
    ['Firebase: an unknown field', { ...firebase, pepper: 'x' }, 'malformed_hash'],
    // salted SHA
    ['SHA: hex of the wrong length', { ...sha, hash: 'ab'.repeat(31) }, 'malformed_hash'],
    ['SHA: base64 named, hex given', { ...sha, encoding: 'base64', hash: 'zz'.repeat(32) }, 'malformed_hash'],
    ['SHA: hex named, base64 given', { ...sha, encoding: 'hex', hash: key32 }, 'malformed_hash'],
    ['SHA: sha512 with a sha256 digest', { ...sha, algorithm: 'sha512' }, 'malformed_hash'],
    ['SHA: empty salt', { ...sha, salt: '' }, 'malformed_hash'],
    ['SHA: salt not a string', { ...sha, salt: 42 }, 'malformed_hash'],
    ['SHA: unknown salt position', { ...sha, saltPosition: 'middle' }, 'malformed_hash'],
    ['SHA: unknown encoding', { ...sha, encoding: 'utf8' }, 'malformed_hash'],
    ['SHA: an unknown field', { ...sha, iterations: 2 }, 'malformed_hash'],
    ['salted SHA stored form: unknown position', `$salted-sha256$pos=middle$c2FsdA$${key32}`, 'malformed_hash'],
  ])('%s', (_name, input, code) => {
    expect(() => parseImportedHash(input)).not.toThrow();
    const result = refusal(input);
    expect(result.error).toBe(code);
    expect(importedHashErrorCodes).toContain(result.error);
    expect(typeof result.message).toBe('string');
    expect(result.message.length).toBeLessThan(200);
  });

  it('never echoes the hash it refuses', () => {
    const secret = b64(randomBytes(32));
    const result = refusal({ algorithm: 'sha256', hash: secret, salt: 'salt', encoding: 'hex' });
    expect(result.message).not.toContain(secret);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.string(),
          fc.string().map((s) => `$${s}`),
        ),
        (input) => {
          const result = parseImportedHash(input);
          expect('stored' in result || importedHashErrorCodes.includes(result.error)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('costs out of bounds', () => {
  const argon2Tail = `$c29tZXNhbHQ$${'A'.repeat(43)}`;
  const kc = (hashIterations: number, algorithm = 'pbkdf2-sha256', value = key32) => ({
    algorithm,
    hashIterations,
    value,
    salt: salt16,
  });

  it.each<[string, unknown]>([
    ['bcrypt cost 3', `$2b$03$${bcrypt.slice(7)}`],
    ['bcrypt cost 13', `$2b$13$${bcrypt.slice(7)}`],
    ['bcrypt cost 31', `$2b$31$${bcrypt.slice(7)}`],
    ['argon2 m = 1 GiB', `$argon2i$v=19$m=1048576,t=1,p=1${argon2Tail}`],
    ['argon2 m below 8 × p', `$argon2i$v=19$m=8,t=1,p=4${argon2Tail}`],
    ['argon2 t = 100', `$argon2i$v=19$m=1024,t=100,p=1${argon2Tail}`],
    ['argon2 p = 0', `$argon2i$v=19$m=1024,t=1,p=0${argon2Tail}`],
    ['argon2 256 MiB × 8 passes', `$argon2id$v=19$m=262144,t=8,p=1${argon2Tail}`],
    ['PBKDF2 of 10^9 iterations (Keycloak)', kc(1_000_000_000)],
    ['PBKDF2 of 0 iterations (Keycloak)', kc(0)],
    ['PBKDF2 of 10^9 iterations (Django)', `pbkdf2_sha256$1000000000$salt$${key32}`],
    ['PBKDF2-SHA1, 2M iterations × 4 blocks of a 64-byte key', kc(2_000_000, 'pbkdf2', b64(randomBytes(64)))],
    ['PBKDF2 of 10^9 iterations (stored form)', `$pbkdf2-sha256$i=1000000000$${salt16}$${key32}`],
    ['scrypt N = 2^30 (object)', { algorithm: 'scrypt', salt: salt16, hash: key32, N: 2 ** 30, r: 8, p: 1 }],
    ['scrypt ln = 30 (PHC)', `$scrypt$ln=30,r=8,p=1$${salt16}$${key32}`],
    ['scrypt 2^20 × r 8: 1 GiB', `$scrypt$ln=20,r=8,p=1$${salt16}$${key32}`],
    ['scrypt work 2^17 × 8 × 16', `$scrypt$ln=17,r=8,p=16$${salt16}$${key32}`],
    ['scrypt r = 0', { algorithm: 'scrypt', salt: salt16, hash: key32, ln: 10, r: 0, p: 1 }],
    ['Firebase memCost 15', { ...firebase, rounds: 8, memCost: 15 }],
    ['Firebase memCost 0', { ...firebase, rounds: 8, memCost: 0 }],
    ['Firebase rounds 9', { ...firebase, rounds: 9, memCost: 14 }],
    [
      'Firebase stored form, memCost 30',
      `$firebase-scrypt$ln=30,r=8$${salt16}$Bw$${firebase.signerKey}$${firebase.hash}`,
    ],
  ])('%s', (_name, input) => {
    expect(refusal(input).error).toBe('hash_cost_out_of_range');
  });

  it('accepts the largest costs within the bounds', () => {
    expect('stored' in parseImportedHash(`$2b$12$${bcrypt.slice(7)}`)).toBe(true);
    expect('stored' in parseImportedHash(kc(3_000_000))).toBe(true);
    expect('stored' in parseImportedHash(`$scrypt$ln=18,r=8,p=1$${salt16}$${key32}`)).toBe(true);
    expect('stored' in parseImportedHash(`$argon2id$v=19$m=262144,t=4,p=1${argon2Tail}`)).toBe(true);
  });
});

describe('stored strings that are not right', () => {
  it('are not imported hashes and verify as false, never throwing', async () => {
    const good = stored(`pbkdf2_sha256$1000$salt$${b64(pbkdf2(PASSWORD, 'salt', 1000, 32, 'sha256'))}`);
    const bad = [
      '',
      'garbage',
      '$pbkdf2-sha256$',
      '$pbkdf2-sha256$i=1000$$',
      good.replace('i=1000', 'i=1000000000'),
      good.replace('i=1000', 'i=-1'),
      good.replace('$i=', '$n='),
      `${good}$`,
      good.slice(0, -42),
      '$scrypt$ln=30,r=8,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      `$2b$04$${'!'.repeat(53)}`,
      '$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$AAAA',
    ];
    for (const s of bad) {
      expect(isImportedHash(s), s).toBe(false);
      await expect(verifyImported(s, PASSWORD), s).resolves.toBe(false);
    }
    // A well-formed argon2i whose hash is not this password's, and a tampered key.
    const otherArgon2i = `$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHQ$${'A'.repeat(43)}`;
    expect(isImportedHash(otherArgon2i)).toBe(true);
    expect(await verifyImported(otherArgon2i, PASSWORD)).toBe(false);
    const parts = good.split('$');
    const key = Buffer.from(parts[4] ?? '', 'base64');
    key[0] = (key[0] ?? 0) ^ 1;
    const tampered = [...parts.slice(0, 4), key.toString('base64').replace(/=+$/, '')].join('$');
    expect(isImportedHash(tampered)).toBe(true);
    expect(await verifyImported(tampered, PASSWORD)).toBe(false);
    expect(await verifyImported(good, PASSWORD)).toBe(true);
  });
});

describe('property: any password', () => {
  // Unicode of every plane (astral included), and ASCII, with the empty string.
  const passwords = fc.oneof(fc.string({ unit: 'binary', maxLength: 64 }), fc.string({ maxLength: 64 }));

  it('a PBKDF2 hash made here verifies, and another password does not', async () => {
    await fc.assert(
      fc.asyncProperty(passwords, passwords, fc.constantFrom('sha256', 'sha1'), async (password, other, digest) => {
        fc.pre(!utf8(password).equals(utf8(other)));
        const length = digest === 'sha1' ? 20 : 32;
        const s = stored(`pbkdf2_${digest}$1000$NaCl$${b64(pbkdf2(password, 'NaCl', 1000, length, digest))}`);
        expect(await verifyImported(s, password)).toBe(true);
        expect(await verifyImported(s, other)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('a salted SHA hash made here verifies, and another password does not', async () => {
    await fc.assert(
      fc.asyncProperty(
        passwords,
        passwords,
        fc.string({ minLength: 1, maxLength: 32 }),
        fc.constantFrom('sha256', 'sha512'),
        fc.constantFrom('prefix', 'suffix'),
        async (password, other, salt, digest, saltPosition) => {
          fc.pre(!utf8(password).equals(utf8(other)));
          const parts = saltPosition === 'prefix' ? [salt, password] : [password, salt];
          const hash = createHash(digest)
            .update(Buffer.concat(parts.map(utf8)))
            .digest('base64');
          const s = stored({ algorithm: digest, hash, salt, saltPosition });
          expect(await verifyImported(s, password)).toBe(true);
          expect(await verifyImported(s, other)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
