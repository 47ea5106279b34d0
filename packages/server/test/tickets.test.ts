/**
 * Invitation tickets, the admin side (issue 11), over HTTP against a real server on each
 * database, with a real SMTP server receiving the invitations: ticket types with versions,
 * validation, batches that issue, skip and reissue, one live ticket per key under two
 * concurrent batches, secrets stored only as hashes, the state filters, disabling, the
 * reissue queue; and the service the ticket page calls (`open`, `redeem`, `requestReissue`),
 * with ten concurrent uses of one ticket. Tries to break it: a caller who holds `tickets:write`
 * but not a type's role can neither make nor change such a type nor issue its tickets, and
 * another tenant's type is not there.
 */
import { hash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEmail } from '../src/email/messages.js';
import type { Tenant } from '../src/tenants/service.js';
import { dialects } from './helpers/databases.js';
import { listAll } from './helpers/pagination.js';
import {
  type ApiClient,
  apiClient,
  createApiKey,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { everythingStored } from './helpers/stored.js';

interface Issued {
  foreignKey: string;
  ticketId: string;
  url: string | null;
  result: 'issued' | 'reissued' | 'skipped';
}

const secretOf = (url: string) => url.split('/').at(-1) as string;

describe.each(dialects)('invitation tickets (%s)', (dialect) => {
  let smtp: TestSmtp;
  let ts: TestServer;
  let slug: string;
  let admin: ApiClient;
  let tenant: Tenant;
  let n = 0;

  const base = () => `/api/v1/tenants/${slug}`;

  /** A new ticket type of the tenant (by the tenant admin); its id. */
  async function makeType(body: Record<string, unknown> = {}, api = admin): Promise<string> {
    n += 1;
    const res = await api('POST', `${base()}/ticket-types`, { body: { name: `type ${n}`, ...body } });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }

  async function issue(typeId: string, foreignKeys: string[], onDuplicate?: 'skip' | 'reissue', api = admin) {
    const res = await api('POST', `${base()}/ticket-types/${typeId}/tickets`, {
      body: { foreignKeys, ...(onDuplicate ? { onDuplicate } : {}) },
    });
    expect(res.status, res.text).toBe(200);
    return res.body as { items: Issued[]; issued: number; reissued: number; skipped: number };
  }

  const tickets = (typeId: string, query = '') =>
    listAll<{ id: string; foreignKey: string; state: string; replacedBy: string | null }>(
      admin,
      `${base()}/ticket-types/${typeId}/tickets${query}`,
    );

  /** Moves a ticket's expiry into the past, as time would. */
  const expire = (ticketId: string) =>
    ts.server.ctx.database.db
      .updateTable('tickets')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', '=', ticketId)
      .execute();

  async function userId(email: string): Promise<string> {
    const res = await admin('POST', `${base()}/users`, { body: { email } });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }

  const redeem = (ticketId: string, user: string) =>
    ts.server.ctx.database.db.transaction().execute((trx) => ts.server.ctx.tickets.redeem(trx, tenant, ticketId, user));

  beforeAll(async () => {
    smtp = await startSmtp();
    ts = await startTestServer(dialect, { SMTP_URL: smtp.url, EMAIL_FROM: 'Latchkey <auth@latchkey.test>' });
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    const settings = await admin('PATCH', `/api/v1/tenants/${slug}`, {
      body: { settings: { allowedOrigins: ['https://app.acme.test'] } },
    });
    expect(settings.status, settings.text).toBe(200);
    tenant = (await ts.server.ctx.tenants.findBySlug(slug)) as Tenant;
    const role = await admin('POST', `${base()}/roles`, { body: { name: 'member', permissions: ['users:read'] } });
    expect(role.status, role.text).toBe(201);
  });

  afterAll(async () => {
    await ts?.close();
    await smtp?.stop();
  });

  it('creates, reads, lists, changes (with versions) and deletes ticket types, audited', async () => {
    const created = await admin('POST', `${base()}/ticket-types`, {
      body: {
        name: 'Beta testers',
        description: 'Early access',
        roles: ['member'],
        validityHours: 48,
        postUseUrl: 'https://app.acme.test/welcome',
        welcome: { title: 'Welcome to the beta', agreementRequired: true },
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    const id = created.body.id as string;
    expect(id).toMatch(/^ttp_[0-9a-z]{26}$/);
    expect(created.body).toMatchObject({
      name: 'Beta testers',
      enabled: true,
      allowUserCreation: false,
      validityHours: 48,
      roles: ['member'],
      postUseUrl: 'https://app.acme.test/welcome',
      postInvalidUrl: null,
      welcome: { title: 'Welcome to the beta', body: '', okText: '', agreementRequired: true },
      version: 1,
    });
    const got = await admin('GET', `${base()}/ticket-types/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    const listed = await listAll(admin, `${base()}/ticket-types`);
    expect(listed.map((t) => t.id)).toContain(id);

    const taken = await admin('POST', `${base()}/ticket-types`, { body: { name: 'Beta testers' } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('ticket_type_exists');

    const patched = await admin('PATCH', `${base()}/ticket-types/${id}`, {
      body: { description: 'Changed', roles: [], welcome: { okText: 'Join' } },
      headers: { 'if-match': '"1"' },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.headers.get('etag')).toBe('"2"');
    expect(patched.body).toMatchObject({
      description: 'Changed',
      roles: [],
      welcome: { title: 'Welcome to the beta', okText: 'Join', agreementRequired: true },
      version: 2,
    });
    const stale = await admin('PATCH', `${base()}/ticket-types/${id}`, {
      body: { description: 'Lost update' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('version_mismatch');
    const staleDelete = await admin('DELETE', `${base()}/ticket-types/${id}`, { headers: { 'if-match': '"1"' } });
    expect(staleDelete.status).toBe(412);

    // Deleting the type deletes its tickets.
    await issue(id, ['gone-1', 'gone-2']);
    const deleted = await admin('DELETE', `${base()}/ticket-types/${id}`, { headers: { 'if-match': '"2"' } });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await admin('GET', `${base()}/ticket-types/${id}`)).body.error.code).toBe('ticket_type_not_found');
    const left = await ts.server.ctx.database.db.selectFrom('tickets').select('id').where('type_id', '=', id).execute();
    expect(left).toEqual([]);

    const audit = await listAll<{ action: string; outcome: string; target: { name: string | null } }>(
      admin,
      `${base()}/audit-events?target=${id}`,
    );
    const actions = audit.filter((e) => e.outcome === 'success').map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['ticket_type.create', 'ticket_type.update', 'ticket.issue', 'ticket_type.delete']),
    );
    expect(audit.filter((e) => e.outcome === 'failure').map((e) => e.action)).toContain('ticket_type.update');
  });

  it('refuses invalid types and batches with stable codes', async () => {
    const bad = async (body: unknown, code: string, path = `${base()}/ticket-types`) => {
      const res = await admin('POST', path, { body });
      expect(res.status, `${JSON.stringify(body).slice(0, 80)}: ${res.text.slice(0, 300)}`).toBe(400);
      expect(res.body.error.code).toBe(code);
      return res.body.error;
    };
    await bad({ name: 'x', nickname: 'typo' }, 'validation_failed');
    await bad({ name: '' }, 'validation_failed');
    await bad({ name: 'x', validityHours: 0 }, 'validation_failed');
    await bad({ name: 'x', postUseUrl: 'http://app.acme.test/' }, 'validation_failed');
    await bad({ name: 'x', postUseUrl: 'https://app.acme.test/#frag' }, 'validation_failed');
    const origin = await bad({ name: 'x', postInvalidUrl: 'https://evil.test/sorry' }, 'url_not_allowed');
    expect(origin.details).toEqual({ field: 'postInvalidUrl', origin: 'https://evil.test' });
    expect((await bad({ name: 'x', roles: ['nobody'] }, 'unknown_role')).details).toEqual({ roles: ['nobody'] });
    await bad({ name: 'with\u0000nul' }, 'invalid_text');
    // Latchkey's own pages are allowed, as are the tenant's origins.
    await makeType({ postUseUrl: `${ts.url}/t/${slug}/account`, postInvalidUrl: 'https://app.acme.test/' });

    const typeId = await makeType();
    const tickets = `${base()}/ticket-types/${typeId}/tickets`;
    await bad({ foreignKeys: [] }, 'validation_failed', tickets);
    await bad({ foreignKeys: ['  '] }, 'validation_failed', tickets);
    await bad({ foreignKeys: ['tab\there'] }, 'validation_failed', tickets);
    await bad({ foreignKeys: ['x'.repeat(321)] }, 'validation_failed', tickets);
    await bad({ foreignKeys: ['ok'], onDuplicate: 'replace' }, 'validation_failed', tickets);
    // NUL, which PostgreSQL cannot store, is refused alike on both databases.
    await bad({ foreignKeys: ['ok', 'nul\u0000key'] }, 'invalid_text', tickets);
    const tooMany = await bad(
      { foreignKeys: Array.from({ length: 10_001 }, (_, i) => `k${i}`) },
      'json_too_complex',
      tickets,
    );
    expect(tooMany.details).toMatchObject({ maxMembers: 10_000 });
    await bad({}, 'validation_failed', `${tickets}/disable`);
    await bad({ ids: ['tkt_0'], foreignKeys: ['a'] }, 'validation_failed', `${tickets}/disable`);
    expect((await admin('GET', `${tickets}?state=lost`)).body.error.code).toBe('validation_failed');
    const noType = await admin('POST', `${base()}/ticket-types/ttp_${'0'.repeat(26)}/tickets`, {
      body: { foreignKeys: ['a'] },
    });
    expect(noType.status).toBe(404);
    expect(noType.body.error.code).toBe('ticket_type_not_found');

    // The largest batch passes, keys trimmed and duplicates counted once.
    const keys = Array.from({ length: 10_000 }, (_, i) => `ext-${i % 9_999}`);
    keys[0] = '  ext-0  ';
    const big = await issue(typeId, keys);
    expect(big.items).toHaveLength(9_999);
    expect(big.issued).toBe(9_999);
    expect(big.items[0]?.foreignKey).toBe('ext-0');
  });

  it('issues, skips and reissues, with counts, one item per distinct key', async () => {
    const typeId = await makeType();
    const first = await issue(typeId, ['a', 'b', 'a']);
    expect(first).toMatchObject({ issued: 2, reissued: 0, skipped: 0 });
    expect(first.items.map((i) => i.foreignKey)).toEqual(['a', 'b']);
    for (const item of first.items) {
      expect(item.ticketId).toMatch(/^tkt_[0-9a-z]{26}$/);
      expect(item.url).toMatch(new RegExp(`^${ts.url}/t/${slug}/tickets/[A-Za-z0-9_-]{43}$`));
    }
    const [a, b] = first.items as [Issued, Issued];

    const again = await issue(typeId, ['a', 'b', 'c']);
    expect(again).toMatchObject({ issued: 1, reissued: 0, skipped: 2 });
    expect(again.items[0]).toEqual({ foreignKey: 'a', ticketId: a.ticketId, url: null, result: 'skipped' });
    expect(again.items[2]?.result).toBe('issued');

    const reissued = await issue(typeId, ['a'], 'reissue');
    expect(reissued).toMatchObject({ issued: 0, reissued: 1, skipped: 0 });
    const fresh = reissued.items[0] as Issued;
    expect(fresh.ticketId).not.toBe(a.ticketId);
    const old = await tickets(typeId, '?foreignKey=a');
    expect(old.map((t) => [t.id, t.state, t.replacedBy])).toEqual([
      [fresh.ticketId, 'usable', null],
      [a.ticketId, 'reissued', fresh.ticketId],
    ]);
    expect((await ts.server.ctx.tickets.open(tenant, secretOf(a.url as string))).ok).toBe(false);
    expect((await ts.server.ctx.tickets.open(tenant, secretOf(fresh.url as string))).ok).toBe(true);

    // An expired ticket is replaced even under skip.
    await expire(b.ticketId);
    const renewed = await issue(typeId, ['b']);
    expect(renewed).toMatchObject({ issued: 0, reissued: 1, skipped: 0 });
    expect(await tickets(typeId, '?state=usable')).toHaveLength(3);

    // An email is one key however it is written: one ticket, one invitation.
    const cased = await issue(typeId, ['Ada.Case@Example.test', 'ada.case@example.test ']);
    expect(cased).toMatchObject({ issued: 1, skipped: 0 });
    expect(cased.items.map((i) => i.foreignKey)).toEqual(['ada.case@example.test']);
    expect((await issue(typeId, ['ADA.CASE@EXAMPLE.TEST'])).skipped).toBe(1);
    expect(await tickets(typeId, '?foreignKey=Ada.Case%40example.test')).toHaveLength(1);
  });

  it('issues exactly one live ticket per key when two batches with the same keys run at once', async () => {
    const typeId = await makeType();
    const keys = Array.from({ length: 300 }, (_, i) => `race-${i}`);
    const [one, two] = await Promise.all([issue(typeId, keys), issue(typeId, [...keys].reverse())]);
    expect(one.issued + two.issued).toBe(300);
    expect(one.skipped + two.skipped).toBe(300);
    for (const key of keys) {
      const results = [one, two].map((r) => r.items.find((i) => i.foreignKey === key));
      expect(results.filter((i) => i?.result === 'issued')).toHaveLength(1);
      // The skipping batch names the ticket the other issued.
      expect(results[0]?.ticketId).toBe(results[1]?.ticketId);
    }
    // Two reissuing batches at once: still one live ticket per key.
    await Promise.all([issue(typeId, keys, 'reissue'), issue(typeId, [...keys].reverse(), 'reissue')]);
    const usable = await tickets(typeId, '?state=usable');
    expect(usable).toHaveLength(300);
    expect(new Set(usable.map((t) => t.foreignKey)).size).toBe(300);
  });

  it('stores only the SHA-256 of each secret, and never lists one', async () => {
    const typeId = await makeType();
    const { items } = await issue(typeId, ['hashed@example.test', 'hashed-ext']);
    const secrets = items.map((i) => secretOf(i.url as string));
    const stored = await everythingStored(ts);
    expect(stored.rows).toContain('hashed-ext');
    for (const secret of secrets) {
      expect(stored.rows).not.toContain(secret);
      expect(stored.rows).toContain(hash('sha256', secret, 'hex'));
      expect(stored.files).not.toContain(secret);
    }
    const listed = await admin('GET', `${base()}/ticket-types/${typeId}/tickets`);
    for (const secret of secrets) expect(listed.text).not.toContain(secret);
  });

  it('filters by state and foreign key, disables in batch, and answers the reissue queue', async () => {
    const typeId = await makeType({ roles: ['member'] });
    const { items } = await issue(typeId, ['s-usable', 's-used', 's-expired', 's-asked', 's-off', 's-off2']);
    const id = (key: string) => items.find((i) => i.foreignKey === key) as Issued;
    const user = await userId('state-user@example.test');
    expect(await redeem(id('s-used').ticketId, user)).toBe(true);
    await expire(id('s-expired').ticketId);
    await expire(id('s-asked').ticketId);
    expect(await ts.server.ctx.tickets.requestReissue(tenant, secretOf(id('s-asked').url as string))).toEqual({
      ok: true,
      alreadyRequested: false,
    });
    const disable = (body: unknown) => admin('POST', `${base()}/ticket-types/${typeId}/tickets/disable`, { body });
    const byId = await disable({ ids: [id('s-off').ticketId, id('s-used').ticketId] });
    expect(byId.status, byId.text).toBe(200);
    expect(byId.body).toEqual({ disabled: 1 });
    expect((await disable({ foreignKeys: ['s-off2', 'nobody'] })).body).toEqual({ disabled: 1 });
    expect((await disable({ foreignKeys: ['s-off2'] })).body).toEqual({ disabled: 0 });

    const byState = async (state: string) => (await tickets(typeId, `?state=${state}`)).map((t) => t.foreignKey).sort();
    expect(await byState('usable')).toEqual(['s-usable']);
    expect(await byState('used')).toEqual(['s-used']);
    expect(await byState('expired')).toEqual(['s-expired']);
    expect(await byState('reissue_requested')).toEqual(['s-asked']);
    expect(await byState('disabled')).toEqual(['s-off', 's-off2']);
    expect(await byState('reissued')).toEqual([]);
    const used = await tickets(typeId, '?foreignKey=s-used');
    expect(used).toEqual([expect.objectContaining({ state: 'used', usedBy: user, usedAt: expect.any(String) })]);
    // A disabled key may be issued afresh.
    expect((await issue(typeId, ['s-off'])).issued).toBe(1);

    // The queue, across types; answered with a new ticket, shown once.
    const queue = await admin('GET', `${base()}/ticket-reissue-requests`);
    expect(queue.status, queue.text).toBe(200);
    expect(queue.body.items.map((t: { foreignKey: string }) => t.foreignKey)).toEqual(['s-asked']);
    expect(queue.body.items[0]).toMatchObject({ typeId, state: 'reissue_requested' });
    const answer = `${base()}/ticket-types/${typeId}/tickets/${id('s-asked').ticketId}/reissue`;
    const answered = await admin('POST', answer);
    expect(answered.status, answered.text).toBe(200);
    expect(answered.body).toMatchObject({ foreignKey: 's-asked', result: 'reissued' });
    expect(answered.body.url).toMatch(/\/tickets\/[A-Za-z0-9_-]{43}$/);
    expect((await admin('GET', `${base()}/ticket-reissue-requests`)).body.items).toEqual([]);
    expect(await byState('reissued')).toEqual(['s-asked']);
    const twice = await admin('POST', answer);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('ticket_not_live');
  });

  it('sends an email key the invitation through the outbox, with its link and welcome title', async () => {
    const typeId = await makeType({ welcome: { title: 'Join the Acme beta' }, validityHours: 72 });
    const email = `Invitee-${dialect}@Example.test`;
    const { items } = await issue(typeId, [email, `not-an-email-${dialect}`]);
    const url = items[0]?.url as string;
    const until = Date.now() + 15_000;
    const mine = () => smtp.received.filter((m) => m.to.includes(email.toLowerCase()));
    while (mine().length === 0) {
      if (Date.now() > until) throw new Error('no invitation arrived');
      await new Promise((r) => setTimeout(r, 25));
    }
    const message = mine()[0];
    expect(message?.subject).toBe(`You are invited to Tenant ${slug}`);
    expect(message?.text).toContain('Join the Acme beta');
    expect(message?.text).toContain(url);
    expect(message?.text).toContain('3 days');
    expect(message?.html).toContain(url);
    const listed = await tickets(typeId, `?foreignKey=${encodeURIComponent(email)}`);
    expect(listed[0]).toMatchObject({ email: email.toLowerCase(), foreignKey: email.toLowerCase() });
    const emails = await admin('GET', `${base()}/emails?template=invitation&to=${encodeURIComponent(email)}`);
    expect(emails.body.items).toHaveLength(1);
    expect(emails.text).not.toContain(secretOf(url));
    expect(smtp.received.some((m) => m.to.includes(`not-an-email-${dialect}`))).toBe(false);
    const german = renderEmail(tenant, 'invitation', 'x@example.test', {
      link: url,
      minutes: 72 * 60,
      detail: 'Willkommen',
      locale: 'de',
    });
    expect(german.subject).toBe(`Einladung zu Tenant ${slug}`);
    expect(german.text).toContain('innerhalb von 3 Tagen');
    expect(german.html).toContain('Einladung annehmen');
  });

  it('refuses issuing from a disabled type (409)', async () => {
    const typeId = await makeType({ enabled: false, roles: ['member'] });
    const res = await admin('POST', `${base()}/ticket-types/${typeId}/tickets`, { body: { foreignKeys: ['a'] } });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ticket_type_disabled');
  });

  it('lets nobody hand out a role they do not hold through a ticket type (403)', async () => {
    const role = await admin('POST', `${base()}/roles`, {
      body: { name: 'inviter', permissions: ['tickets:read', 'tickets:write'] },
    });
    expect(role.status, role.text).toBe(201);
    const inviter = apiClient(ts.url, await createApiKey(admin, slug, ['inviter']));
    const forbidden = async (res: { status: number; body: { error: { code: string } }; text: string }) => {
      expect(res.status, res.text).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    };
    await forbidden(await inviter('POST', `${base()}/ticket-types`, { body: { name: 'sneaky', roles: ['member'] } }));
    const granting = await makeType({ roles: ['member'] });
    await forbidden(
      await inviter('POST', `${base()}/ticket-types/${granting}/tickets`, { body: { foreignKeys: ['me'] } }),
    );
    const plain = await makeType({}, inviter);
    await forbidden(await inviter('PATCH', `${base()}/ticket-types/${plain}`, { body: { roles: ['member'] } }));
    const off = await makeType({ roles: ['member'], enabled: false });
    await forbidden(await inviter('PATCH', `${base()}/ticket-types/${off}`, { body: { enabled: true } }));
    const { items } = await issue(granting, ['queued-one']);
    await forbidden(await inviter('POST', `${base()}/ticket-types/${granting}/tickets/${items[0]?.ticketId}/reissue`));
    // What it holds it may hand out; nothing was issued or changed by the refusals.
    expect((await issue(plain, ['fine'], undefined, inviter)).issued).toBe(1);
    expect(await tickets(granting)).toHaveLength(1);
    expect((await admin('GET', `${base()}/ticket-types/${plain}`)).body.roles).toEqual([]);
  });

  it("does not show another tenant's ticket types or tickets (404)", async () => {
    const typeId = await makeType();
    const { items } = await issue(typeId, ['mine']);
    const other = await tenantWithAdmin(ts);
    const there = `/api/v1/tenants/${other.slug}/ticket-types/${typeId}`;
    for (const [method, path, body] of [
      ['GET', there, undefined],
      ['PATCH', there, { name: 'taken over' }],
      ['DELETE', there, undefined],
      ['GET', `${there}/tickets`, undefined],
      ['POST', `${there}/tickets`, { foreignKeys: ['x'] }],
      ['POST', `${there}/tickets/disable`, { ids: [items[0]?.ticketId] }],
      ['POST', `${there}/tickets/${items[0]?.ticketId}/reissue`, undefined],
    ] as const) {
      const res = await other.api(method, path, { body });
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(404);
      expect(res.body.error.code).toBe('ticket_type_not_found');
    }
    // Its own slug with the other tenant's credential: no such tenant for it.
    const res = await other.api('GET', `${base()}/ticket-types/${typeId}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('tenant_not_found');
    const otherTenant = (await ts.server.ctx.tenants.findBySlug(other.slug)) as Tenant;
    expect(await ts.server.ctx.tickets.open(otherTenant, secretOf(items[0]?.url as string))).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect((await tickets(typeId)).map((t) => t.state)).toEqual(['usable']);
  });

  it('opens a ticket for the page, or says why not', async () => {
    const typeId = await makeType({ roles: ['member'], welcome: { title: 'Hi' } });
    const { items } = await issue(typeId, ['o-ok', 'o-used', 'o-off', 'o-old', 'o-replaced']);
    const item = (key: string) => items.find((i) => i.foreignKey === key) as Issued;
    const secret = (key: string) => secretOf(item(key).url as string);
    const open = (s: string) => ts.server.ctx.tickets.open(tenant, s);

    const ok = await open(secret('o-ok'));
    expect(ok).toMatchObject({ ok: true, ticket: { id: item('o-ok').ticketId, state: 'usable' } });
    expect(ok.ok && ok.type).toMatchObject({ id: typeId, roles: ['member'], welcome: { title: 'Hi' } });

    expect(await redeem(item('o-used').ticketId, await userId('o-used@example.test'))).toBe(true);
    await admin('POST', `${base()}/ticket-types/${typeId}/tickets/disable`, { body: { foreignKeys: ['o-off'] } });
    await expire(item('o-old').ticketId);
    await issue(typeId, ['o-replaced'], 'reissue');
    expect(await open(secret('o-used'))).toMatchObject({ ok: false, reason: 'used' });
    expect(await open(secret('o-off'))).toMatchObject({ ok: false, reason: 'disabled' });
    expect(await open(secret('o-old'))).toMatchObject({ ok: false, reason: 'expired', reissueRequested: false });
    expect(await open(secret('o-replaced'))).toMatchObject({ ok: false, reason: 'reissued' });
    const tampered = `${secret('o-ok').slice(0, -1)}${secret('o-ok').endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [tampered, 'short', '', `${secret('o-ok')}x`]) {
      expect(await open(bad)).toEqual({ ok: false, reason: 'invalid' });
    }

    // The expired one asks for a new invitation, once; the others cannot.
    const ask = (key: string) => ts.server.ctx.tickets.requestReissue(tenant, secret(key));
    expect(await ask('o-old')).toEqual({ ok: true, alreadyRequested: false });
    expect(await ask('o-old')).toEqual({ ok: true, alreadyRequested: true });
    expect(await open(secret('o-old'))).toMatchObject({ ok: false, reason: 'expired', reissueRequested: true });
    expect(await ask('o-ok')).toEqual({ ok: false, reason: 'usable' });
    expect(await ask('o-used')).toEqual({ ok: false, reason: 'used' });
    const requests = await listAll(admin, `${base()}/audit-events?action=ticket.reissue.request&target=${typeId}`);
    expect(requests).toHaveLength(1);

    // A disabled type's tickets open as disabled.
    await admin('PATCH', `${base()}/ticket-types/${typeId}`, { body: { enabled: false } });
    expect(await open(secret('o-ok'))).toMatchObject({ ok: false, reason: 'disabled' });
  });

  it('redeems a ticket exactly once among ten concurrent uses, and grants its roles', async () => {
    const typeId = await makeType({ roles: ['member'] });
    const { items } = await issue(typeId, ['race@example.test']);
    const ticketId = items[0]?.ticketId as string;
    const users = await Promise.all(Array.from({ length: 10 }, (_, i) => userId(`racer-${i}@example.test`)));
    const wins = await Promise.all(users.map((u) => redeem(ticketId, u)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = users[wins.indexOf(true)] as string;
    const rolesOf = async (u: string) => (await admin('GET', `${base()}/users/${u}`)).body.roles as string[];
    expect(await rolesOf(winner)).toEqual(['member']);
    for (const u of users.filter((x) => x !== winner)) expect(await rolesOf(u)).toEqual([]);
    expect(await tickets(typeId)).toEqual([expect.objectContaining({ state: 'used', usedBy: winner })]);
    expect(await redeem(ticketId, winner)).toBe(false);
    const events = await listAll<{ action: string; target: { id: string } }>(
      admin,
      `${base()}/audit-events?target=${winner}`,
    );
    expect(events.map((e) => e.action)).toContain('user.role.grant');

    // Expired, another tenant's user, or a ticket of another tenant: nothing.
    const [late, foreign] = (await issue(typeId, ['late', 'foreign'])).items as [Issued, Issued];
    await expire(late.ticketId);
    expect(await redeem(late.ticketId, winner)).toBe(false);
    const other = await tenantWithAdmin(ts);
    const stranger = await other.api('POST', `/api/v1/tenants/${other.slug}/users`, {
      body: { email: 'stranger@example.test' },
    });
    expect(await redeem(foreign.ticketId, stranger.body.id)).toBe(false);
    const otherTenant = (await ts.server.ctx.tenants.findBySlug(other.slug)) as Tenant;
    const crossed = await ts.server.ctx.database.db
      .transaction()
      .execute((trx) => ts.server.ctx.tickets.redeem(trx, otherTenant, foreign.ticketId, stranger.body.id));
    expect(crossed).toBe(false);
    expect((await tickets(typeId, '?state=usable')).map((t) => t.foreignKey)).toEqual(['foreign']);
  });

  it('issues a batch of 1,000 email keys (the time is printed, not asserted)', async () => {
    const typeId = await makeType({ welcome: { title: 'Welcome aboard' } });
    const keys = Array.from({ length: 1000 }, (_, i) => `bulk-${dialect}-${i}@example.test`);
    const started = performance.now();
    const res = await issue(typeId, keys);
    const ms = performance.now() - started;
    expect(res.issued).toBe(1000);
    console.log(`[tickets ${dialect}] 1,000 email tickets answered in ${ms.toFixed(0)} ms`);
    const queued = await ts.server.ctx.database.db
      .selectFrom('emails')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('template', '=', 'invitation')
      .where('to_address', 'like', `bulk-${dialect}-%`)
      .executeTakeFirstOrThrow();
    expect(Number(queued.n)).toBe(1000);
  });
});
