/**
 * Links from the embedded outbox (no SMTP_URL): what a system admin reads in
 * `GET …/emails`, whole while nothing is sent. For tests that follow a message's link without
 * a mail server.
 */
import type { ApiClient } from './server.js';

/** The newest `/account/{page}?token=…` link sent to `to` in the tenant (waits up to 5 s). */
export async function linkFromOutbox(
  systemAdmin: ApiClient,
  slug: string,
  to: string,
  page: 'verify' | 'reset',
): Promise<string> {
  const until = Date.now() + 5000;
  for (;;) {
    const res = await systemAdmin('GET', `/api/v1/tenants/${slug}/emails?to=${encodeURIComponent(to)}`);
    for (const item of (res.body?.items ?? []) as { content?: { text: string } }[]) {
      const link = new RegExp(`https?://\\S+/account/${page}\\?token=[A-Za-z0-9_-]+`).exec(
        item.content?.text ?? '',
      )?.[0];
      if (link) return link;
    }
    if (Date.now() > until) throw new Error(`no ${page} link to ${to}: ${res.text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
