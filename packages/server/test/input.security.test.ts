/**
 * Bad input always gets a clear 4xx with a stable code, never a 500, on both databases
 * (issue 9, items 7 to 9): a NUL byte (which PostgreSQL refuses in text) in every string
 * path parameter, query parameter and body field of every documented admin-API route, in the
 * sign-in, registration and consent forms, and in the parameters of the OpenID provider's
 * endpoints; JSON bodies that are not UTF-8, name a key twice, nest too deep, hold too many
 * members or overflowing numbers; an email or display name that grows past its limit under
 * NFKC. A property test sends random text, control characters and lone surrogates included,
 * to the routes that store text.
 *
 * @see issue 9
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../src/audit/service.js';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { basicAuth, pkce, tokenRequest } from './helpers/oidc.js';
import {
  type DocumentedRoute,
  documentedRoutes,
  fillPath,
  routeKey,
  sampleFromSchema,
  stringFields,
  takesString,
} from './helpers/openapi-routes.js';
import {
  type ApiClient,
  type ApiResponse,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';

const NUL = 'a\u0000b';

/** A copy of `sample` with `text` at `path` (see `stringFields`), containers made on the way. */
function withText(sample: unknown, path: string[], text: string): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return text;
  if (head === '0') return [withText(undefined, rest, text)];
  const base = sample !== null && typeof sample === 'object' && !Array.isArray(sample) ? sample : {};
  if (head === '*key') return { ...base, [`key${text}`]: 'value' };
  const key = head === '*' ? 'key' : head;
  return { ...base, [key]: withText((base as Record<string, unknown>)[key], rest, text) };
}

/** The provider's answer to a parameter the text rule refuses (RFC 6749 5.2). */
const refusedByTextRule = {
  error: 'invalid_request',
  error_description: expect.stringContaining('control characters'),
};

/** What every refusal of text looks like. */
function expectInvalidText(res: ApiResponse, what: string, where: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(400);
  expect(res.body.error.code, `${what}: ${res.text}`).toBe('invalid_text');
  expect(res.body.error.details.in, what).toBe(where);
}

describe.each(dialects)('bad input (%s)', (dialect) => {
  let ts: TestServer;
  let admin: ApiClient;
  let slug: string;
  let userId: string;
  let typeId: string;
  let ticketId: string;
  let idpId: string;
  let identityId: string;

  beforeAll(async () => {
    ts = await startTestServer(dialect);
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = ts.api;
    const user = await admin('POST', `/api/v1/tenants/${slug}/users`, { body: { email: 'someone@example.test' } });
    expect(user.status, user.text).toBe(201);
    userId = user.body.id;
    // Two of everything listed, so that every list has a next page and a cursor to edit.
    for (const [route, body] of [
      ['users', { email: 'another@example.test' }],
      ['roles', { name: 'extra' }],
      ['api-keys', { name: 'extra', roles: ['tenant:admin'] }],
      ['clients', { kind: 'service', name: 'one' }],
      ['clients', { kind: 'service', name: 'two' }],
    ] as const) {
      const res = await admin('POST', `/api/v1/tenants/${slug}/${route}`, { body });
      expect(res.status, res.text).toBe(201);
    }
    // Two messages in the outbox.
    for (let i = 0; i < 2; i++) {
      const res = await admin('POST', `/api/v1/tenants/${slug}/users/${userId}/password-reset`);
      expect(res.status, res.text).toBe(202);
    }
    // Two user imports.
    for (let i = 0; i < 2; i++) {
      const res = await admin('POST', `/api/v1/tenants/${slug}/users/import?dryRun=true`, {
        rawBody: JSON.stringify({ email: `imported${i}@example.test` }),
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(res.status, res.text).toBe(202);
    }
    // Two ticket types, two tickets of one, both expired and in the reissue queue.
    for (const name of ['one', 'two']) {
      const res = await admin('POST', `/api/v1/tenants/${slug}/ticket-types`, { body: { name } });
      expect(res.status, res.text).toBe(201);
      typeId = res.body.id;
    }
    const issued = await admin('POST', `/api/v1/tenants/${slug}/ticket-types/${typeId}/tickets`, {
      body: { foreignKeys: ['first', 'second'] },
    });
    expect(issued.status, issued.text).toBe(200);
    ticketId = issued.body.items[0].ticketId;
    const { ctx } = ts.server;
    await ctx.database.db
      .updateTable('tickets')
      .set({ expires_at: Date.now() - 1000 })
      .execute();
    const tenant = await ctx.tenants.findBySlug(slug);
    for (const item of issued.body.items as { url: string }[]) {
      if (tenant) await ctx.tickets.requestReissue(tenant, item.url.split('/').at(-1) ?? '');
    }
    // An identity provider, and an identity of the user at it.
    const idp = await admin('POST', `/api/v1/tenants/${slug}/identity-providers`, {
      body: { slug: 'corp', displayName: 'Corp', issuer: 'https://idp.example.com', clientId: 'c', clientSecret: 's' },
    });
    expect(idp.status, idp.text).toBe(201);
    idpId = idp.body.id;
    if (!tenant) throw new Error('tenant missing');
    identityId = (
      await ctx.identities.link(tenant, { userId, providerId: idpId, subject: 'sub', email: null }, systemActor)
    ).id;
  });
  afterAll(async () => {
    await ts?.close();
  });

  const path = (route: DocumentedRoute) =>
    fillPath(route, {
      slug,
      ids: {
        users: userId,
        'ticket-types': typeId,
        tickets: ticketId,
        'identity-providers': idpId,
        identities: identityId,
      },
    });

  describe('a NUL byte on every admin-API route', () => {
    it('in every string path parameter', async () => {
      let checked = 0;
      for (const route of documentedRoutes) {
        for (const name of Object.keys(route.pathParams).filter((n) => takesString(route.pathParams[n]))) {
          const marked = path({ ...route, template: route.template.replace(`{${name}}`, 'MARK') });
          const filled = marked.replace('MARK', encodeURIComponent(NUL));
          const body = route.bodySchema ? sampleFromSchema(route.bodySchema) : undefined;
          const res = await admin(route.method, filled, { body });
          expectInvalidText(res, `${routeKey(route)} {${name}}`, 'params');
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThan(30);
    });

    it('in every string query parameter', async () => {
      let checked = 0;
      for (const route of documentedRoutes) {
        for (const name of Object.keys(route.queryParams).filter((n) => takesString(route.queryParams[n]))) {
          const res = await admin(route.method, `${path(route)}?${name}=${encodeURIComponent(NUL)}`);
          expectInvalidText(res, `${routeKey(route)} ?${name}`, 'querystring');
          checked += 1;
        }
      }
      // q, role, actor, cursor... on every list.
      expect(checked).toBeGreaterThan(15);
    });

    it('inside a cursor (base64url JSON a client can edit): 400 invalid_cursor on every list', async () => {
      let checked = 0;
      for (const route of documentedRoutes.filter((r) => Object.hasOwn(r.queryParams, 'cursor'))) {
        const first = await admin('GET', `${path(route)}?limit=1`);
        expect(first.status, first.text).toBe(200);
        // What this list's cursors hold (its default sort), with a NUL in the value and in the id.
        const made = first.body.nextCursor
          ? (JSON.parse(Buffer.from(first.body.nextCursor, 'base64url').toString()) as { s: string; v: unknown })
          : undefined;
        expect(made, routeKey(route)).toBeDefined();
        const cursors = [{ s: made?.s, v: made?.v ?? null, id: NUL }];
        if (typeof made?.v === 'string') cursors.push({ s: made.s, v: NUL, id: 'x' });
        for (const cursor of cursors) {
          const encoded = Buffer.from(JSON.stringify(cursor)).toString('base64url');
          const res = await admin('GET', `${path(route)}?cursor=${encoded}`);
          expect(res.status, `${routeKey(route)} ${JSON.stringify(cursor)}: ${res.text}`).toBe(400);
          expect(res.body.error.code, routeKey(route)).toBe('invalid_cursor');
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(6);
    });

    it('in every string body field, at any depth, and in record keys', async () => {
      let checked = 0;
      for (const route of documentedRoutes.filter((r) => r.bodySchema)) {
        const sample = sampleFromSchema(route.bodySchema);
        for (const field of stringFields(route.bodySchema)) {
          const res = await admin(route.method, path(route), { body: withText(sample, field, NUL) });
          expectInvalidText(res, `${routeKey(route)} /${field.join('/')}`, 'body');
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThan(30);
    });

    it('as other control characters and lone surrogates, refused the same way', async () => {
      for (const text of ['\u0001', '\u001b[31m', '\u007f\u0000', '\ud800', 'x\udc00y']) {
        const res = await admin('POST', `/api/v1/tenants/${slug}/users`, {
          body: { email: 'ctrl@example.test', displayName: text },
        });
        expectInvalidText(res, JSON.stringify(text), 'body');
      }
      // Tabs and line breaks are text; so are paired surrogates and combining marks.
      const fine = await admin('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email: 'fine@example.test', displayName: 'A\tB 😀 e\u0301', attributes: { note: 'line\r\nbreak' } },
      });
      expect(fine.status, fine.text).toBe(201);
      expect(fine.body.displayName).toBe('A\tB 😀 e\u0301');
    });
  });

  describe('JSON bodies', () => {
    const users = () => `${ts.url}/api/v1/tenants/${slug}/users`;
    const post = async (body: string | Buffer) => {
      const res = await fetch(users(), {
        method: 'POST',
        headers: { authorization: `Bearer ${ts.adminKey}`, 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string; details?: unknown } } };
    };

    it('5,000 levels of nesting in attributes: 400 json_too_complex, not a stack overflow', async () => {
      const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
      const res = await post(`{"email":"deep@example.test","attributes":{"a":${deep}}}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('json_too_complex');
      expect(res.body.error.details).toMatchObject({ maxDepth: 32 });
      const objects = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
      expect((await post(`{"email":"deep@example.test","attributes":${objects}}`)).body.error.code).toBe(
        'json_too_complex',
      );
    });

    it('too many keys or items in one object or array: 400 json_too_complex', async () => {
      const items = `[${Array.from({ length: 1001 }, () => '0').join(',')}]`;
      expect((await post(`{"email":"wide@example.test","attributes":{"a":${items}}}`)).body.error.code).toBe(
        'json_too_complex',
      );
      const keys = `{${Array.from({ length: 1001 }, (_, i) => `"k${i}":0`).join(',')}}`;
      expect((await post(`{"email":"wide@example.test","attributes":{"a":${keys}}}`)).body.error.code).toBe(
        'json_too_complex',
      );
    });

    it('stored attributes nest at most 8 levels: 400 validation_failed beyond', async () => {
      const nest = (n: number): unknown => (n === 0 ? 1 : { a: nest(n - 1) });
      const deep = await admin('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email: 'nine@example.test', attributes: nest(9) },
      });
      expect(deep.status, deep.text).toBe(400);
      expect(deep.body.error.code).toBe('validation_failed');
      const ok = await admin('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email: 'eight@example.test', attributes: nest(8) },
      });
      expect(ok.status, ok.text).toBe(201);
    });

    it('a key named twice: 400 duplicate_key, at any depth', async () => {
      const top = await post('{"email":"dup@example.test","email":"admin@example.test"}');
      expect(top.status).toBe(400);
      expect(top.body.error).toMatchObject({ code: 'duplicate_key', details: { path: '/email' } });
      const nested = await post('{"email":"dup@example.test","attributes":{"a":1,"\\u0061":2}}');
      expect(nested.body.error).toMatchObject({ code: 'duplicate_key', details: { path: '/attributes/a' } });
      // The same key in two objects is no duplicate.
      const fine = await post('{"email":"dup@example.test","attributes":{"a":{"x":1},"b":{"x":1}}}');
      expect(fine.status).toBe(201);
    });

    it('bytes that are not UTF-8: 400 invalid_encoding, not U+FFFD stored', async () => {
      const bytes = Buffer.concat([
        Buffer.from('{"email":"bytes@example.test","displayName":"'),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from('"}'),
      ]);
      const res = await post(bytes);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_encoding');
    });

    it('a number that overflows, and __proto__ keys: 400 invalid_json', async () => {
      expect((await post('{"email":"num@example.test","attributes":{"n":1e400}}')).body.error.code).toBe(
        'invalid_json',
      );
      expect((await post('{"email":"proto@example.test","attributes":{"__proto__":{"x":1}}}')).body.error.code).toBe(
        'invalid_json',
      );
    });
  });

  describe('the rest of the class', () => {
    it('__proto__ and constructor in query strings and bodies: a 400, nothing polluted', async () => {
      for (const query of ['__proto__=x', '__proto__[admin]=1', 'constructor[prototype][admin]=1']) {
        const res = await admin('GET', `/api/v1/tenants/${slug}/users?${query}`);
        expect(res.status, `${query}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      const body = await admin('POST', `/api/v1/tenants/${slug}/users`, {
        rawBody: '{"email":"c@example.test","attributes":{"constructor":{"prototype":{"admin":true}}}}',
      });
      expect(body.status, body.text).toBe(400);
      expect(body.body.error.code).toBe('invalid_json');
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it('a NUL byte in a header: refused by the HTTP parser with a 400, never a 500', async () => {
      const { connect } = await import('node:net');
      const { port } = new URL(ts.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(`GET /api/v1/tenants HTTP/1.1\r\nHost: x\r\nIf-Match: "1\u0000"\r\nConnection: close\r\n\r\n`);
        });
        let text = '';
        socket.on('data', (d) => {
          text += d.toString();
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    });

    it('a NUL byte in the path of any other page: never a 500 (the console answers its page)', async () => {
      for (const p of ['/admin/%00', '/admin/%00.js', '/api/docs/%00', '/t/%00/auth', '/t/a%00b/token', '/%00']) {
        const res = await fetch(`${ts.url}${p}`, { redirect: 'manual' });
        expect(res.status, p).toBeLessThan(500);
      }
    });

    it('a limit or time filter that overflows: 400 validation_failed', async () => {
      for (const query of ['limit=1e400', 'limit=99999999999999999999', 'since=99999-01-01T00:00:00Z']) {
        const res = await admin('GET', `/api/v1/tenants/${slug}/audit-events?${query}`);
        expect(res.status, `${query}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
    });
  });

  describe('normalisation (NFKC) and limits', () => {
    it('an email longer than 254 characters once normalised is refused, so every stored one can sign in', async () => {
      // "ﬃ" is one character and becomes three ("ffi") under NFKC: 195 typed, 315 stored.
      const email = `${'ﬃ'.repeat(60)}@${'a'.repeat(60)}.${'b'.repeat(60)}.example.test`;
      expect(email.length).toBeLessThanOrEqual(254);
      expect(email.normalize('NFKC').length).toBeGreaterThan(254);
      const res = await admin('POST', `/api/v1/tenants/${slug}/users`, { body: { email } });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.text).toContain('once normalised');
      const patch = await admin('PATCH', `/api/v1/tenants/${slug}/users/${userId}`, { body: { email } });
      expect(patch.status, patch.text).toBe(400);
      // The same typed in its normalised form, within the limit, is accepted and stored as such.
      const short = `${'ﬃ'.repeat(20)}@example.test`;
      const created = await admin('POST', `/api/v1/tenants/${slug}/users`, { body: { email: short } });
      expect(created.status, created.text).toBe(201);
      expect(created.body.email).toBe(short.normalize('NFKC'));
    });

    it('an email whose domain has an empty name or a trailing dot is refused: one mailbox, one account', async () => {
      for (const email of ['dot@example.test.', 'dot@example..test', 'dot@.example.test', 'dot@-example.test']) {
        const res = await admin('POST', `/api/v1/tenants/${slug}/users`, { body: { email } });
        expect(res.status, email).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      expect(
        (await admin('POST', `/api/v1/tenants/${slug}/users`, { body: { email: 'dot@example.test' } })).status,
      ).toBe(201);
    });

    it('a display name longer than 200 characters once normalised is refused', async () => {
      // U+FDFA is one character and eighteen under NFKC.
      const res = await admin('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email: 'name@example.test', displayName: '\ufdfa'.repeat(20) },
      });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      const ok = await admin('POST', `/api/v1/tenants/${slug}/users`, {
        body: { email: 'name@example.test', displayName: '\ufdfa'.repeat(11) },
      });
      expect(ok.status, ok.text).toBe(201);
    });
  });

  it('random text in the fields that store it: stored exactly, or a 400 with a stable code, never a 500', async () => {
    const codes = new Set(['invalid_text', 'validation_failed', 'email_taken']);
    const text = fc.oneof(
      fc.string({ unit: 'grapheme-composite', maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.string({
        unit: fc.constantFrom('\u0000', '\u0001', '\ud800', '\udfff', 'e', '\u0301', 'ﬃ', ' '),
        maxLength: 12,
      }),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(text, text, text, async (name, attribute, roleDescription) => {
        n += 1;
        const user = await admin('POST', `/api/v1/tenants/${slug}/users`, {
          body: { email: `p${n}@example.test`, displayName: name, attributes: { [`k${n}`]: attribute } },
        });
        if (user.status === 201) {
          expect(user.body.attributes[`k${n}`]).toBe(attribute);
          const read = await admin('GET', `/api/v1/tenants/${slug}/users/${user.body.id}`);
          expect(read.body.attributes[`k${n}`]).toBe(attribute);
          expect(read.body.displayName).toBe(name.trim());
        } else {
          expect(user.status, user.text).toBe(400);
          expect(codes.has(user.body.error.code), user.text).toBe(true);
        }
        const role = await admin('POST', `/api/v1/tenants/${slug}/roles`, {
          body: { name: `r${n}`, description: roleDescription },
        });
        if (role.status !== 201) {
          expect(role.status, role.text).toBe(400);
          expect(codes.has(role.body.error.code), role.text).toBe(true);
        } else {
          expect(role.body.description).toBe(roleDescription);
        }
        const search = await admin(
          'GET',
          `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(Buffer.from(name).toString() || 'x')}`,
        );
        expect([200, 400], search.text).toContain(search.status);
      }),
      { numRuns: 40 },
    );
  });

  describe('the sign-in pages and the OpenID provider', () => {
    let clientId: string;
    let clientSecret: string;
    const redirectUri = 'http://127.0.0.1:9/callback';
    let pageSlug: string;

    beforeAll(async () => {
      const t = await tenantWithAdmin(ts);
      pageSlug = t.slug;
      const settings = await t.api('PATCH', `/api/v1/tenants/${pageSlug}`, {
        body: { settings: { selfRegistration: true } },
      });
      expect(settings.status, settings.text).toBe(200);
      const created = await t.api('POST', `/api/v1/tenants/${pageSlug}/clients`, {
        body: { kind: 'web', name: 'Web app', redirectUris: [redirectUri], postLogoutRedirectUris: [redirectUri] },
      });
      expect(created.status, created.text).toBe(201);
      clientId = created.body.clientId;
      clientSecret = created.body.clientSecret;
    });

    const authUrl = (params: Record<string, string> = {}) => {
      const url = new URL(`${ts.url}/t/${pageSlug}/auth`);
      const { challenge } = pkce();
      for (const [k, v] of Object.entries({
        client_id: clientId,
        response_type: 'code',
        scope: 'openid',
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...params,
      })) {
        url.searchParams.set(k, v);
      }
      return url;
    };

    /** A browser at the sign-in page of a fresh interaction. */
    async function signInPage(): Promise<{ browser: Browser; page: Page }> {
      const browser = new Browser();
      const page = await browser.go(authUrl());
      expect(page.status, page.html.slice(0, 300)).toBe(200);
      expect(page.html).toContain('Sign in');
      return { browser, page };
    }

    const expectRefusedPage = (page: Page, what: string) => {
      expect(page.status, `${what}: ${page.html.slice(0, 300)}`).toBe(400);
      expect(page.html, what).toContain('invalid_request');
    };

    it('/auth parameters with a NUL byte: 400 invalid_request, as JSON or as a page', async () => {
      for (const param of ['client_id', 'redirect_uri', 'scope', 'state', 'login_hint', 'nonce', 'prompt']) {
        const res = await fetch(authUrl({ [param]: NUL }), { redirect: 'manual' });
        expect(res.status, param).toBe(400);
        expect(await res.json(), param).toMatchObject(refusedByTextRule);
      }
      // A NUL beside an invalid escape: some parsers leave `%00%FF` as it is, the provider's decodes it.
      const mixed = await fetch(`${authUrl()}&client_id=%00%FF`, { redirect: 'manual' });
      expect(mixed.status).toBe(400);
      expect(await mixed.json()).toMatchObject(refusedByTextRule);
      const page = await fetch(authUrl({ client_id: NUL }), { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(page.status).toBe(400);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('invalid_request');
    });

    it('token, introspection and revocation parameters with a NUL byte: 400 invalid_request', async () => {
      const client = { id: clientId, secret: clientSecret };
      const forms: Record<string, string>[] = [
        { grant_type: 'authorization_code', code: NUL, redirect_uri: redirectUri },
        { grant_type: 'refresh_token', refresh_token: NUL },
        { grant_type: 'client_credentials', scope: NUL },
      ];
      for (const form of forms) {
        const res = await tokenRequest(ts, pageSlug, form, client);
        expect(res.status, JSON.stringify(form)).toBe(400);
        expect(res.body, JSON.stringify(form)).toMatchObject(refusedByTextRule);
      }
      // Unauthenticated: the client id in the body (client_secret_post) or in Basic credentials.
      const post = await tokenRequest(ts, pageSlug, {
        grant_type: 'client_credentials',
        client_id: NUL,
        client_secret: 'x',
      });
      expect(post).toMatchObject({ status: 400, body: refusedByTextRule });
      const basic = await fetch(`${ts.url}/t/${pageSlug}/token`, {
        method: 'POST',
        headers: { authorization: basicAuth(NUL, 'x'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      expect(basic.status).toBe(400);
      expect(await basic.json()).toMatchObject(refusedByTextRule);
      const mixed = await fetch(`${ts.url}/t/${pageSlug}/token`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(clientId, clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=refresh_token&refresh_token=%00%FF',
      });
      expect(mixed.status).toBe(400);
      expect(await mixed.json()).toMatchObject(refusedByTextRule);
      // Content types with parameters, as browsers and libraries send them, are read the same.
      for (const type of ['application/x-www-form-urlencoded;charset=UTF-8', 'Application/X-WWW-Form-Urlencoded']) {
        const res = await fetch(`${ts.url}/t/${pageSlug}/token`, {
          method: 'POST',
          headers: { authorization: basicAuth(clientId, clientSecret), 'content-type': type },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: NUL }).toString(),
        });
        expect(res.status, type).toBe(400);
        expect(await res.json(), type).toMatchObject(refusedByTextRule);
      }
      for (const endpoint of ['token/introspection', 'token/revocation']) {
        const res = await fetch(`${ts.url}/t/${pageSlug}/${endpoint}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: 'x', client_id: NUL }),
        });
        expect(res.status, endpoint).toBe(400);
        expect(await res.json(), endpoint).toMatchObject(refusedByTextRule);
      }
    });

    it('the provider still reads forms it has passed on (a well-formed token request works)', async () => {
      const res = await tokenRequest(
        ts,
        pageSlug,
        { grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: redirectUri },
        { id: clientId, secret: clientSecret },
      );
      expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    });

    it('the sign-in form with a NUL byte in the email or password: a 400 page, no 500', async () => {
      for (const field of ['email', 'password']) {
        const { browser, page } = await signInPage();
        const answer = await browser.submit(page, {
          email: 'someone@example.test',
          password: 'whatever',
          [field]: NUL,
        });
        expectRefusedPage(answer, field);
      }
    });

    it('an email longer than any account’s matches none (not the account it starts with)', async () => {
      const email = `${'u'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(56)}.test`;
      expect(email).toHaveLength(254);
      const password = 'correct horse battery staple 42';
      const user = await admin('POST', `/api/v1/tenants/${pageSlug}/users`, { body: { email, password } });
      expect(user.status, user.text).toBe(201);
      const stopAt = (u: URL) => u.href.startsWith(redirectUri);
      for (const [typed, signsIn] of [
        [`${email}x`, false],
        [email, true],
      ] as const) {
        const { browser, page } = await signInPage();
        // Signed in: the consent page (a third-party client) follows, else the form again.
        const answer = await browser.submit(page, { email: typed, password }, { stopAt });
        expect(answer.html.includes('Invalid email or password'), `${typed}: ${answer.html.slice(0, 300)}`).toBe(
          !signsIn,
        );
      }
    });

    it('the registration form with a NUL byte in the name, email or password: a 400 page', async () => {
      for (const field of ['name', 'email', 'password']) {
        const { browser, page } = await signInPage();
        const form = await browser.go(new URL(`${page.url.pathname}/register`, page.url));
        expect(form.status, form.html.slice(0, 300)).toBe(200);
        const answer = await browser.submit(form, {
          name: 'New person',
          email: `new-${field}@example.test`,
          password: 'correct horse battery staple 42',
          [field]: NUL,
        });
        expectRefusedPage(answer, field);
      }
    });

    it('the interaction pages with a NUL byte in their query or path: a 400 page', async () => {
      const { browser, page } = await signInPage();
      expectRefusedPage(
        await browser.go(new URL(`${page.url.pathname}?error=${encodeURIComponent(NUL)}`, page.url)),
        'query',
      );
      expectRefusedPage(await browser.go(new URL(`${page.url.pathname}%00/abort`, page.url)), 'path');
    });

    it('end-session parameters with a NUL byte: 400 invalid_request', async () => {
      const url = new URL(`${ts.url}/t/${pageSlug}/session/end`);
      url.searchParams.set('client_id', NUL);
      url.searchParams.set('post_logout_redirect_uri', redirectUri);
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject(refusedByTextRule);
      const confirm = await fetch(`${ts.url}/t/${pageSlug}/session/end/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ xsrf: NUL, logout: 'yes' }).toString(),
      });
      expect(confirm.status).toBe(400);
      expect(await confirm.json()).toMatchObject(refusedByTextRule);
    });
  });
});
