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
