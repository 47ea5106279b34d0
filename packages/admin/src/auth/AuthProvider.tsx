import { createContext, type ReactNode, useContext, useEffect, useSyncExternalStore } from 'react';
import type { AuthClient, AuthState } from './AuthClient';

const AuthContext = createContext<AuthClient | null>(null);

export function AuthProvider({ client, children }: { client: AuthClient; children: ReactNode }) {
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') client.wake();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [client]);
  return <AuthContext.Provider value={client}>{children}</AuthContext.Provider>;
}

export function useAuthClient(): AuthClient {
  const client = useContext(AuthContext);
  if (!client) throw new Error('useAuthClient() outside <AuthProvider>');
  return client;
}

/** The sign-in state; re-renders when it changes. */
export function useAuth(): { state: AuthState; client: AuthClient } {
  const client = useAuthClient();
  const state = useSyncExternalStore(client.subscribe, client.getState);
  return { state, client };
}

/** The signed-in admin (only under <RequireAuth>). */
export function useCurrentUser() {
  const { state } = useAuth();
  if (state.status !== 'signed-in') throw new Error('useCurrentUser() while not signed in');
  return state.session.user;
}
