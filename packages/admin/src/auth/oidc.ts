/**
 * The OAuth 2.0 / OpenID Connect side of the console, on oauth4webapi: authorization code +
 * PKCE (S256) with the tenant's public client `admin-console`, `resource={adminApi}` so the access
 * token is a JWT for the admin API, refresh with rotation, RP-initiated logout.
 */
import * as oauth from 'oauth4webapi';
import type { PendingSignIn, SessionUser, StoredSession } from './storage';

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** The admin API's identifier: the audience of the access token. */
  resource: string;
  scope: string;
}

/** The refresh token is no longer good (expired, revoked, reused): the admin must sign in again. */
export class SignInRequiredError extends Error {
  override readonly name = 'SignInRequiredError';
}

export function sessionFromTokens(
  tokens: oauth.TokenEndpointResponse,
  now: number,
  previous?: StoredSession,
): StoredSession {
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  const expiresIn = typeof tokens.expires_in === 'number' && tokens.expires_in > 0 ? tokens.expires_in : 300;
  const user: SessionUser | undefined = claims
    ? {
        sub: claims.sub,
        email: typeof claims.email === 'string' ? claims.email : null,
        name: typeof claims.name === 'string' ? claims.name : null,
      }
    : previous?.user;
  if (!user) throw new Error('The token response carried no ID token');
  return {
    accessToken: tokens.access_token,
    // Refresh tokens rotate: always keep the newest, else the one we had.
    refreshToken: tokens.refresh_token ?? previous?.refreshToken ?? null,
    idToken: tokens.id_token ?? previous?.idToken ?? null,
    expiresAt: now + expiresIn * 1000,
    expiresIn,
    user,
  };
}

export class OidcClient {
  private metadata?: Promise<oauth.AuthorizationServer>;
  private readonly client: oauth.Client;
  private readonly insecure: boolean;

  constructor(readonly settings: OidcSettings) {
    this.client = { client_id: settings.clientId };
    // http:// is for development on localhost only; oauth4webapi refuses it unless told.
    this.insecure = settings.issuer.protocol === 'http:';
  }

  private get httpOptions() {
    return { [oauth.allowInsecureRequests]: this.insecure };
  }

  /** Discovery, fetched once (retried on the next call if it failed). */
  authorizationServer(): Promise<oauth.AuthorizationServer> {
    if (!this.metadata) {
      const issuer = this.settings.issuer;
      this.metadata = oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...this.httpOptions }).then((res) => {
        if (res.status === 404)
          throw new Error(`There is no tenant at ${issuer.href} (its sign-in service answered 404).`);
        return oauth.processDiscoveryResponse(issuer, res);
      });
      this.metadata.catch(() => {
        this.metadata = undefined;
      });
    }
    return this.metadata;
  }

  /** A fresh pending sign-in (state, nonce, PKCE verifier) and the URL to send the browser to. */
  async startSignIn(returnTo: string, now = Date.now()): Promise<{ url: URL; pending: PendingSignIn }> {
    const as = await this.authorizationServer();
    if (!as.authorization_endpoint) throw new Error('The issuer has no authorization endpoint');
    const pending: PendingSignIn = {
      state: oauth.generateRandomState(),
      nonce: oauth.generateRandomNonce(),
      codeVerifier: oauth.generateRandomCodeVerifier(),
      returnTo,
      startedAt: now,
    };
    const url = new URL(as.authorization_endpoint);
    const params = url.searchParams;
    params.set('client_id', this.settings.clientId);
    params.set('redirect_uri', this.settings.redirectUri);
    params.set('response_type', 'code');
    params.set('scope', this.settings.scope);
    params.set('code_challenge', await oauth.calculatePKCECodeChallenge(pending.codeVerifier));
    params.set('code_challenge_method', 'S256');
    params.set('state', pending.state);
    params.set('nonce', pending.nonce);
    params.set('resource', this.settings.resource);
    // OpenID Connect Core 11: a refresh token (offline_access) needs prompt=consent; the console
    // is first-party, so the server grants it without showing a consent page.
    params.set('prompt', 'consent');
    return { url, pending };
  }

  /** Validates the authorization response (state, iss) and redeems the code. */
  async completeSignIn(callbackUrl: URL, pending: PendingSignIn, now = Date.now()): Promise<StoredSession> {
    const as = await this.authorizationServer();
    const params = oauth.validateAuthResponse(as, this.client, callbackUrl, pending.state);
    const res = await oauth.authorizationCodeGrantRequest(
      as,
      this.client,
      oauth.None(),
      params,
      this.settings.redirectUri,
      pending.codeVerifier,
      this.httpOptions,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, this.client, res, {
      expectedNonce: pending.nonce,
      requireIdToken: true,
    });
    return sessionFromTokens(tokens, now);
  }

  /** A new access token (and the rotated refresh token). `SignInRequiredError` when that is over. */
  async refresh(previous: StoredSession, now = Date.now()): Promise<StoredSession> {
    if (!previous.refreshToken) throw new SignInRequiredError('No refresh token');
    const as = await this.authorizationServer();
    try {
      const res = await oauth.refreshTokenGrantRequest(as, this.client, oauth.None(), previous.refreshToken, {
        ...this.httpOptions,
        additionalParameters: { resource: this.settings.resource },
      });
      const tokens = await oauth.processRefreshTokenResponse(as, this.client, res);
      return sessionFromTokens(tokens, now, previous);
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError && (err.error === 'invalid_grant' || err.status === 400)) {
        throw new SignInRequiredError(err.error_description ?? err.error);
      }
      throw err;
    }
  }

  /** RP-initiated logout URL, or null when the issuer has no end-session endpoint. */
  async endSessionUrl(idToken: string | null): Promise<URL | null> {
    const as = await this.authorizationServer();
    if (!as.end_session_endpoint) return null;
    const url = new URL(as.end_session_endpoint);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('client_id', this.settings.clientId);
    url.searchParams.set('post_logout_redirect_uri', this.settings.postLogoutRedirectUri);
    return url;
  }
}
