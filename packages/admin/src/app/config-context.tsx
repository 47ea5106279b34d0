import { createContext, useContext } from 'react';
import type { ConsoleConfig } from '../auth/scope';

export const ConfigContext = createContext<ConsoleConfig | null>(null);

/** `/admin/config.json`: the server's public URL and its admin API. */
export function useConsoleConfig(): ConsoleConfig {
  const config = useContext(ConfigContext);
  if (!config) throw new Error('useConsoleConfig() outside <App>');
  return config;
}
