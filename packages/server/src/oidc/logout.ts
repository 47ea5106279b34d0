/**
 * RP-initiated logout without the "Do you want to sign out?" page when the request proves
 * where it comes from. OpenID Connect RP-Initiated Logout 1.0 asks the OP to confirm unless
 * an `id_token_hint` belongs to the current session; an ID token naming this session
 * (`sid`) and this user, signed by the tenant for an application signed in here, is held
 * only by that application: a cross-site page cannot forge it, so the request is no CSRF.
 * Anything less (no hint, a hint of another session or user) keeps the confirmation.
 *
 * oidc-provider always renders the confirmation (`logoutSource`), whose form must then be
 * POSTed with its xsrf; its author's advice is a self-submitting form, but our pages work
 * without JavaScript under a CSP without scripts. So `logoutSource` ends the session itself,
 * as the confirmation's "yes" (`end_session_confirm`) does: every grant of the session that
 * does not outlive it revoked, the session destroyed and its cookie cleared, then 303 to the
 * registered post-logout URI (with `state`) or the signed-out page. oidc-provider internals
 * this relies on stay in this file.
 */
import type Provider from 'oidc-provider';
import type { CookiesSetOptions, KoaContextWithOIDC } from 'oidc-provider';

/**
 * Every ID token names its session (`sid`, the claim of OpenID Connect's front- and
 * back-channel logout), which oidc-provider adds only for back-channel clients.
 */
export function namesSessionsInIdTokens(provider: Provider): void {
  (provider.Client.prototype as unknown as { includeSid(): boolean }).includeSid = () => true;
}

/** Whether the request's `id_token_hint` (already verified by oidc-provider) is of this session. */
export function hintIsForThisSession(ctx: KoaContextWithOIDC): boolean {
  const hint = ctx.oidc.entities.IdTokenHint?.payload;
  const session = ctx.oidc.session;
  if (!hint || !session?.accountId) return false;
  const clientId = typeof hint.aud === 'string' ? hint.aud : undefined;
  if (!clientId || hint.sub !== session.accountId) return false;
  const sid = session.authorizations?.[clientId]?.sid;
  return typeof sid === 'string' && sid !== '' && hint.sid === sid;
}

/** What the logout confirmation's "yes" does (oidc-provider's `end_session_confirm`), without the page. */
export async function endSession(ctx: KoaContextWithOIDC, sessionCookie: CookiesSetOptions): Promise<void> {
  const { provider, session } = ctx.oidc;
  const params = ctx.oidc.params ?? {};
  if (!session) return;
  for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
    const grantId = authorization.grantId;
    // Grants with offline_access outlive the session, as oidc-provider decides at sign-in.
    if (!grantId || session.authorizationFor(clientId).persistsLogout) continue;
    await Promise.all([
      provider.AccessToken.revokeByGrantId(grantId),
      provider.RefreshToken.revokeByGrantId(grantId),
      provider.AuthorizationCode.revokeByGrantId(grantId),
      provider.Grant.adapter.destroy(grantId),
    ]);
    provider.emit('grant.revoked', ctx, grantId);
  }
  await session.destroy();
  ctx.cookies.set(provider.cookieName('session'), null, sessionCookie);
  const postLogout = typeof params.post_logout_redirect_uri === 'string' ? params.post_logout_redirect_uri : undefined;
  let target: string;
  if (postLogout) {
    const url = new URL(postLogout);
    if (typeof params.state === 'string') url.searchParams.set('state', params.state);
    target = url.href;
  } else {
    target = ctx.oidc.urlFor('end_session_success');
  }
  provider.emit('end_session.success', ctx);
  ctx.status = 303;
  ctx.redirect(target);
}
