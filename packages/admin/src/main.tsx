import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import { MantineProvider } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { theme } from './app/theme';
import { AuthClient } from './auth/AuthClient';
import { FullPageMessage } from './auth/FullPageMessage';
import { OidcClient } from './auth/oidc';
import {
  CLIENT_ID,
  CONSOLE_BASE,
  issuerUrl,
  postLogoutRedirectUri,
  redirectUri,
  SCOPE,
  scopeFromPathname,
} from './auth/scope';
import { AuthStorage } from './auth/storage';
import { loadConsoleConfig, publicOriginMove } from './config';

const root = createRoot(document.getElementById('root') as HTMLElement);

async function start() {
  // `/admin/t/system/...` is the system console under another name.
  const systemAlias = window.location.pathname.match(/^\/admin\/t\/system(\/.*)?$/);
  if (systemAlias) {
    window.location.replace(`${CONSOLE_BASE}${systemAlias[1] ?? '/'}${window.location.search}`);
    return;
  }
  const scope = scopeFromPathname(window.location.pathname);
  const config = await loadConsoleConfig();
  const move = publicOriginMove(config, window.location);
  if (move) {
    window.location.replace(move);
    return;
  }
  const oidc = new OidcClient({
    issuer: issuerUrl(config, scope),
    clientId: CLIENT_ID,
    redirectUri: redirectUri(config, scope),
    postLogoutRedirectUri: postLogoutRedirectUri(config, scope),
    resource: config.adminApi,
    scope: SCOPE,
  });
  const auth = new AuthClient(scope, oidc, new AuthStorage(window.sessionStorage, scope.authTenant));
  root.render(
    <StrictMode>
      <App config={config} auth={auth} />
    </StrictMode>,
  );
}

start().catch((err: unknown) => {
  root.render(
    <MantineProvider theme={theme}>
      <FullPageMessage title="The console could not start">
        {`${err instanceof Error ? err.message : String(err)}. Is the Latchkey server running? Reload to try again.`}
      </FullPageMessage>
    </MantineProvider>,
  );
});
