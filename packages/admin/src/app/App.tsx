import { MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { ApiProvider } from '../api/ApiProvider';
import { ApiClient, ApiError } from '../api/client';
import type { AuthClient } from '../auth/AuthClient';
import { AuthProvider } from '../auth/AuthProvider';
import { CONSOLE_BASE, type ConsoleConfig } from '../auth/scope';
import { ConfigContext } from './config-context';
import { buildRoutes } from './routes';
import { theme } from './theme';

export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        // A 4xx will not get better by asking again.
        retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
      },
    },
  });
}

export function App({ config, auth }: { config: ConsoleConfig; auth: AuthClient }) {
  const [queryClient] = useState(createQueryClient);
  const [api] = useState(() => new ApiClient({ baseUrl: config.adminApi, getAccessToken: auth.getAccessToken }));
  const [router] = useState(() => createBrowserRouter(buildRoutes(auth.scope), { basename: CONSOLE_BASE }));
  return (
    <ConfigContext.Provider value={config}>
      <MantineProvider theme={theme} defaultColorScheme="light">
        <Notifications position="bottom-right" />
        <QueryClientProvider client={queryClient}>
          <AuthProvider client={auth}>
            <ApiProvider client={api}>
              <RouterProvider router={router} />
            </ApiProvider>
          </AuthProvider>
        </QueryClientProvider>
      </MantineProvider>
    </ConfigContext.Provider>
  );
}
