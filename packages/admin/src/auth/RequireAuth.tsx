import { Button, Text } from '@mantine/core';
import { type ReactNode, useEffect, useState } from 'react';
import { useLocation } from 'react-router';
import { useAuth } from './AuthProvider';
import { FullPageMessage } from './FullPageMessage';

/**
 * Renders its children for a signed-in admin. Anyone else is sent to the sign-in page and
 * brought back to the same deep link afterwards; after a sign-out, a page says so instead.
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { state, client } = useAuth();
  const location = useLocation();
  const [error, setError] = useState<string | null>(null);
  const returnTo = `${location.pathname}${location.search}${location.hash}`;

  useEffect(() => {
    if (state.status !== 'anonymous') return;
    client.signIn(returnTo).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, [state.status, client, returnTo]);

  if (state.status === 'signed-in') return children;
  if (error) {
    return (
      <FullPageMessage title="Cannot reach the sign-in service">
        <Text c="dimmed">{error}</Text>
        <Button onClick={() => window.location.reload()}>Try again</Button>
      </FullPageMessage>
    );
  }
  if (state.status === 'signed-out') {
    return (
      <FullPageMessage title="You have signed out">
        <Text c="dimmed">Your Latchkey admin session has ended.</Text>
        <Button onClick={() => void client.signIn(returnTo)}>Sign in again</Button>
      </FullPageMessage>
    );
  }
  return <FullPageMessage title="Signing you in…" loading />;
}
