/**
 * Unauthenticated traffic does not grow the database without bound (issue 9, item 6): the
 * purge job (every PURGE_INTERVAL_SECONDS) deletes audit events older than
 * AUDIT_RETENTION_DAYS and keeps the newer ones, along with expired interactions; one `/auth`
 * writes one row (its interaction), and a failed sign-in's audit row holds no more than it must.
 * @see issue 9
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { purgeStaleRegistrations } from '../src/accounts/verification.js';
import { actorOf } from '../src/audit/service.js';
import { Browser } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authUrl } from './helpers/oidc.js';
import { startTestServer, type TestServer, tenantWithAdmin } from './helpers/server.js';

const day = 86_400_000;
const redirectUri = 'http://127.0.0.1:9/callback';

describe.each(dialects)('retention of audit events and interactions (%s)', (dialect) => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer(dialect, { AUDIT_RETENTION_DAYS: '30', PURGE_INTERVAL_SECONDS: '10' });
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('purges self-registrations never verified, a week on and with no live link, and nothing else', async () => {
    const t = await tenantWithAdmin(ts);
    const tenant = await ts.server.ctx.tenants.findBySlug(t.slug);
    if (!tenant) throw new Error('no tenant');
    const db = ts.server.ctx.database.db;
    const actor = actorOf({ ip: '127.0.0.1', id: 'retention' } as never);
    const register = async (email: string) => {
      await ts.server.ctx.verifications.register(
        tenant,
        { email, displayName: null, password: 'a fine password 1' },
        actor,
      );
      return (
        await db
          .selectFrom('users')
          .selectAll()
          .where('tenant_id', '=', tenant.id)
          .where('email', '=', email)
          .executeTakeFirstOrThrow()
      ).id;
    };
    const stale = await register(`stale-${dialect}@example.test`);
    const waiting = await register(`waiting-${dialect}@example.test`);
    const recent = await register(`recent-${dialect}@example.test`);
    const active = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email: `old-${dialect}@example.test` },
    });
    expect(active.status).toBe(201);
    const old = Date.now() - 8 * day;
    await db
      .updateTable('users')
      .set({ created_at: old })
      .where('id', 'in', [stale, waiting, active.body.id])
      .execute();
    await db
      .updateTable('user_links')
      .set({ expires_at: Date.now() - 1000 })
      .where('user_id', 'in', [stale, recent])
      .execute();
    // The same address registered again keeps its account: a new link (here, `waiting`'s is live).
    expect(await purgeStaleRegistrations(db)).toBe(1);
    const left = await db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).execute();
    const ids = left.map((r) => r.id);
    expect(ids).not.toContain(stale);
    expect(ids).toEqual(expect.arrayContaining([waiting, recent, active.body.id]));
  });

  it('purges audit events past the retention, in batches, and keeps the newer ones', async () => {
    const t = await tenantWithAdmin(ts);
    const tenantId = (await t.api('GET', `/api/v1/tenants/${t.slug}`)).body.id as string;
    const db = ts.server.ctx.database.db;
    const now = Date.now();
    const row = (id: string, occurredAt: number) => ({
      id,
      tenant_id: tenantId,
      occurred_at: occurredAt,
      actor_type: 'system',
      actor_id: null,
      action: 'test.retention',
      target_type: null,
      target_id: null,
      ip: null,
      outcome: 'failure' as const,
      request_id: null,
      details: null,
    });
    // More old rows than one purge statement deletes (5,000).
    for (let batch = 0; batch < 6; batch++) {
      await db
        .insertInto('audit_events')
        .values(Array.from({ length: 1000 }, (_, i) => row(`evt_old${batch}x${i}`, now - 31 * day - batch * 1000 - i)))
        .execute();
    }
    await db
      .insertInto('audit_events')
      .values([row('evt_recent', now - 29 * day), row('evt_now', now)])
      .execute();

    await vi.waitFor(
      async () => {
        const left = await db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('tenant_id', '=', tenantId)
          .where('action', '=', 'test.retention')
          .executeTakeFirstOrThrow();
        expect(Number(left.n)).toBe(2);
      },
      { timeout: 25_000, interval: 500 },
    );
    const listed = await t.api('GET', `/api/v1/tenants/${t.slug}/audit-events?action=test.retention`);
    expect(listed.status).toBe(200);
    expect((listed.body.items as { id: string }[]).map((e) => e.id)).toEqual(['evt_now', 'evt_recent']);
    // The tenant's own events of today (tenant.update, api key creation…) are kept.
    const own = await t.api('GET', `/api/v1/tenants/${t.slug}/audit-events?action=api_key.create`);
    expect(own.body.items.length).toBeGreaterThan(0);
  });

  it('writes one row per /auth, purges it once expired, and keeps failed sign-in rows small', async () => {
    const t = await tenantWithAdmin(ts);
    const tenantId = (await t.api('GET', `/api/v1/tenants/${t.slug}`)).body.id as string;
    const client = await t.api('POST', `/api/v1/tenants/${t.slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri] },
    });
    expect(client.status, client.text).toBe(201);
    const email = `user-${randomBytes(3).toString('hex')}@example.test`;
    const user = await t.api('POST', `/api/v1/tenants/${t.slug}/users`, {
      body: { email, password: 'correct horse battery staple' },
    });
    expect(user.status).toBe(201);
    const db = ts.server.ctx.database.db;
    const rows = () =>
      db.selectFrom('oidc_payloads').select(['model', 'id', 'expires_at']).where('tenant_id', '=', tenantId).execute();

    // One /auth, followed to the sign-in page: one interaction, nothing else (no session yet).
    const browser = new Browser();
    const page = await browser.go(authUrl(ts.url, t.slug, client.body.clientId as string, redirectUri));
    expect(page.status).toBe(200);
    const written = await rows();
    expect(written.map((r) => r.model)).toEqual(['Interaction']);
    expect(Number(written[0]?.expires_at)).toBeLessThanOrEqual(Date.now() + 3600_000);

    // Failed sign-ins: a known account's row names it as its target, with the reason only.
    await browser.submit(page, { email, password: 'not the password' });
    const unknown = `nobody-${randomBytes(3).toString('hex')}@example.test`;
    await browser.submit(page, { email: unknown, password: 'not the password' });
    const events = await t.api('GET', `/api/v1/tenants/${t.slug}/audit-events?action=login.password&outcome=failure`);
    const [second, first] = events.body.items as { target: unknown; details: unknown }[];
    expect(first).toMatchObject({ target: { type: 'user', id: user.body.id }, details: { reason: 'wrong_password' } });
    expect(first?.details).toEqual({ reason: 'wrong_password' });
    expect(second).toMatchObject({ target: null, details: { reason: 'unknown_user', email: unknown } });

    // Expired, the interaction goes with the next purge.
    await db
      .updateTable('oidc_payloads')
      .set({ expires_at: Date.now() - 1000 })
      .where('tenant_id', '=', tenantId)
      .where('model', '=', 'Interaction')
      .execute();
    await vi.waitFor(async () => expect(await rows()).toEqual([]), { timeout: 25_000, interval: 500 });
  });
});
