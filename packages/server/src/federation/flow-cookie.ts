/**
 * The two short-lived cookies of a federated sign-in, sealed (AES-256-GCM, SecretBox) with the
 * key `federation/v1` derived from the instance secret, HttpOnly, SameSite=Lax:
 * - `lk_fed` (path: the provider's callback), set when the browser leaves for the upstream:
 *   state, nonce, PKCE verifier, the tenant, provider and interaction uid, an expiry ten
 *   minutes on. The callback clears it before anything else, so it is used once, and only by
 *   the browser that started (the upstream's answer is bound to it). A provider that answers
 *   by a cross-site POST (Apple's form_post) gets it `SameSite=None; Secure` (over https and
 *   on loopback, http/cookies.ts), or the browser would not send it back.
 * - `lk_fed_user` (path: the interaction's pages), set by the callback: whom the upstream
 *   vouched for, for the interaction that started it (its uid must be the interaction
 *   cookie's), for the linking pages; cleared when the interaction ends. A flow started on the
 *   account page ("link another way to sign in") has the uid `account:{userId}` and this cookie
 *   on the account page's path, for that user only (account-links.ts).
 * - `lk_fed_saml` (path: a SAML provider's ACS URL), the SAML start: the AuthnRequest's ID
 *   instead of state, nonce and verifier, used once like `lk_fed`. The IdP's page posts the
 *   Response cross-site, which a Lax cookie does not go with: under https (and on loopback)
 *   this one is `SameSite=None; Secure` (http/cookies.ts), so only its path keeps it to the ACS.
 * A cookie whose seal, tenant, provider, uid or expiry does not match is no cookie.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie, setCookie } from '../http/cookies.js';
import { SecretBox } from '../keys/crypto.js';
import type { InstanceSecrets } from '../secret.js';

/** Seconds a federated sign-in may take, from the button to the end of linking. */
export const FLOW_SECONDS = 600;

const START = 'lk_fed';
const USER = 'lk_fed_user';
const SAML_START = 'lk_fed_saml';

/** What the start of a SAML sign-in leaves for the ACS URL. */
export interface SamlFlowStart {
  tenantId: string;
  providerId: string;
  uid: string;
  /** The AuthnRequest's ID, which the Response must answer. */
  requestId: string;
}

/** What the start leaves for the callback. */
export interface FlowStart {
  tenantId: string;
  providerId: string;
  uid: string;
  state: string;
  nonce: string;
  verifier: string;
  /**
   * The upstream was asked to authenticate the user afresh (prompt=login, max_age=0) at this
   * time (seconds): an answer whose auth_time is later counts as a re-authentication.
   */
  reauthenticateAt?: number;
}

/** Whom the upstream vouched for, as the callback leaves it for the interaction's pages. */
export interface FlowUser {
  tenantId: string;
  providerId: string;
  uid: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** The upstream roles that the provider maps (the others are not kept). */
  roles: string[] | null;
  /** The upstream authenticated the user afresh, its auth_time checked (FlowStart.reauthenticate). */
  reauthenticated?: boolean;
}

export const callbackPath = (slug: string, idpSlug: string) => `/t/${slug}/federation/${idpSlug}/callback`;

/**
 * The `uid` of a flow that links a provider to a signed-in user from the account page, instead
 * of an interaction's: `account:` and the user's id (an interaction's uid never has a colon).
 */
export const accountFlowUid = (userId: string) => `account:${userId}`;

/**
 * Where the upstream's answer goes once checked: the pages of the interaction `uid` (its
 * `…/federation` page), or, for an account-page flow, the account page's `…/identities/finish`.
 * `base` is the path the upstream user's cookie is set on.
 */
export function flowReturn(slug: string, uid: string): { base: string; next: string } {
  if (uid.startsWith('account:')) {
    const base = `/t/${slug}/account`;
    return { base, next: `${base}/identities/finish` };
  }
  const base = `/t/${slug}/interaction/${uid}`;
  return { base, next: `${base}/federation` };
}

export class FlowCookies {
  private readonly box: SecretBox;

  constructor(
    secrets: InstanceSecrets,
    private readonly publicUrl: string,
  ) {
    // The key is `secrets.derive('federation/v1')`: SecretBox derives it the same way.
    this.box = new SecretBox(secrets.secret, 'federation/v1');
  }

  private seal(value: object): string {
    return this.box.seal(JSON.stringify({ ...value, exp: Math.floor(Date.now() / 1000) + FLOW_SECONDS }));
  }

  private open<T>(req: FastifyRequest, name: string): (T & { exp: number }) | undefined {
    const raw = readCookie(req, name);
    if (!raw) return undefined;
    try {
      const value = JSON.parse(this.box.open(raw)) as T & { exp: number };
      return value.exp > Date.now() / 1000 ? value : undefined;
    } catch {
      return undefined;
    }
  }

  setStart(reply: FastifyReply, slug: string, idpSlug: string, start: FlowStart, formPost = false): void {
    setCookie(reply, START, this.seal(start), {
      path: callbackPath(slug, idpSlug),
      maxAge: FLOW_SECONDS,
      publicUrl: this.publicUrl,
      ...(formPost ? { sameSite: 'None' as const } : {}),
    });
  }

  /** The start of this browser's sign-in at the provider, cleared as it is read (used once). */
  takeStart(req: FastifyRequest, reply: FastifyReply, slug: string, idpSlug: string): FlowStart | undefined {
    const start = this.open<FlowStart>(req, START);
    if (readCookie(req, START) !== undefined) {
      setCookie(reply, START, '', { path: callbackPath(slug, idpSlug), maxAge: 0, publicUrl: this.publicUrl });
    }
    return start;
  }

  /** The SAML start, for the ACS URL at `acsPath` (a cross-site POST carries it: SameSite=None under https). */
  setSamlStart(reply: FastifyReply, acsPath: string, start: SamlFlowStart): void {
    setCookie(reply, SAML_START, this.seal(start), {
      path: acsPath,
      maxAge: FLOW_SECONDS,
      publicUrl: this.publicUrl,
      sameSite: 'None',
    });
  }

  /** The SAML start of this browser, cleared as it is read (used once). */
  takeSamlStart(req: FastifyRequest, reply: FastifyReply, acsPath: string): SamlFlowStart | undefined {
    const start = this.open<SamlFlowStart>(req, SAML_START);
    if (readCookie(req, SAML_START) !== undefined) {
      setCookie(reply, SAML_START, '', { path: acsPath, maxAge: 0, publicUrl: this.publicUrl, sameSite: 'None' });
    }
    return start;
  }

  setUser(reply: FastifyReply, base: string, user: FlowUser): void {
    setCookie(reply, USER, this.seal(user), { path: base, maxAge: FLOW_SECONDS, publicUrl: this.publicUrl });
  }

  /** The upstream user of interaction `uid` in tenant `tenantId`, if this browser has one. */
  user(req: FastifyRequest, tenantId: string, uid: string): FlowUser | undefined {
    const user = this.open<FlowUser>(req, USER);
    return user?.tenantId === tenantId && user.uid === uid ? user : undefined;
  }

  clearUser(reply: FastifyReply, base: string): void {
    setCookie(reply, USER, '', { path: base, maxAge: 0, publicUrl: this.publicUrl });
  }
}
