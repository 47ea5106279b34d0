/**
 * Tokens live in memory and in sessionStorage (one tab; gone with it), never localStorage.
 * Keys are per signed-in tenant, so a system console and a tenant console can sit side by side.
 */

export interface SessionUser {
  sub: string;
  email: string | null;
  name: string | null;
}

export interface StoredSession {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  /** Lifetime the server gave the access token, in seconds. */
  expiresIn: number;
  user: SessionUser;
}

/** What the console remembers between sending the admin to sign in and the callback. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Router path to come back to. */
  returnTo: string;
  startedAt: number;
}

const PREFIX = 'latchkey.admin';

function parse(raw: string | null): unknown {
  if (!raw) return null;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

export function isStoredSession(v: unknown): v is StoredSession {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const u = s.user as Record<string, unknown> | null | undefined;
  return (
    isString(s.accessToken) &&
    isNullableString(s.refreshToken) &&
    isNullableString(s.idToken) &&
    typeof s.expiresAt === 'number' &&
    typeof s.expiresIn === 'number' &&
    typeof u === 'object' &&
    u !== null &&
    isString(u.sub) &&
    isNullableString(u.email) &&
    isNullableString(u.name)
  );
}

function isPending(v: unknown): v is PendingSignIn {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    isString(p.state) &&
    isString(p.nonce) &&
    isString(p.codeVerifier) &&
    isString(p.returnTo) &&
    typeof p.startedAt === 'number'
  );
}

/** A pending sign-in older than this is ignored (the server's interaction lasts an hour). */
export const PENDING_MAX_AGE_MS = 60 * 60 * 1000;

export class AuthStorage {
  constructor(
    private readonly storage: Storage,
    private readonly tenant: string,
  ) {}

  private key(kind: string) {
    return `${PREFIX}.${kind}.${this.tenant}`;
  }

  readSession(): StoredSession | null {
    const v = parse(this.storage.getItem(this.key('session')));
    return isStoredSession(v) ? v : null;
  }
  writeSession(session: StoredSession): void {
    this.storage.setItem(this.key('session'), JSON.stringify(session));
  }
  clearSession(): void {
    this.storage.removeItem(this.key('session'));
  }

  writePending(pending: PendingSignIn): void {
    this.storage.setItem(this.key('pending'), JSON.stringify(pending));
  }
  /** Reads and forgets the pending sign-in: a callback URL is good for one try only. */
  takePending(now = Date.now()): PendingSignIn | null {
    const v = parse(this.storage.getItem(this.key('pending')));
    this.storage.removeItem(this.key('pending'));
    if (!isPending(v) || now - v.startedAt > PENDING_MAX_AGE_MS) return null;
    return v;
  }

  /** After sign-out the console shows "signed out" instead of sending the admin straight back to sign in. */
  markSignedOut(): void {
    this.storage.setItem(this.key('signedOut'), '1');
  }
  isSignedOut(): boolean {
    return this.storage.getItem(this.key('signedOut')) === '1';
  }
  clearSignedOut(): void {
    this.storage.removeItem(this.key('signedOut'));
  }
}
