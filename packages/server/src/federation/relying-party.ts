/**
 * Latchkey as a relying party of a tenant's upstream OpenID Connect provider, through
 * openid-client 6 (certified; no protocol code of our own): discovery, the authorization URL
 * (code flow, PKCE S256, state, nonce) and the code exchange, which checks the ID token's
 * signature (`enableNonRepudiationChecks`: openid-client would otherwise take the TLS
 * connection's word for it), issuer, audience, expiry and nonce, the state and the PKCE verifier.
 *
 * Discovery documents are kept per issuer (a bounded cache, an hour), and the client
 * configuration built from one per provider version, so that the upstream's keys are fetched
 * once, not per sign-in; every upstream request has a timeout. Plain http is refused except
 * for issuers on localhost/127.0.0.1 when FEDERATION_ALLOW_HTTP_ISSUERS says so (local tests).
 *
 * Microsoft Entra's multi-tenant issuers (`…/common/v2.0`, `…/organizations/v2.0`) publish
 * the issuer `…/{tenantid}/v2.0`: each token's `iss` names the user's own Entra tenant, as its
 * `tid` claim does. For such an issuer the token response is read once (without trusting
 * anything in it) for its `tid`, and then validated by openid-client against the issuer
 * `{tenantid}` stands for, so the `iss` check stays strict: `iss` must be the template with the
 * token's own (signed) `tid`.
 *
 * Apple (kind `apple`) is this path too, with the client secret JWT of kinds/apple-sign-in.ts
 * and `response_mode=form_post`; so is `latchkey` (another tenant, discovered at PUBLIC_URL).
 */
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { TtlCache } from '../cache.js';
import type { AppleKey } from './apple.js';
import { appleClientAuth } from './kinds/apple-sign-in.js';
import { asCustomFetch, type OutboundFetch } from './outbound.js';
import type { IdentityProvider } from './store.js';

/** Seconds an upstream request (discovery, keys, token, userinfo) may take. */
const UPSTREAM_TIMEOUT_SECONDS = 10;
const DISCOVERY_TTL_MS = 3_600_000;
const TEMPLATE = '{tenantid}';

/** The upstream could not be reached or answered nonsense (not the user's doing). */
export class UpstreamUnavailable extends Error {
  override name = 'UpstreamUnavailable';
}

/** The upstream's answer does not pass a check of ours (openid-client's own errors are its classes). */
export class UpstreamRefused extends Error {
  override name = 'UpstreamRefused';
}

/** The checks a callback's answer must pass, kept in the sealed cookie from the start. */
export interface FlowChecks {
  state: string;
  nonce: string;
  pkceCodeVerifier: string;
}

/** What the upstream says of the user, from the validated ID token (and userinfo for what it lacks). */
export interface UpstreamUser {
  /** The upstream subject; for a multi-tenant Entra issuer `{tid}:{sub}`, so two tenants' users never meet. */
  subject: string;
  claims: Record<string, unknown>;
}

/** A sealed provider's secrets, as the store opens them. */
export interface ProviderSecrets {
  clientSecret?: string;
  privateKeyJwk?: JWK;
  /** apple: the key its client secrets are signed with. */
  appleKey?: AppleKey;
}

interface Discovered {
  metadata: oidc.ServerMetadata;
  /** The issuer with `{tenantid}` (a multi-tenant Entra issuer), else undefined. */
  template: string | undefined;
}

export class RelyingParties {
  private readonly discovered = new TtlCache<string, Promise<Discovered>>(DISCOVERY_TTL_MS, 1000);
  private readonly configs = new TtlCache<string, Promise<oidc.Configuration>>(DISCOVERY_TTL_MS, 1000);

  /** Every request to a provider: discovery, JWKS, token, userinfo (federation/outbound.ts). */
  private readonly fetchFn: OutboundFetch;

  constructor(
    private readonly allowHttpIssuers: boolean,
    outbound?: OutboundFetch,
  ) {
    this.fetchFn = outbound ?? ((url, init) => fetch(url, init));
  }

  /** Whether the issuer may be reached over plain http (a loopback stand-in, when the config allows it). */
  private insecure(issuer: string): boolean {
    const url = new URL(issuer);
    return this.allowHttpIssuers && url.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(url.hostname);
  }

  private options(issuer: string): oidc.DiscoveryRequestOptions {
    return {
      timeout: UPSTREAM_TIMEOUT_SECONDS,
      [oidc.customFetch]: asCustomFetch(this.fetchFn),
      ...(this.insecure(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
    };
  }

  /** The issuer's discovery document (cached; a failure is not). */
  private discover(idp: IdentityProvider): Promise<Discovered> {
    const key = `${idp.kind}:${idp.issuer}`;
    const hit = this.discovered.get(key);
    if (hit) return hit;
    const pending = this.fetchDiscovery(idp);
    this.discovered.set(key, pending);
    pending.catch(() => this.discovered.delete(key));
    return pending;
  }

  private async fetchDiscovery(idp: IdentityProvider): Promise<Discovered> {
    const issuer = idp.issuer.replace(/\/+$/, '');
    if (idp.kind !== 'microsoft') {
      // openid-client checks that the document names this very issuer.
      const config = await oidc.discovery(
        new URL(idp.issuer),
        idp.clientId,
        undefined,
        undefined,
        this.options(issuer),
      );
      return { metadata: config.serverMetadata(), template: undefined };
    }
    // Entra: the document of `common` or `organizations` names the template, so the check is ours.
    const wellKnown = new URL(`${issuer}/.well-known/openid-configuration`);
    const config = await oidc.discovery(wellKnown, idp.clientId, undefined, undefined, this.options(issuer));
    const metadata = config.serverMetadata();
    if (metadata.issuer === issuer || metadata.issuer === idp.issuer) return { metadata, template: undefined };
    const tenant = /^(.*\/)(common|organizations|consumers)(\/v2\.0)$/.exec(issuer);
    if (tenant && metadata.issuer === `${tenant[1]}${TEMPLATE}${tenant[3]}`) {
      return { metadata, template: metadata.issuer };
    }
    throw new UpstreamUnavailable(`the discovery document of ${issuer} names another issuer (${metadata.issuer})`);
  }

  /** The provider's client at its issuer (cached per provider version). */
  async configuration(idp: IdentityProvider, secrets: () => Promise<ProviderSecrets>): Promise<oidc.Configuration> {
    const key = `${idp.id}:${idp.version}`;
    const hit = this.configs.get(key);
    if (hit) return hit;
    const pending = (async () => {
      const { metadata } = await this.discover(idp);
      return this.build(idp, metadata, await clientAuth(idp, await secrets()));
    })();
    this.configs.set(key, pending);
    pending.catch(() => this.configs.delete(key));
    return pending;
  }

  private build(
    idp: IdentityProvider,
    metadata: oidc.ServerMetadata,
    auth: oidc.ClientAuth,
    fetchFn?: oidc.CustomFetch,
  ): oidc.Configuration {
    const config = new oidc.Configuration(metadata, idp.clientId, undefined, auth);
    config.timeout = UPSTREAM_TIMEOUT_SECONDS;
    if (this.insecure(idp.issuer)) oidc.allowInsecureRequests(config);
    // The ID token's signature too, against the issuer's published keys: not only TLS's word.
    oidc.enableNonRepudiationChecks(config);
    config[oidc.customFetch] = fetchFn ?? asCustomFetch(this.fetchFn);
    return config;
  }

  /** Where the browser goes upstream: code flow, PKCE S256, state and nonce (and prompt=login, max_age=0 to re-authenticate). */
  async authorizationUrl(config: oidc.Configuration, idp: IdentityProvider, p: AuthorizationRequest): Promise<URL> {
    return codeFlowUrl(config, idp, p, {
      nonce: p.checks.nonce,
      // Entra takes prompt=login but not max_age; the others both (auth_time is checked after).
      ...(p.reauthenticate ? { prompt: 'login', ...(idp.kind === 'microsoft' ? {} : { max_age: '0' }) } : {}),
      // Apple answers by POST when it is asked for the name or email.
      ...(idp.kind === 'apple' ? { response_mode: 'form_post' } : {}),
      ...(p.loginHint ? { login_hint: p.loginHint } : {}),
    });
  }

  /**
   * Redeems the callback's code and validates everything openid-client checks. Throws
   * openid-client's errors (the answer is refused) or `UpstreamUnavailable`.
   */
  async redeem(
    idp: IdentityProvider,
    config: oidc.Configuration,
    secrets: () => Promise<ProviderSecrets>,
    callback: URL | Request,
    checks: FlowChecks,
  ): Promise<UpstreamUser> {
    const { metadata, template } = await this.discover(idp);
    const expected = { pkceCodeVerifier: checks.pkceCodeVerifier, expectedState: checks.state };
    const grant = { ...expected, expectedNonce: checks.nonce, idTokenExpected: true };
    let used = config;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    if (!template) tokens = await oidc.authorizationCodeGrant(config, callback, grant);
    else {
      const auth = await clientAuth(idp, await secrets());
      const answer = await this.tokenAnswer(idp, metadata, auth, callback, expected);
      const tid = tenantOf(answer.body);
      // The same answer, validated against the issuer of the token's own tenant.
      const issuer = template.replace(TEMPLATE, tid);
      used = this.build(idp, { ...metadata, issuer }, auth, (url, init) =>
        url === metadata.token_endpoint
          ? Promise.resolve(new Response(answer.body, { status: answer.status, headers: answer.headers }))
          : this.fetchFn(url, init as RequestInit),
      );
      tokens = await oidc.authorizationCodeGrant(used, callback, grant);
    }
    const idClaims = tokens.claims() as Record<string, unknown> | undefined;
    if (!idClaims || typeof idClaims.sub !== 'string') throw new UpstreamUnavailable('no ID token claims');
    let claims: Record<string, unknown> = idClaims;
    const wanted = [idp.claims.email, idp.claims.name, ...(idp.claims.roles ? [idp.claims.roles] : [])];
    if (wanted.some((c) => !(c in idClaims)) && metadata.userinfo_endpoint) {
      // What the ID token leaves out, from userinfo (whose `sub` openid-client checks is the same).
      const info = await oidc.fetchUserInfo(used, tokens.access_token, idClaims.sub);
      claims = { ...info, ...idClaims };
    }
    const subject = template ? `${String(idClaims.tid)}:${idClaims.sub}` : idClaims.sub;
    return { subject, claims };
  }

  /**
   * The token endpoint's answer to this callback's code, as received: the first half of a
   * multi-tenant Entra callback. openid-client checks the state, makes the request, and hands
   * the answer over before it reads anything in it (`customFetch`); nothing is trusted yet.
   */
  private async tokenAnswer(
    idp: IdentityProvider,
    metadata: oidc.ServerMetadata,
    auth: oidc.ClientAuth,
    callback: URL | Request,
    checks: { pkceCodeVerifier: string; expectedState: string },
  ): Promise<{ body: string; status: number; headers: Headers }> {
    let answer: { body: string; status: number; headers: Headers } | undefined;
    const stop = new Error('token answer read');
    const probe = this.build(
      idp,
      // The authorization response names no issuer yet that could be checked here.
      { ...metadata, authorization_response_iss_parameter_supported: false },
      auth,
      async (url, init) => {
        const res = await this.fetchFn(url, init as RequestInit);
        if (url !== metadata.token_endpoint) return res;
        answer = { body: await res.text(), status: res.status, headers: res.headers };
        throw stop;
      },
    );
    const withoutIss = callback instanceof URL ? new URL(callback) : callback.clone();
    if (withoutIss instanceof URL) withoutIss.searchParams.delete('iss');
    try {
      await oidc.authorizationCodeGrant(probe, withoutIss, checks);
    } catch (err) {
      if (!answer) throw err;
    }
    if (!answer) throw new UpstreamUnavailable('no token answer');
    return answer;
  }
}

/** The `tid` of the answer's ID token, read only to choose the issuer it is then validated against. */
function tenantOf(body: string): string {
  let tid: unknown;
  try {
    const idToken = (JSON.parse(body) as { id_token?: unknown }).id_token;
    const payload = typeof idToken === 'string' ? idToken.split('.')[1] : undefined;
    tid = payload
      ? (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { tid?: unknown }).tid
      : undefined;
  } catch {
    tid = undefined;
  }
  // A tenant id is a GUID: nothing that could change the issuer's shape.
  if (typeof tid !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tid)) {
    throw new UpstreamRefused('the ID token names no Entra tenant (tid)');
  }
  return tid;
}

/** openid-client's client authentication for the provider's method. */
async function clientAuth(idp: IdentityProvider, secrets: ProviderSecrets): Promise<oidc.ClientAuth> {
  if (idp.kind === 'apple') {
    if (!secrets.appleKey) throw new UpstreamUnavailable('no Apple key');
    return appleClientAuth(secrets.appleKey, idp.clientId);
  }
  switch (idp.tokenEndpointAuthMethod) {
    case 'client_secret_basic':
      return oidc.ClientSecretBasic(secrets.clientSecret ?? '');
    case 'client_secret_post':
      return oidc.ClientSecretPost(secrets.clientSecret ?? '');
    case 'private_key_jwt': {
      const jwk = secrets.privateKeyJwk;
      if (!jwk) throw new UpstreamUnavailable('no private key for private_key_jwt');
      const alg = jwk.alg ?? defaultAlg(jwk);
      const key = await importJWK(jwk, alg);
      if (key instanceof Uint8Array) throw new UpstreamUnavailable('the private key is not an asymmetric key');
      return oidc.PrivateKeyJwt(jwk.kid ? { key, kid: jwk.kid } : key);
    }
  }
}

/** The JWS algorithm of a private JWK without `alg`. */
function defaultAlg(jwk: JWK): string {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
  return 'EdDSA';
}

/** What the start of a sign-in asks the upstream for. */
export interface AuthorizationRequest {
  redirectUri: string;
  checks: FlowChecks;
  loginHint?: string | undefined;
  /** Ask the upstream to authenticate the user afresh (kinds that can: canReauthenticate). */
  reauthenticate?: boolean;
}

/**
 * Whether a provider of `kind` can be asked to authenticate the user afresh and say when it
 * did (prompt=login, max_age=0, the ID token's auth_time): the OpenID Connect kinds, but not
 * Apple (its authorization endpoint documents no `prompt`); not GitHub's or Facebook's OAuth 2
 * (no such parameter, no auth_time), nor SAML here.
 */
export const canReauthenticate = (kind: string) => ['oidc', 'google', 'microsoft', 'latchkey'].includes(kind);

/** Seconds of clock difference allowed between the upstream's auth_time and our start of the flow. */
const AUTH_TIME_SKEW_SECONDS = 60;

/** Whether the upstream's `auth_time` claim says the user authenticated after `startedAt` (seconds). */
export function authenticatedSince(claims: Record<string, unknown>, startedAt: number): boolean {
  const at = claims.auth_time;
  return typeof at === 'number' && Number.isFinite(at) && at >= startedAt - AUTH_TIME_SKEW_SECONDS;
}

/** An authorization request of the code flow with PKCE S256 and state, and what the kind adds. */
export async function codeFlowUrl(
  config: oidc.Configuration,
  idp: IdentityProvider,
  p: AuthorizationRequest,
  extra: Record<string, string> = {},
): Promise<URL> {
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: p.redirectUri,
    scope: idp.scopes.join(' '),
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(p.checks.pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: p.checks.state,
    ...extra,
  });
}
