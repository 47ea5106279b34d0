/**
 * Sign-in through `github` and `facebook` providers: the same steps as relying-party.ts's
 * OpenID Connect ones (configuration, authorization URL, redeem), over OAuth 2 without an ID
 * token. openid-client runs the code grant with PKCE S256 and state (no nonce: there is no ID
 * token to carry it), and who signed in comes from the provider's profile API
 * (oauth2-profiles.ts) with the access token. The profile is handed on as claims under the
 * provider's claim names, so the rest of the sign-in (FlowUser, linking, never on an
 * unverified email) is the one every kind goes through.
 */
import * as oidc from 'openid-client';
import { TtlCache } from '../../cache.js';
import { type OAuth2Kind, oauth2Configuration, oauth2Profile } from '../oauth2-profiles.js';
import type { OutboundFetch } from '../outbound.js';
import type { AuthorizationRequest, FlowChecks, ProviderSecrets, UpstreamUser } from '../relying-party.js';
import { codeFlowUrl, UpstreamUnavailable } from '../relying-party.js';
import type { IdentityProvider } from '../store.js';

const CONFIG_TTL_MS = 3_600_000;

export class OAuth2RelyingParties {
  private readonly configs = new TtlCache<string, Promise<oidc.Configuration>>(CONFIG_TTL_MS, 1000);

  constructor(
    private readonly allowHttpIssuers: boolean,
    /** Every request to the provider (federation/outbound.ts). */
    private readonly outbound?: OutboundFetch,
  ) {}

  /** Plain http only to a loopback stand-in, when the config allows it (as for OpenID Connect issuers). */
  private insecure(idp: IdentityProvider): boolean {
    if (!this.allowHttpIssuers || !idp.endpoints) return false;
    return Object.values(idp.endpoints).every((u) => {
      const url = new URL(u);
      return url.protocol === 'https:' || ['localhost', '127.0.0.1'].includes(url.hostname);
    });
  }

  private kindOf(idp: IdentityProvider): OAuth2Kind {
    if (idp.kind !== 'github' && idp.kind !== 'facebook') throw new UpstreamUnavailable(`${idp.kind} is not OAuth 2`);
    return idp.kind;
  }

  /** The provider's client (cached per provider version). */
  async configuration(idp: IdentityProvider, secrets: () => Promise<ProviderSecrets>): Promise<oidc.Configuration> {
    const key = `${idp.id}:${idp.version}`;
    const hit = this.configs.get(key);
    if (hit) return hit;
    const pending = (async () => {
      const { clientSecret = '' } = await secrets();
      const auth =
        idp.tokenEndpointAuthMethod === 'client_secret_basic'
          ? oidc.ClientSecretBasic(clientSecret)
          : oidc.ClientSecretPost(clientSecret);
      return oauth2Configuration(this.kindOf(idp), idp.clientId, auth, {
        endpoints: idp.endpoints ?? undefined,
        allowHttp: this.insecure(idp),
        ...(this.outbound ? { fetch: this.outbound } : {}),
      });
    })();
    this.configs.set(key, pending);
    pending.catch(() => this.configs.delete(key));
    return pending;
  }

  /** Where the browser goes upstream: code flow, PKCE S256 and state. */
  async authorizationUrl(config: oidc.Configuration, idp: IdentityProvider, p: AuthorizationRequest): Promise<URL> {
    // No nonce (no ID token), no login hint: GitHub's `login` is a user name, not an email.
    return codeFlowUrl(config, idp, p);
  }

  /** Redeems the code (state and PKCE checked by openid-client), then asks the profile API who it is. */
  async redeem(
    idp: IdentityProvider,
    config: oidc.Configuration,
    _secrets: () => Promise<ProviderSecrets>,
    callback: URL | Request,
    checks: FlowChecks,
  ): Promise<UpstreamUser> {
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: checks.pkceCodeVerifier,
      expectedState: checks.state,
    });
    const profile = await oauth2Profile(this.kindOf(idp), config, tokens.access_token, idp.endpoints ?? undefined);
    return {
      subject: profile.subject,
      claims: {
        sub: profile.subject,
        [idp.claims.email]: profile.email,
        [idp.claims.emailVerified]: profile.emailVerified,
        [idp.claims.name]: profile.name,
      },
    };
  }
}
