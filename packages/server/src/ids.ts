import { randomBytes } from 'node:crypto';

/** Kinds of identifier; the prefix says what an id names, the rest is 128 random bits. */
export const idPrefixes = {
  tenant: 'ten',
  user: 'usr',
  role: 'rol',
  apiKey: 'key',
  auditEvent: 'evt',
  signingKey: 'sig',
  client: 'cli',
  api: 'api',
  email: 'eml',
  userLink: 'lnk',
  ticketType: 'ttp',
  ticket: 'tkt',
  userImport: 'imp',
  identityProvider: 'idp',
  identity: 'ident',
} as const;

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

export function newId(kind: keyof typeof idPrefixes): string {
  return `${idPrefixes[kind]}_${base32(randomBytes(16))}`;
}

/** Syntax of an id of the given kind (26 base32 characters after the prefix). */
export function idPattern(kind: keyof typeof idPrefixes): RegExp {
  return new RegExp(`^${idPrefixes[kind]}_[0-9a-hjkmnp-tv-z]{26}$`);
}
