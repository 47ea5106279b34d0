import type { ConsoleConfig } from './auth/scope';

/** `/admin/config.json`: where the server is (`publicUrl`) and its admin API (`adminApi`). */
export async function loadConsoleConfig(fetchImpl: typeof fetch = fetch): Promise<ConsoleConfig> {
  const res = await fetchImpl(`${import.meta.env.BASE_URL}config.json`, {
    cache: 'no-store',
    headers: { accept: 'application/json' },
  });
  if (!res.ok) throw new Error(`config.json answered ${res.status}`);
  const body = (await res.json()) as Partial<ConsoleConfig>;
  if (typeof body.publicUrl !== 'string' || typeof body.adminApi !== 'string') {
    throw new Error('config.json lacks publicUrl or adminApi');
  }
  return { publicUrl: body.publicUrl.replace(/\/+$/, ''), adminApi: body.adminApi.replace(/\/+$/, '') };
}

/**
 * Where the console must move to, if anywhere: sign-in, its redirect back and the session it
 * keeps all live at the server's public URL, so a console opened under another origin
 * (http://127.0.0.1:3000 for a server whose PUBLIC_URL says localhost) could not sign in. The
 * browser's own address is what counts, so a reverse proxy in front changes nothing.
 */
export function publicOriginMove(config: ConsoleConfig, location: Pick<Location, 'href'>): string | undefined {
  const here = new URL(location.href);
  const home = new URL(config.publicUrl).origin;
  return here.origin === home ? undefined : `${home}${here.pathname}${here.search}${here.hash}`;
}
