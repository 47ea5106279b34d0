/**
 * Attacks on the account page (/t/{slug}/account), the ticket page (/t/{slug}/tickets/{secret})
 * and the forgot-password form's deferred work, through a running server on each database with
 * the HTTP browser of the tests. Each asserts that an attack fails; those named `[found]` were
 * weaknesses a review found and that were then fixed (a pending email change surviving the
 * owner's recovery, a password change racing a reset, one client starving the forgot-password
 * queue, an invitation for one address accepted by another account, ticket registration
 * without the address limit or telling taken addresses apart, encoded secrets in logs).
 *
 * The server trusts one proxy hop (TRUST_PROXY_HOPS=1), so that each test speaks from its own
 * client address (X-Forwarded-For) and per-address limits of one test do not spill into another.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { pkce } from './helpers/oidc.js';
import {
  apiClient,
  captureLog,
  createApiKey,
  createTenant,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';
import { startSmtp, type TestSmtp } from './helpers/smtp.js';
import { ticketMaker } from './helpers/tickets.js';

const PASSWORD = 'attack page password 1';
const APP = 'https://app.example.test';
const APP2 = 'https://other-app.example.test';
const FORM = 'application/x-www-form-urlencoded';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe.each(dialects)('account and ticket pages under attack (%s)', (dialect) => {
  let smtp: TestSmtp;
  let ts: TestServer;
  let slug: string;
  let admin: Awaited<ReturnType<typeof tenantWithAdmin>>['api'];
  const log = captureLog();
  let n = 0;
  let ip = 0;
  /** Every ticket secret issued here: none may reach the logs. */
  const secrets: string[] = [];

  const nextIp = () => `198.51.${100 + Math.floor(++ip / 250)}.${(ip % 250) + 1}`;
  /** A browser of its own client address. */
  const browser = () => new Browser({ 'x-forwarded-for': nextIp() });
  const accountUrl = (s = slug) => `${ts.url}/t/${s}/account`;
  const callbackUrl = (s = slug) => `${accountUrl(s)}/callback`;

  async function user(options: { password?: string; email?: string; api?: typeof admin; tenant?: string } = {}) {
    const email = options.email ?? `attack-${dialect}-${++n}@example.test`;
    const res = await (options.api ?? admin)('POST', `/api/v1/tenants/${options.tenant ?? slug}/users`, {
      body: { email, password: options.password ?? PASSWORD, emailVerified: true, displayName: 'Ada' },
    });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, email };
  }
  const isAccountPage = (p: Page) => p.status === 200 && p.html.includes('<h1>Your account</h1>');
  const isSignIn = (p: Page) =>
    p.url.pathname.includes('/interaction/') && p.html.includes('autocomplete="current-password"');
  /** Opens the account page in `b`, signing in on the tenant's sign-in form when asked. */
  async function open(b: Browser, email: string, password = PASSWORD, s = slug): Promise<Page> {
    const first = await b.go(accountUrl(s));
    if (!first.html.includes('name="password"') || first.url.pathname.endsWith('/account')) return first;
    return b.submit(first, { email, password });
  }
  const csrfOf = (p: Page) => /name="csrf" value="([^"]+)"/.exec(p.html)?.[1] as string;
  const cookieOf = (b: Browser, url: string) => b.jar.header(new URL(url));
  const post = (url: string, cookie: string, fields: Record<string, string> | string, headers = {}) =>
    fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': FORM, 'x-forwarded-for': nextIp(), ...headers },
      body: typeof fields === 'string' ? fields : new URLSearchParams(fields).toString(),
    });

  /**
   * An authorization code of `clientId` (the account page's built-in client by default) for
   * `email`, from a request made by hand (our own state and PKCE verifier), caught before
   * the account page's callback redeems it.
   */
  async function handMadeCode(b: Browser, email: string, clientId = 'account', s = slug) {
    const state = randomBytes(16).toString('base64url');
    const { verifier, challenge } = pkce();
    const params = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: callbackUrl(s),
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const stopAt = (u: URL) => u.href.startsWith(callbackUrl(s));
    let page = await b.go(`${ts.url}/t/${s}/auth?${params}`, { stopAt });
    if (!stopAt(page.url)) page = await b.submit(page, { email, password: PASSWORD }, { stopAt });
    expect(stopAt(page.url), `${page.url} ${page.html.slice(0, 300)}`).toBe(true);
    return { callback: page.url, state, verifier };
  }

  const tickets = ticketMaker(() => ({ admin, slug }), { roles: ['members'], postUseUrl: `${APP}/welcome` });
  const makeType = tickets.makeType;
  async function issue(typeId: string, key: string) {
    const item = await tickets.issue(typeId, key);
    secrets.push(item.url.split('/').at(-1) as string);
    return item;
  }
  const rolesOf = async (email: string) => {
    const users = await admin('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(email)}`);
    const u = users.body.items.find((x: { email: string }) => x.email === email);
    return u ? (u.roles as string[]) : undefined;
  };
  const ticketState = async (typeId: string, ticketId: string) => {
    const res = await admin('GET', `/api/v1/tenants/${slug}/ticket-types/${typeId}/tickets?limit=200`);
    return (res.body.items.find((t: { id: string }) => t.id === ticketId) as { state: string }).state;
  };
  /** Opens the link and agrees: the choice page. */
  async function agree(b: Browser, url: string): Promise<Page> {
    const welcome = await b.go(url);
    expect(welcome.status, welcome.html.slice(0, 300)).toBe(200);
    return b.submit(welcome, { agree: 'yes' });
  }

  beforeAll(async () => {
    smtp = await startSmtp();
    ts = await startTestServer(
      dialect,
      {
        SMTP_URL: smtp.url,
        EMAIL_FROM: 'Latchkey <auth@latchkey.test>',
        TRUST_PROXY_HOPS: '1',
        LOG_LEVEL: 'info',
      },
      undefined,
      { logDestination: log },
    );
    ({ slug, api: admin } = await tenantWithAdmin(ts));
    expect(
      (await admin('POST', `/api/v1/tenants/${slug}/roles`, { body: { name: 'members', permissions: [] } })).status,
    ).toBe(201);
    const patched = await admin('PATCH', `/api/v1/tenants/${slug}`, {
      body: { settings: { allowedOrigins: [APP, APP2], selfRegistration: false } },
    });
    expect(patched.status, patched.text).toBe(200);
  });

  afterAll(async () => {
    await ts?.close();
    await smtp?.stop();
  });

  // ---------------------------------------------------------------- the account page's sign-in

  it('[regression] login CSRF: the attacker’s code and state, in the victim’s browser, sign nobody in', async () => {
    const mallory = await user();
    const attacker = browser();
    const form = await attacker.go(accountUrl());
    const atCallback = (u: URL) => u.pathname.endsWith('/account/callback');
    const caught = await attacker.submit(form, { email: mallory.email, password: PASSWORD }, { stopAt: atCallback });
    const code = caught.url.searchParams.get('code') as string;
    expect(code).toBeTruthy();

    // The victim's browser has a sign-in of its own under way (its own state and verifier).
    const victim = browser();
    const started = await fetch(accountUrl(), { redirect: 'manual' });
    victim.jar.store(started);
    const victimState = new URL(started.headers.get('location') as string, ts.url).searchParams.get('state') as string;
    // The attacker's link as it is, and with the victim's own state put in.
    for (const href of [caught.url.href, `${callbackUrl()}?code=${encodeURIComponent(code)}&state=${victimState}`]) {
      const res = await fetch(href, { headers: { cookie: cookieOf(victim, href) }, redirect: 'manual' });
      expect(res.status, href).toBe(400);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('lk_account=') && !c.startsWith('lk_account=;'))).toBe(
        false,
      );
    }
    expect(isSignIn(await victim.go(accountUrl()))).toBe(true);
    // The attacker's own browser still finishes its sign-in: the failed tries burnt nothing of it.
    expect(isAccountPage(await attacker.go(caught.url))).toBe(true);
  });

  it('[regression] a code of another tenant, or of another application of this tenant, is refused at the callback', async () => {
    const other = await createTenant(ts.api);
    const otherApi = apiClient(ts.url, await createApiKey(ts.api, other, ['tenant:admin']));
    const there = await user({ api: otherApi, tenant: other });
    const foreign = await handMadeCode(browser(), there.email, 'account', other);
    // This tenant's own start cookie, with the foreign code and its true verifier and state.
    const cookie = `lk_account_start=${foreign.state}.${foreign.verifier}.${b64(`/t/${slug}/account`)}`;
    const res = await fetch(
      `${callbackUrl()}?code=${foreign.callback.searchParams.get('code')}&state=${foreign.state}`,
      { headers: { cookie }, redirect: 'manual' },
    );
    expect(res.status).toBe(400);

    // An application of this tenant that registered the account page's callback as its own.
    const app = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'spa', name: 'Look-alike', redirectUris: [callbackUrl()], firstParty: true, scopes: ['openid'] },
    });
    expect(app.status, app.text).toBe(201);
    const u = await user();
    const lookAlike = await handMadeCode(browser(), u.email, app.body.clientId as string);
    const res2 = await fetch(lookAlike.callback, {
      headers: { cookie: `lk_account_start=${lookAlike.state}.${lookAlike.verifier}.${b64(`/t/${slug}/account`)}` },
      redirect: 'manual',
    });
    expect(res2.status).toBe(400);
    expect(res2.headers.getSetCookie().join()).not.toMatch(/lk_account=[^;]/);
  });

  it('[regression] the way back after the sign-in never leaves this tenant’s pages (no open redirect)', async () => {
    const u = await user();
    const b = browser();
    const home = `/t/${slug}/account`;
    const tries: [string, string][] = [
      ['//evil.example/x', home],
      ['https://evil.example/', home],
      ['/\\evil.example', home],
      [`/t/${slug}/account/../../x/account`, home],
      [`/t/${slug}/account@evil.example`, home],
      [`/t/${slug}/account//evil.example`, home],
      [`/t/${slug}/account?x=%0d%0aSet-Cookie:a=b`, home],
      [`/t/${slug}/account?x=%0d%0a`, `/t/${slug}/account?x=%0d%0a`],
      [`/t/${slug}-other/account`, home],
      ['/t/system/account', home],
      [`/t/${slug}/account?done=profile`, `/t/${slug}/account?done=profile`],
    ];
    for (const [back, expected] of tries) {
      const c = await handMadeCode(b, u.email);
      const res = await fetch(c.callback, {
        headers: { cookie: `lk_account_start=${c.state}.${c.verifier}.${b64(back)}` },
        redirect: 'manual',
      });
      expect(res.status, back).toBe(303);
      expect(res.headers.get('location'), back).toBe(expected);
      expect(res.headers.getSetCookie().join(), back).not.toMatch(/^a=b/m);
    }
  });

  it('[regression] odd callback input and malformed cookies get a 4xx (or the sign-in), never a 500', async () => {
    const started = await fetch(accountUrl(), { redirect: 'manual' });
    const start = started.headers
      .getSetCookie()
      .find((c) => c.startsWith('lk_account_start='))
      ?.split(';')[0] as string;
    const state = new URL(started.headers.get('location') as string, ts.url).searchParams.get('state') as string;
    const queries = [
      `code=a&code=b&state=${state}`,
      `code=x&state=${state}&state=${state}`,
      `code=${'x'.repeat(6000)}&state=${state}`,
      `code=__proto__&state=${state}`,
      `code=constructor&state=${state}`,
      `code=%F0%9F%98%80&state=${state}`,
      `code=%00&state=${state}`,
      `code=%ED%A0%80&state=${state}`,
      `code=a.b.c&state=${state}`,
      `code=&state=${state}`,
      `state=${state}`,
      'error=access_denied',
      'error=a&error=b',
      '',
    ];
    for (const q of queries) {
      const res = await fetch(`${callbackUrl()}?${q}`, { headers: { cookie: start }, redirect: 'manual' });
      expect(res.status, q.slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(res.status, q.slice(0, 60)).toBeLessThan(500);
    }
    const cookies = [
      'lk_account_start=',
      'lk_account_start=...',
      'lk_account_start=a.b',
      `lk_account_start=${state}.v.${b64('/x')}.extra`,
      'lk_account_start=%ZZ',
      `lk_account_start=${state}.%00.%00`,
      `lk_account_start=${'a'.repeat(3000)}`,
    ];
    for (const cookie of cookies) {
      const res = await fetch(`${callbackUrl()}?code=x&state=${state}`, { headers: { cookie }, redirect: 'manual' });
      expect(res.status, cookie.slice(0, 60)).toBe(400);
    }
    const pageCookies = [
      'lk_account=a.b.99999999999999.c',
      'lk_account=a.b.1e10.c',
      'lk_account=%00.%00.1.%00',
      'lk_account=....',
      `lk_account=usr_x.${'u'.repeat(4000)}.9999999999.x`,
      'lk_account=%ZZ',
      'lk_form=%00; lk_account=x',
    ];
    for (const cookie of pageCookies) {
      const res = await fetch(accountUrl(), { headers: { cookie }, redirect: 'manual' });
      expect(res.status, cookie.slice(0, 60)).toBe(303);
      expect(res.headers.get('location')).toContain(`/t/${slug}/auth?`);
    }
    const locales = [
      'ui_locales=a&ui_locales=b',
      `ui_locales=${'de '.repeat(3000)}`,
      'ui_locales=%00',
      'done=a&done=b',
    ];
    for (const q of locales) {
      const res = await fetch(`${accountUrl()}?${q}`, { redirect: 'manual' });
      expect(res.status, q.slice(0, 60)).toBeLessThan(500);
    }
  });

  // --------------------------------------------------------------- the account page's forms

  it('[regression] the account forms refuse NUL, long values, duplicated fields, big and JSON bodies with a 4xx', async () => {
    const u = await user();
    const b = browser();
    const page = await open(b, u.email);
    expect(isAccountPage(page)).toBe(true);
    const csrf = csrfOf(page);
    const cookie = cookieOf(b, `${accountUrl()}/profile`);
    const cases: [string, string | Record<string, string>, number][] = [
      ['profile', { csrf, name: 'Mallory\u0000' }, 400],
      ['profile', { csrf, name: 'x'.repeat(5000) }, 400],
      ['profile', `csrf=${encodeURIComponent(csrf)}&csrf=forged&name=Mallory`, 400],
      ['profile', `csrf=${encodeURIComponent(csrf)}&name=%ED%A0%80`, 303],
      ['profile', `csrf=${encodeURIComponent(csrf)}&name=${'y'.repeat(20_000)}`, 413],
      ['email', { csrf, email: `${'a'.repeat(10_000)}@example.test`, password: PASSWORD }, 400],
      ['email', { csrf, email: `${'\ufdfa'.repeat(200)}@example.test`, password: PASSWORD }, 400],
      ['email', { csrf, email: 'x@example.test', password: 'p'.repeat(5000) }, 400],
      ['password', { csrf, current: 'c'.repeat(5000), password: 'n'.repeat(5000), confirm: 'n'.repeat(5000) }, 400],
      [
        'password',
        { csrf, current: PASSWORD, password: '\u0000\u0000\u0000\u0000', confirm: '\u0000\u0000\u0000\u0000' },
        400,
      ],
      ['delete', { csrf, password: PASSWORD, confirm: 'yes' }, 404],
    ];
    for (const [path, body, status] of cases) {
      const res = await post(`${accountUrl()}/${path}`, cookie, body);
      expect(res.status, `${path} ${String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 80)}`).toBe(
        status,
      );
    }
    const json = await fetch(`${accountUrl()}/profile`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ csrf, name: ['Mallory'] }),
    });
    expect(json.status).toBe(415);
    const after = await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`);
    // The one change accepted: invalid UTF-8 read as replacement characters, as browsers do.
    expect(after.body.displayName).toBe('\ufffd\ufffd\ufffd');
    expect(after.body.email).toBe(u.email);
    // The password is unchanged.
    expect(isAccountPage(await open(browser(), u.email))).toBe(true);
  });

  // ------------------------------------------------------------ ended sessions stay ended

  it('[regression] a session ended by "sign out everywhere else" and saved back by a request under way stays ended', async () => {
    const u = await user();
    const here = browser();
    const there = browser();
    expect(isAccountPage(await open(here, u.email))).toBe(true);
    expect(isAccountPage(await open(there, u.email))).toBe(true);
    const thereCookie = cookieOf(there, accountUrl());
    const thereUid = /lk_account=[^.]+\.([^.]+)\./.exec(thereCookie)?.[1] as string;
    const db = ts.server.ctx.database.db;
    const saved = await db
      .selectFrom('oidc_payloads')
      .selectAll()
      .where('model', '=', 'Session')
      .where('uid', '=', thereUid)
      .executeTakeFirstOrThrow();
    const page = await there.go(accountUrl());
    const thereCsrf = csrfOf(page);
    // Sign-in times are in seconds: the end must come in a later second than the sign-in.
    await sleep(1100);
    const done = await here.submit(await here.go(accountUrl()), {}, { action: '/account/sessions' });
    expect(done.html).toContain('Every other session is signed out.');
    // A request of the other browser, under way meanwhile, saves its session back.
    await db.insertInto('oidc_payloads').values(saved).execute();
    // Neither the account page nor the provider counts it.
    expect(isSignIn(await there.go(accountUrl()))).toBe(true);
    // Nor may it make itself the one kept.
    const res = await post(`${accountUrl()}/sessions`, thereCookie, { csrf: thereCsrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/auth?');
    const row = await db.selectFrom('users').select('sessions_kept_uid').where('id', '=', u.id).executeTakeFirst();
    expect(row?.sessions_kept_uid).not.toBe(thereUid);
    expect(isAccountPage(await here.go(accountUrl()))).toBe(true);
  });

  it('[found] a password change whose current password was checked before an admin reset it does not win over that reset', async () => {
    const u = await user();
    const attacker = browser();
    const page = await open(attacker, u.email);
    expect(isAccountPage(page)).toBe(true);
    const ATTACKER = 'the attacker keeps it 7';
    const RESCUE = 'the rescue password 9';
    const hasher = ts.server.ctx.hasher as unknown as { hash: (p: string, w: unknown) => Promise<string> };
    const original = hasher.hash;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let reached: () => void = () => {};
    const atHash = new Promise<void>((r) => {
      reached = r;
    });
    // The attacker's new password waits its turn at argon2id (a busy queue makes it seconds).
    hasher.hash = async function (this: unknown, password: string, who: unknown) {
      if (password === ATTACKER) {
        reached();
        await gate;
      }
      return original.call(this, password, who);
    };
    let location: string | null = null;
    try {
      const changing = post(`${accountUrl()}/password`, cookieOf(attacker, `${accountUrl()}/password`), {
        csrf: csrfOf(page),
        current: PASSWORD,
        password: ATTACKER,
        confirm: ATTACKER,
      });
      await atHash;
      // Meanwhile the owner's admin resets the password (which ends every session).
      const set = await admin('POST', `/api/v1/tenants/${slug}/users/${u.id}/password`, { body: { password: RESCUE } });
      expect(set.status, set.text).toBe(204);
      release();
      location = (await changing).headers.get('location');
    } finally {
      hasher.hash = original;
      release();
    }
    // Safe: the reset stands; the attacker's change, checked against the old password, is refused.
    const attackerSignsIn = isAccountPage(await open(browser(), u.email, ATTACKER));
    const rescueSignsIn = isAccountPage(await open(browser(), u.email, RESCUE));
    expect({ attackerSignsIn, rescueSignsIn, location: location ?? '' }).toEqual({
      attackerSignsIn: false,
      rescueSignsIn: true,
      location: expect.not.stringContaining('done=password'),
    });
  });

  it('[found] an email change asked for before the owner reset the password cannot be confirmed after it', async () => {
    const u = await user();
    const attacker = browser();
    const page = await open(attacker, u.email);
    // The attacker (who had the password and a session) asks to move the account to their address.
    const theirs = `taker-${dialect}-${n}@evil.example`;
    const asked = await attacker.submit(page, { email: theirs, password: PASSWORD }, { action: '/account/email' });
    expect(asked.html).toContain('We sent a link to the new address');
    const change = /https?:\/\/\S+\/account\/verify\?token=[A-Za-z0-9_-]{43}/.exec(
      (await smtp.messageTo(theirs, 1)).text,
    )?.[0] as string;
    expect(change).toBeTruthy();
    // The owner notices and recovers the account with "Forgot password?": every session and
    // every other reset link of theirs end.
    const owner = browser();
    const forgot = await owner.go(`${accountUrl()}/forgot`);
    await owner.submit(forgot, { email: u.email });
    const reset = /https?:\/\/\S+\/account\/reset\?token=[A-Za-z0-9_-]{43}/.exec(
      (await smtp.messageTo(u.email, 1)).text,
    )?.[0] as string;
    const form = await owner.go(reset);
    const done = await owner.submit(form, { password: 'recovered password 3', confirm: 'recovered password 3' });
    expect(done.url.searchParams.get('done')).toBe('1');
    expect(isSignIn(await attacker.go(accountUrl()))).toBe(true);
    // Safe: the attacker's pending change went with the rest, and the address stays the owner's.
    const confirm = await attacker.go(change);
    if (confirm.status === 200 && confirm.html.includes('<form')) await attacker.submit(confirm, {});
    const after = await admin('GET', `/api/v1/tenants/${slug}/users/${u.id}`);
    expect(after.body.email).toBe(u.email);
  });

  // ------------------------------------------------------------------------ the ticket page

  it('[regression] a ticket is used once: accepted twice, accepted and registered at once, and a used one registers nobody', async () => {
    const typeId = await makeType({ allowUserCreation: true });
    const { url, ticketId } = await issue(typeId, `ext-${dialect}-${++n}`);
    const u = await user();
    const accepting = browser();
    await open(accepting, u.email);
    const choice = await agree(accepting, url);
    expect(choice.html).toContain(`Accept as ${u.email}`);
    const registering = browser();
    const form = await agree(registering, url);
    const newcomer = `newcomer-${dialect}-${n}@example.test`;
    const [accepted, registered] = await Promise.all([
      post(`${url}/accept`, cookieOf(accepting, `${url}/accept`), { csrf: csrfOf(choice) }),
      post(`${url}/register`, cookieOf(registering, `${url}/register`), {
        csrf: csrfOf(form),
        email: newcomer,
        password: PASSWORD,
      }),
    ]);
    const wins = [accepted, registered].filter((r) => r.status === 303 && r.headers.get('location')?.startsWith(APP));
    expect(wins, `${accepted.status} ${registered.status}`).toHaveLength(1);
    const newcomerRoles = await rolesOf(newcomer);
    const userRoles = await rolesOf(u.email);
    if (accepted.status === 303) {
      expect(userRoles).toEqual(['members']);
      expect(newcomerRoles).toBeUndefined(); // no account without the ticket's use
    } else {
      expect(userRoles).toEqual([]);
      expect(newcomerRoles).toEqual(['members']);
    }
    expect(await ticketState(typeId, ticketId)).toBe('used');
    const again = await post(`${url}/accept`, cookieOf(accepting, `${url}/accept`), { csrf: csrfOf(choice) });
    expect(again.status).toBe(410);
    const late = `late-${dialect}-${n}@example.test`;
    const lateReg = await post(`${url}/register`, cookieOf(registering, `${url}/register`), {
      csrf: csrfOf(form),
      email: late,
      password: PASSWORD,
    });
    expect(lateReg.status).toBe(410);
    expect(await rolesOf(late)).toBeUndefined();
  });

  it('[regression] a disabled user, or another tenant’s account cookie, cannot accept a ticket', async () => {
    const typeId = await makeType();
    const { url, ticketId } = await issue(typeId, `ext-${dialect}-${++n}`);
    const u = await user();
    const b = browser();
    await open(b, u.email);
    const choice = await agree(b, url);
    expect(choice.html).toContain(`Accept as ${u.email}`);
    const cookie = cookieOf(b, `${url}/accept`);
    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}/users/${u.id}`, { body: { status: 'disabled' } })).status,
    ).toBe(200);
    const refused = await post(`${url}/accept`, cookie, { csrf: csrfOf(choice) });
    expect(refused.status).toBe(303);
    expect(refused.headers.get('location')).toBe(`/t/${slug}/tickets/${url.split('/').at(-1)}/accept`);
    expect(await ticketState(typeId, ticketId)).toBe('usable');
    expect(await rolesOf(u.email)).toEqual([]);

    // Another tenant's account cookie (valid there), sent here by hand.
    const other = await createTenant(ts.api);
    const otherApi = apiClient(ts.url, await createApiKey(ts.api, other, ['tenant:admin']));
    const v = await user({ api: otherApi, tenant: other });
    const vb = browser();
    expect(isAccountPage(await open(vb, v.email, PASSWORD, other))).toBe(true);
    const foreign = /lk_account=([^;]+)/.exec(cookieOf(vb, accountUrl(other)))?.[1] as string;
    const mine = browser();
    const mineChoice = await agree(mine, url);
    const withForeign = `${cookieOf(mine, `${url}/accept`)}; lk_account=${foreign}`;
    const page = await fetch(`${url}/accept`, { headers: { cookie: withForeign } });
    expect(await page.text()).not.toContain(v.email);
    const res = await post(`${url}/accept`, withForeign, { csrf: csrfOf(mineChoice) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/accept');
    expect(await ticketState(typeId, ticketId)).toBe('usable');
  });

  it('[regression] CSRF and the agreement guard every step; another ticket’s agreement does not count', async () => {
    const typeId = await makeType({ allowUserCreation: true, welcome: { agreementRequired: true } });
    const first = await issue(typeId, `ext-${dialect}-${++n}`);
    const second = await issue(typeId, `ext-${dialect}-${++n}`);
    const u = await user();
    const b = browser();
    await open(b, u.email);
    const choice = await agree(b, first.url);
    const csrf = csrfOf(choice);
    // No token, a token of another browser, or another tenant's form token.
    const stranger = browser();
    const strangerPage = await stranger.go(first.url);
    for (const token of ['', 'x', csrfOf(strangerPage)]) {
      const res = await post(`${first.url}/accept`, cookieOf(b, `${first.url}/accept`), { csrf: token });
      expect(res.status, token).toBe(400);
      const reg = await post(`${first.url}/register`, cookieOf(b, `${first.url}/register`), {
        csrf: token,
        email: `csrf-${dialect}-${n}@example.test`,
        password: PASSWORD,
      });
      expect(reg.status, token).toBe(400);
    }
    expect(await rolesOf(`csrf-${dialect}-${n}@example.test`)).toBeUndefined();
    // The first ticket's agreement on the second ticket: back to its welcome.
    const res = await post(`${second.url}/accept`, cookieOf(b, `${second.url}/accept`), { csrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/t/${slug}/tickets/${second.url.split('/').at(-1)}`);
    // A welcome without the box ticked sets no agreement.
    const welcome = await b.go(second.url);
    const unticked = await post(second.url, cookieOf(b, second.url), { csrf: csrfOf(welcome), agree: 'no' });
    expect(unticked.status).toBe(400);
    expect(unticked.headers.getSetCookie().join()).not.toContain('lk_ticket=');
    expect(await ticketState(typeId, first.ticketId)).toBe('usable');
    expect(await ticketState(typeId, second.ticketId)).toBe('usable');
    expect(await rolesOf(u.email)).toEqual([]);
  });

  it('[regression] postUseUrl is checked again when used: an origin the tenant no longer allows is not followed', async () => {
    const typeId = await makeType({ postUseUrl: `${APP2}/done` });
    const { url } = await issue(typeId, `ext-${dialect}-${++n}`);
    const u = await user();
    const b = browser();
    await open(b, u.email);
    const choice = await agree(b, url);
    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { allowedOrigins: [APP] } } })).status,
    ).toBe(200);
    try {
      const res = await post(`${url}/accept`, cookieOf(b, `${url}/accept`), { csrf: csrfOf(choice) });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/t/${slug}/account?done=ticket`);
    } finally {
      await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { allowedOrigins: [APP, APP2] } } });
    }
  });

  it('[regression] odd input on the ticket page: NUL, long values, duplicated fields, big and JSON bodies get a 4xx and make no account', async () => {
    const typeId = await makeType({ allowUserCreation: true });
    const { url, ticketId } = await issue(typeId, `ext-${dialect}-${++n}`);
    const b = browser();
    const choice = await agree(b, url);
    const csrf = csrfOf(choice);
    const cookie = cookieOf(b, `${url}/register`);
    const email = `odd-${dialect}-${n}@example.test`;
    const cases: [string | Record<string, string>, number][] = [
      [{ csrf, email, name: 'Eve\u0000', password: PASSWORD }, 400],
      [{ csrf, email: `${email}\u0000`, password: PASSWORD }, 400],
      [{ csrf, email, password: `${PASSWORD}\u0000` }, 400],
      [{ csrf, email, name: 'n'.repeat(300), password: PASSWORD }, 400],
      [{ csrf, email: `${'e'.repeat(5000)}@example.test`, password: PASSWORD }, 400],
      [{ csrf, email: `${'\ufdfa'.repeat(100)}@example.test`, password: PASSWORD }, 400],
      [{ csrf, email, password: 'p'.repeat(5000) }, 400],
      [{ csrf, email, password: '' }, 400],
      [{ csrf, email }, 400],
      [`csrf=${encodeURIComponent(csrf)}&email=${encodeURIComponent(email)}&password=x&password=`, 400],
      [`csrf=${encodeURIComponent(csrf)}&email=${encodeURIComponent(email)}&password=${'p'.repeat(20_000)}`, 413],
    ];
    for (const [body, status] of cases) {
      const res = await post(`${url}/register`, cookie, body);
      expect(res.status, JSON.stringify(body).slice(0, 100)).toBe(status);
    }
    const json = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ csrf, email: [email], password: PASSWORD }),
    });
    expect(json.status).toBe(415);
    const secret = url.split('/').at(-1) as string;
    for (const path of [
      `${secret}%00`,
      `${secret.slice(0, 42)}%00`,
      `${secret.slice(0, 42)}%C3%A9`,
      'x'.repeat(500),
      '..%2F..%2Faccount',
      '%ED%A0%80',
    ]) {
      const res = await fetch(`${ts.url}/t/${slug}/tickets/${path}`);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      const accepted = await post(`${ts.url}/t/${slug}/tickets/${path}/accept`, cookie, { csrf });
      expect(accepted.status, path).toBeLessThan(500);
    }
    expect(await rolesOf(email)).toBeUndefined();
    expect(await ticketState(typeId, ticketId)).toBe('usable');
  });

  it('[found] an invitation sent to an address cannot be accepted by an account with another address', async () => {
    const typeId = await makeType();
    const alice = `alice-${dialect}-${++n}@example.test`;
    const { url, ticketId } = await issue(typeId, alice);
    // Bob got the link forwarded (or read it over Alice's shoulder) and has an account of his own.
    const bob = await user();
    const b = browser();
    await open(b, bob.email);
    const choice = await agree(b, url);
    const res = await post(`${url}/accept`, cookieOf(b, `${url}/accept`), { csrf: csrfOf(choice) });
    // Safe: refused (the registration form fixes this address; the sign-in suggests it); Bob holds nothing more.
    expect(res.headers.get('location') ?? '').not.toContain(APP);
    expect(await rolesOf(bob.email)).toEqual([]);
    expect(await ticketState(typeId, ticketId)).toBe('usable');
  });

  it('[found] registering with a ticket that names no address does not tell whether an address has an account', async () => {
    const typeId = await makeType({ allowUserCreation: true });
    const { url } = await issue(typeId, `ext-${dialect}-${++n}`);
    const existing = await user();
    const b = browser();
    const choice = await agree(b, url);
    const res = await post(`${url}/register`, cookieOf(b, `${url}/register`), {
      csrf: csrfOf(choice),
      email: existing.email,
      password: 'some other password 5',
    });
    const html = await res.text();
    // Safe: the same answer as the sign-in page's registration gives (issue 9), not "this address has an account".
    expect(res.status).not.toBe(409);
    expect(html).not.toContain('An account with this email address exists already');
  });

  it('[found] registering with a ticket counts against the per-address registration limit (each try costs a password hash)', async () => {
    const typeId = await makeType({ allowUserCreation: true });
    const { url } = await issue(typeId, `ext-${dialect}-${++n}`);
    const existing = await user();
    const address = nextIp();
    const b = new Browser({ 'x-forwarded-for': address });
    const choice = await agree(b, url);
    const statuses: number[] = [];
    // REGISTRATION_LIMIT is 10 an hour per address by default.
    for (let i = 0; i < 12; i++) {
      const res = await post(
        `${url}/register`,
        cookieOf(b, `${url}/register`),
        { csrf: csrfOf(choice), email: existing.email, password: `guess number ${i} here` },
        { 'x-forwarded-for': address },
      );
      statuses.push(res.status);
    }
    expect(statuses).toContain(429);
  });

  // ------------------------------------------------------------------- forgot password

  it('[regression] the forgot-password form answers alike for known, unknown and disabled addresses; odd input is a 4xx', async () => {
    const known = await user();
    const disabled = await user();
    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}/users/${disabled.id}`, { body: { status: 'disabled' } })).status,
    ).toBe(200);
    const forgot = `${accountUrl()}/forgot`;
    const answers: string[] = [];
    for (const email of [known.email, `nobody-${dialect}-${n}@example.test`, disabled.email]) {
      const b = browser();
      const page = await b.go(forgot);
      const res = await post(forgot, cookieOf(b, forgot), { csrf: csrfOf(page), email });
      answers.push(
        JSON.stringify([res.status, res.headers.get('location'), res.headers.getSetCookie().length, await res.text()]),
      );
    }
    expect(new Set(answers).size).toBe(1);
    const b = browser();
    const page = await b.go(forgot);
    const csrf = csrfOf(page);
    const cookie = cookieOf(b, forgot);
    const cases: [string | Record<string, string>, number][] = [
      [{ csrf, email: `${known.email}\u0000` }, 400],
      [{ csrf, email: `${'a'.repeat(300)}@example.test` }, 400],
      [{ csrf, email: '' }, 400],
      [{ csrf }, 400],
      [`csrf=${encodeURIComponent(csrf)}&email=${'e'.repeat(20_000)}`, 413],
      [{ csrf: 'forged', email: known.email }, 400],
    ];
    for (const [body, status] of cases) {
      const res = await post(forgot, cookie, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
    }
    const link = /https?:\/\/\S+\/account\/reset\?token=([A-Za-z0-9_-]{43})/.exec(
      (await smtp.messageTo(known.email, 1)).text,
    );
    expect(link?.[1]).toBeTruthy();
    // The link went to the known address only, and is nowhere in the logs.
    expect(log.text().includes(link?.[1] as string)).toBe(false);
    await sleep(2200);
    expect(smtp.received.filter((m) => m.to.includes(disabled.email))).toHaveLength(0);
    const failed = log.lines.filter((l) => l.includes('failed after its answer'));
    expect(failed.join('\n').slice(0, 2000)).toBe('');
  });

  it('[found] one client flooding the forgot-password form does not stop another user’s reset link', async () => {
    const victim = await user();
    const forgot = `${accountUrl()}/forgot`;
    const attackerIp = nextIp();
    const a = new Browser({ 'x-forwarded-for': attackerIp });
    const page = await a.go(forgot);
    const csrf = csrfOf(page);
    const cookie = cookieOf(a, forgot);
    let sent = 0;
    const flood = async (until: number) => {
      while (Date.now() < until) {
        sent++;
        await post(
          forgot,
          cookie,
          { csrf, email: `flood-${sent}-${randomBytes(4).toString('hex')}@example.test` },
          {
            'x-forwarded-for': attackerIp,
          },
        );
      }
    };
    const until = Date.now() + 4000;
    const flooding = Promise.all(Array.from({ length: 24 }, () => flood(until)));
    await sleep(1500);
    // The victim, from an address of their own, asks for a link in the middle of the flood.
    const v = browser();
    const vPage = await v.go(forgot);
    const asked = await post(forgot, cookieOf(v, forgot), { csrf: csrfOf(vPage), email: victim.email });
    expect(asked.status).toBe(303);
    await flooding;
    expect(sent).toBeGreaterThan(100);
    // Safe: the victim's link arrives (the attacker's address is limited, not everybody).
    const message = await smtp.messageTo(victim.email, 1).catch(() => undefined);
    expect(message, `no reset message to the victim after a flood of ${sent} requests`).toBeDefined();
  }, 40_000);

  // ----------------------------------------------------------------------------- logs

  it('[found] no ticket secret reaches the logs, percent-encoded or not', async () => {
    const typeId = await makeType();
    const { url } = await issue(typeId, `ext-${dialect}-${++n}`);
    const secret = url.split('/').at(-1) as string;
    // A link rewriter that escapes every character still opens the same ticket.
    const encoded = [...secret].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('');
    const res = await fetch(`${ts.url}/t/${slug}/tickets/${encoded}`);
    expect(res.status).toBeLessThan(500);
    await sleep(100);
    const text = log.text();
    expect(text.length).toBeGreaterThan(0);
    for (const s of secrets) expect(text.includes(s), `secret ${s.slice(0, 6)}… logged`).toBe(false);
    const leaked = log.lines.filter((l) => l.includes(encoded));
    expect(leaked.join('\n').slice(0, 1000)).toBe('');
  });

  // ---------------------------------------------------- self-deletion in the system tenant

  it('[regression] self-deletion never removes the system tenant’s last administrator, even two at once', async () => {
    const system = ts.api;
    const second = await user({ api: system, tenant: 'system' });
    expect((await system('PUT', `/api/v1/tenants/system/users/${second.id}/roles/system:admin`)).status).toBeLessThan(
      300,
    );
    expect(
      (await system('PATCH', '/api/v1/tenants/system', { body: { settings: { selfDeletion: true } } })).status,
    ).toBe(200);
    const db = ts.server.ctx.database.db;
    const tenant = await db.selectFrom('tenants').select('id').where('slug', '=', 'system').executeTakeFirstOrThrow();
    const first = browser();
    const other = browser();
    const firstPage = await open(first, ts.adminEmail, ts.adminPassword, 'system');
    const otherPage = await open(other, second.email, PASSWORD, 'system');
    expect(isAccountPage(firstPage), firstPage.html.slice(0, 300)).toBe(true);
    expect(isAccountPage(otherPage)).toBe(true);
    // Every API key holding system:admin expires: the two users are the last holders.
    const keys = await db
      .updateTable('api_keys')
      .set({ expires_at: 1 })
      .where('tenant_id', '=', tenant.id)
      .where('expires_at', 'is', null)
      .returning('id')
      .execute();
    let statuses: number[] = [];
    try {
      const del = (b: Browser, p: Page, password: string) =>
        post(`${accountUrl('system')}/delete`, cookieOf(b, `${accountUrl('system')}/delete`), {
          csrf: csrfOf(p),
          password,
          confirm: 'yes',
        });
      const answers = await Promise.all([del(first, firstPage, ts.adminPassword), del(other, otherPage, PASSWORD)]);
      statuses = answers.map((r) => r.status).sort();
    } finally {
      if (keys.length) {
        await db
          .updateTable('api_keys')
          .set({ expires_at: null })
          .where(
            'id',
            'in',
            keys.map((k) => k.id),
          )
          .execute();
      }
      await system('PATCH', '/api/v1/tenants/system', { body: { settings: { selfDeletion: false } } });
    }
    expect(statuses).toEqual([200, 409]);
    const admins = await system('GET', '/api/v1/tenants/system/users?role=system:admin');
    expect(admins.body.items.filter((x: { status: string }) => x.status === 'active').length).toBe(1);
  });
});
