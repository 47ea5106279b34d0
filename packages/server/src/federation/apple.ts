/**
 * Sign in with Apple is OpenID Connect (issuer https://appleid.apple.com) with two twists:
 * the client secret is a short-lived ES256 JWT the relying party signs with the key Apple
 * issued (team id, key id, the .p8 private key), and the person's name arrives once, on the
 * first authorization, as a `user` JSON field of the form_post callback, never in the ID token.
 * (developer.apple.com, "Creating a client secret" and "Incorporating Sign in with Apple".)
 */
import { importPKCS8, SignJWT } from 'jose';

export const APPLE_ISSUER = 'https://appleid.apple.com';

export interface AppleKey {
  /** The Apple Developer team id (10 characters). */
  teamId: string;
  /** The id of the Sign in with Apple key. */
  keyId: string;
  /** The key's private part, the PKCS #8 PEM Apple lets one download once (.p8). */
  privateKeyPem: string;
}

/** Apple allows up to six months; a secret made per token request needs minutes. */
const SECRET_SECONDS = 300;

/**
 * The client secret for one token request: iss the team, sub the client (the Services ID),
 * aud Apple, signed ES256 with `kid` the key id.
 */
export async function appleClientSecret(key: AppleKey, clientId: string, now = Date.now()): Promise<string> {
  const privateKey = await importPKCS8(key.privateKeyPem, 'ES256');
  const iat = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.keyId })
    .setIssuer(key.teamId)
    .setSubject(clientId)
    .setAudience(APPLE_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + SECRET_SECONDS)
    .sign(privateKey);
}

/** Whether `key` is usable: the ids' shapes and a P-256 private key that signs. */
export async function checkAppleKey(key: AppleKey): Promise<string | undefined> {
  if (!/^[A-Z0-9]{10}$/.test(key.teamId)) return 'teamId must be the 10-character Apple team id';
  if (!/^[A-Z0-9]{10}$/.test(key.keyId)) return 'keyId must be the 10-character Apple key id';
  try {
    await importPKCS8(key.privateKeyPem, 'ES256');
    return undefined;
  } catch {
    return 'privateKey must be the PKCS #8 PEM of a P-256 key (the .p8 file Apple gives)';
  }
}

/**
 * The name from the first callback's `user` field (`{"name":{"firstName","lastName"},"email"}`),
 * or null when absent or not that shape. Apple sends it only once: keep it at sign-up.
 */
export function appleUserName(user: unknown): string | null {
  if (typeof user !== 'string' || user.length > 4096) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(user);
  } catch {
    return null;
  }
  const name = (parsed as { name?: { firstName?: unknown; lastName?: unknown } } | null)?.name;
  const parts = [name?.firstName, name?.lastName].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  const full = parts.join(' ').trim().slice(0, 200);
  return full === '' ? null : full;
}
