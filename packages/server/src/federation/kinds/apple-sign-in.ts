/**
 * What Sign in with Apple adds to the OpenID Connect sign-in (apple.ts has the JWT and the
 * key checks): the client authentication, a client secret JWT signed afresh for each token
 * request and sent as client_secret_post, as Apple asks; and the name, which Apple sends only
 * on the first authorization, as the `user` field of its form_post answer, never in the ID
 * token. The name is a display name and nothing more: it is not signed, so nothing else of
 * `user` (its email) is read.
 */
import * as oidc from 'openid-client';
import { type AppleKey, appleClientSecret, appleUserName } from '../apple.js';
import type { IdentityProvider } from '../store.js';

/** client_secret_post with a client secret JWT made at each token request (so it never outlives minutes). */
export function appleClientAuth(key: AppleKey, clientId: string): oidc.ClientAuth {
  // oauth4webapi awaits the client authentication; openid-client's type says void.
  const auth = async (...args: Parameters<oidc.ClientAuth>) =>
    oidc.ClientSecretPost(await appleClientSecret(key, clientId))(...args);
  return auth as unknown as oidc.ClientAuth;
}

/** The upstream claims with the name from Apple's `user` field, when the ID token has none. */
export function withAppleName(
  idp: IdentityProvider,
  claims: Record<string, unknown>,
  body: unknown,
): Record<string, unknown> {
  if (idp.kind !== 'apple' || typeof claims[idp.claims.name] === 'string') return claims;
  const name = appleUserName((body as { user?: unknown } | null)?.user);
  return name ? { ...claims, [idp.claims.name]: name } : claims;
}
