import { Button, Code, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { useAuthClient } from './AuthProvider';
import { FullPageMessage } from './FullPageMessage';
import { homePath } from './scope';

/** The redirect URI (`/admin/callback`, `/admin/t/{slug}/callback`): redeems the code, then goes back. */
export default function CallbackScreen() {
  const client = useAuthClient();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    client
      .completeSignIn(window.location.href)
      .then((returnTo) => {
        if (!cancelled) void navigate(returnTo, { replace: true });
      })
      .catch((err: unknown) => {
        if (!cancelled) setError(describe(err));
      });
    return () => {
      cancelled = true;
    };
  }, [client, navigate]);

  if (error) {
    return (
      <FullPageMessage title="Sign-in did not complete">
        <Text c="dimmed">The console could not finish signing you in.</Text>
        <Code block ta="left" w="100%" style={{ whiteSpace: 'pre-wrap' }}>
          {error}
        </Code>
        <Button onClick={() => void client.signIn(homePath(client.scope))}>Sign in again</Button>
      </FullPageMessage>
    );
  }
  return <FullPageMessage title="Signing you in…" loading />;
}

function describe(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { error?: unknown; error_description?: unknown; message?: unknown };
    if (typeof e.error === 'string') {
      return typeof e.error_description === 'string' ? `${e.error}: ${e.error_description}` : e.error;
    }
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}
