/**
 * The console's sign-in state, outside React: the current session, quiet refresh before expiry,
 * single-flight refresh for concurrent API calls, sign-in and sign-out redirects.
 * React reads it through `useAuth()` (AuthProvider.tsx).
 */
import { type OidcClient, SignInRequiredError } from './oidc';
import { type ConsoleScope, routerPathOf, safeReturnTo } from './scope';
import type { AuthStorage, StoredSession } from './storage';

export type AuthState =
  | { status: 'signed-in'; session: StoredSession }
  /** No session: the console sends the admin to sign in. */
  | { status: 'anonymous' }
  /** Signed out on purpose: the console says so and offers to sign in again. */
  | { status: 'signed-out' }
  /** On the way to the sign-in page. */
  | { status: 'redirecting' };

/**
 * When to refresh an access token that lives `expiresIn` seconds and expires at `expiresAt`:
 * a minute before expiry, or at three quarters of a short lifetime, never sooner than 5 s from now.
 */
export function refreshDelay(expiresAt: number, expiresIn: number, now: number): number {
  const margin = Math.min(60_000, expiresIn * 250);
  return Math.max(5_000, expiresAt - margin - now);
}

/** Whether a token must be refreshed before use (expired, or about to). */
export function needsRefresh(session: StoredSession, now: number): boolean {
  return session.expiresAt - now < 10_000;
}

export interface AuthEnvironment {
  now(): number;
  /** Sends the browser elsewhere (the sign-in page, the end-session endpoint). */
  navigate(url: string): void;
  /** The current location, to come back to after signing in again. */
  location(): { pathname: string; search: string; hash: string };
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserEnvironment: AuthEnvironment = {
  now: () => Date.now(),
  navigate: (url) => window.location.assign(url),
  location: () => window.location,
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (handle) => window.clearTimeout(handle as number),
};

export class AuthClient {
  private state: AuthState;
  private readonly listeners = new Set<() => void>();
  private timer: unknown = null;
  private refreshing: Promise<StoredSession> | null = null;
  private completing: { key: string; promise: Promise<string> } | null = null;

  constructor(
    readonly scope: ConsoleScope,
    private readonly oidc: OidcClient,
    private readonly storage: AuthStorage,
    private readonly env: AuthEnvironment = browserEnvironment,
  ) {
    const session = storage.readSession();
    if (session) this.state = { status: 'signed-in', session };
    else this.state = storage.isSignedOut() ? { status: 'signed-out' } : { status: 'anonymous' };
    if (session) this.schedule(session);
  }

  getState = (): AuthState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(state: AuthState) {
    this.state = state;
    for (const l of this.listeners) l();
  }

  private schedule(session: StoredSession) {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
    if (!session.refreshToken) return;
    const delay = refreshDelay(session.expiresAt, session.expiresIn, this.env.now());
    this.timer = this.env.setTimeout(() => {
      this.timer = null;
      this.refresh().catch(() => {
        // refresh() already sent the admin to sign in when that was the problem; a network
        // failure is retried on the next API call.
      });
    }, delay);
  }

  private accept(session: StoredSession) {
    this.storage.writeSession(session);
    this.storage.clearSignedOut();
    this.set({ status: 'signed-in', session });
    this.schedule(session);
  }

  /** Sends the browser to the sign-in page; it comes back to `returnTo` (a router path). */
  async signIn(returnTo?: string): Promise<void> {
    const target = safeReturnTo(returnTo ?? routerPathOf(this.env.location()), this.scope);
    this.set({ status: 'redirecting' });
    const { url, pending } = await this.oidc.startSignIn(target, this.env.now());
    this.storage.writePending(pending);
    this.storage.clearSignedOut();
    this.env.navigate(url.href);
  }

  /**
   * Finishes a sign-in at the callback URL and answers the router path to go back to.
   * Runs once per callback URL (React may mount the callback screen twice; a code is single-use).
   */
  completeSignIn(callbackUrl: string): Promise<string> {
    if (this.completing?.key === callbackUrl) return this.completing.promise;
    const promise = (async () => {
      const pending = this.storage.takePending(this.env.now());
      if (!pending) throw new Error('This sign-in link has expired or was already used. Please sign in again.');
      const session = await this.oidc.completeSignIn(new URL(callbackUrl), pending, this.env.now());
      this.accept(session);
      return safeReturnTo(pending.returnTo, this.scope);
    })();
    this.completing = { key: callbackUrl, promise };
    return promise;
  }

  /** Refreshes now (single flight); on a dead refresh token, clears the session and signs in again. */
  refresh(): Promise<StoredSession> {
    if (this.refreshing) return this.refreshing;
    const current = this.state.status === 'signed-in' ? this.state.session : this.storage.readSession();
    if (!current) return Promise.reject(new SignInRequiredError('Not signed in'));
    this.refreshing = this.oidc
      .refresh(current, this.env.now())
      .then((session) => {
        this.accept(session);
        return session;
      })
      .catch(async (err) => {
        if (err instanceof SignInRequiredError) {
          this.storage.clearSession();
          await this.signIn();
        }
        throw err;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /** A usable access token: refreshed first when it is about to expire, or when `force`d (after a 401). */
  getAccessToken = async (options: { force?: boolean } = {}): Promise<string> => {
    const state = this.state;
    if (state.status !== 'signed-in') throw new SignInRequiredError('Not signed in');
    if (options.force || needsRefresh(state.session, this.env.now())) return (await this.refresh()).accessToken;
    return state.session.accessToken;
  };

  /** Call when the tab becomes visible again: timers may have been throttled meanwhile. */
  wake(): void {
    if (this.state.status === 'signed-in' && needsRefresh(this.state.session, this.env.now() + 60_000)) {
      this.refresh().catch(() => {});
    }
  }

  /** Ends the session at the server (RP-initiated logout), then forgets it here. */
  async signOut(): Promise<void> {
    const session = this.state.status === 'signed-in' ? this.state.session : null;
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
    let endSession: URL | null = null;
    try {
      endSession = await this.oidc.endSessionUrl(session?.idToken ?? null);
    } catch {
      endSession = null;
    }
    this.storage.clearSession();
    this.storage.markSignedOut();
    this.set({ status: 'signed-out' });
    if (endSession) this.env.navigate(endSession.href);
  }
}
