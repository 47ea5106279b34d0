/**
 * Sign-in through a `saml` identity provider over HTTP, on each database: the provider made
 * through the admin API from the stand-in IdP's metadata URL or XML (helpers/saml-idp.ts), the
 * sign-in button's signed AuthnRequest, the IdP's signed Response posted to the ACS URL, and
 * the same linking, sign-up and sign-in pages as OpenID Connect. Then the Responses that must
 * be refused with a 400 page (bad signature, wrong audience, expired, replayed, posted into
 * another flow), another tenant's URLs (404), and the SP metadata an IdP imports.
 */
import { X509Certificate } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { element, elements, parseStrictXml } from '../src/federation/saml/safe-xml.js';
import { generateSpCredentials, type SpCredentials } from '../src/federation/saml/sp-keys.js';
import { setCookie } from '../src/http/cookies.js';
import { Browser, type Page } from './helpers/browser.js';
import { dialects } from './helpers/databases.js';
import { authorizationRequest, discover, redeem } from './helpers/oidc.js';
import { type ResponseOptions, SamlIdp } from './helpers/saml-idp.js';
import {
  type ApiClient,
  apiClient,
  createApiKey,
  startTestServer,
  type TestServer,
  tenantWithAdmin,
} from './helpers/server.js';

const mail = 'urn:oid:0.9.2342.19200300.100.1.3';
const displayName = 'urn:oid:2.16.840.1.113730.3.1.241';

describe.each(dialects)('SAML sign-in (%s)', (dialect) => {
  let ts: TestServer;
  let idp: SamlIdp;
  let admin: ApiClient;
  let slug: string;
  let config: oidc.Configuration;
  let stranger: SpCredentials;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const atApp = (u: URL) => u.href.startsWith(redirectUri);
  const atIdp = (u: URL) => u.origin === new URL(idp.baseUrl).origin;
  const samlUrl = (tenant: string, idpSlug: string, what: 'metadata' | 'acs') =>
    `${ts.url}/t/${tenant}/federation/${idpSlug}/saml/${what}`;
  let n = 0;
  const person = () => {
    n += 1;
    return { nameId: `saml-user-${n}`, email: `saml${n}@corp.test`, name: `Saml Person ${n}` };
  };

  async function samlProvider(body: Record<string, unknown>, tenant = slug, api = admin) {
    const res = await api('POST', `/api/v1/tenants/${tenant}/identity-providers`, {
      body: { kind: 'saml', displayName: `SAML ${String(body.slug)}`, samlMetadataUrl: idp.metadataUrl, ...body },
    });
    expect(res.status, res.text).toBe(201);
    return res;
  }

  /** The application's authorization request, through the provider's button, to the IdP's SSO URL. */
  async function toIdp(browser: Browser, idpSlug: string) {
    const request = await authorizationRequest(config, redirectUri, { scope: 'openid email profile' });
    const signInPage = await browser.go(request.url, { stopAt: atApp });
    expect(signInPage.status, signInPage.html.slice(0, 300)).toBe(200);
    const href = new RegExp(`href="([^"]*/federated/${idpSlug})"`).exec(signInPage.html)?.[1];
    expect(href, `no button for ${idpSlug}`).toBeTruthy();
    const atSso = await browser.go(new URL(String(href), signInPage.url), { stopAt: atIdp });
    expect(atIdp(atSso.url), `${atSso.url} ${atSso.status} ${atSso.html.slice(0, 300)}`).toBe(true);
    expect(atSso.url.pathname).toBe('/saml/sso');
    const xml = inflateRawSync(Buffer.from(atSso.url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString();
    const authnRequest = parseStrictXml(xml, 100_000, (r) => new Error(r));
    expect(atSso.url.searchParams.get('Signature')).toBeTruthy();
    return { request, requestId: String(authnRequest.getAttribute('ID')), authnRequest };
  }

  /** The IdP's Response for `requestId`, as its page would post it to the ACS URL of `idpSlug`. */
  function answer(
    requestId: string,
    idpSlug: string,
    who: ReturnType<typeof person>,
    extra: Partial<ResponseOptions> = {},
  ) {
    return idp.response({
      inResponseTo: requestId,
      audience: samlUrl(slug, idpSlug, 'metadata'),
      acsUrl: samlUrl(slug, idpSlug, 'acs'),
      nameId: who.nameId,
      attributes: { [mail]: [who.email], [displayName]: [who.name] },
      ...extra,
    });
  }

  const post = (browser: Browser, idpSlug: string, SAMLResponse: string, tenant = slug) =>
    browser.go(samlUrl(tenant, idpSlug, 'acs'), { method: 'POST', form: { SAMLResponse }, stopAt: atApp });

  async function tokensOf(page: Page, request: Awaited<ReturnType<typeof authorizationRequest>>) {
    expect(atApp(page.url), `${page.url} ${page.status} ${page.html.slice(0, 400)}`).toBe(true);
    return redeem(config, { callback: page.url, ...request });
  }

  const usersNamed = async (email: string) =>
    (await admin('GET', `/api/v1/tenants/${slug}/users?q=${encodeURIComponent(email)}`)).body.items as {
      id: string;
      email: string;
      roles: string[];
      emailVerified: boolean;
    }[];

  beforeAll(async () => {
    [ts, idp, stranger] = await Promise.all([
      // The stand-in IdP is on loopback: reachable only with this (federation/outbound.ts).
      startTestServer(dialect, { FEDERATION_ALLOW_HTTP_ISSUERS: 'true' }),
      SamlIdp.start(),
      generateSpCredentials('Not the IdP'),
    ]);
    const t = await tenantWithAdmin(ts);
    slug = t.slug;
    admin = t.api;
    expect(
      (await admin('PATCH', `/api/v1/tenants/${slug}`, { body: { settings: { selfRegistration: true } } })).status,
    ).toBe(200);
    const client = await admin('POST', `/api/v1/tenants/${slug}/clients`, {
      body: { kind: 'web', name: 'App', redirectUris: [redirectUri], firstParty: true },
    });
    expect(client.status, client.text).toBe(201);
    config = await discover(ts, slug, client.body);
    expect((await admin('POST', `/api/v1/tenants/${slug}/roles`, { body: { name: 'engineer' } })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all([ts?.close(), idp?.stop()]);
  });

  it('makes a saml provider from the metadata URL: the IdP read, SP URLs shown, no client, never the key', async () => {
    const res = await samlProvider({
      slug: 'corp',
      allowSignUp: true,
      allowLink: true,
      claims: { roles: 'groups' },
      roleMappings: [{ upstream: 'eng', role: 'engineer' }],
    });
    expect(res.body).toMatchObject({
      kind: 'saml',
      issuer: idp.entityId,
      clientSecretSet: false,
      privateKeySet: false,
      saml: {
        idpEntityId: idp.entityId,
        idpSsoUrl: idp.ssoUrl,
        idpMetadataUrl: idp.metadataUrl,
        emailVerified: false,
        spEntityId: samlUrl(slug, 'corp', 'metadata'),
        spMetadataUrl: samlUrl(slug, 'corp', 'metadata'),
        acsUrl: samlUrl(slug, 'corp', 'acs'),
      },
    });
    expect(res.text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    const got = await admin('GET', `/api/v1/tenants/${slug}/identity-providers/${res.body.id}`);
    expect(got.body.saml).toEqual(res.body.saml);
    // The SP key is sealed in the row, not in the clear.
    const row = await ts.server.ctx.database.db
      .selectFrom('identity_providers')
      .selectAll()
      .where('id', '=', res.body.id)
      .executeTakeFirstOrThrow();
    expect(row.sp_credentials_sealed).toBeTruthy();
    expect(JSON.stringify(row)).not.toContain('PRIVATE KEY');
  });

  it('fetches no metadata from a private address: loopback without the dev flag, or a private network not listed', async () => {
    const strict = await startTestServer(dialect, { FEDERATION_PRIVATE_NETWORKS: '192.0.2.0/24' });
    try {
      const t = await tenantWithAdmin(strict);
      const before = idp.metadataRequests;
      for (const url of [idp.metadataUrl, 'https://10.1.2.3/metadata', 'https://[::ffff:127.0.0.1]/metadata']) {
        const res = await t.api('POST', `/api/v1/tenants/${t.slug}/identity-providers`, {
          body: { slug: 'private', kind: 'saml', displayName: 'Private', samlMetadataUrl: url },
        });
        expect(res.status, `${url} ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('saml_metadata_unreachable');
        expect(res.body.error.message).toContain('is not a public address');
      }
      expect(idp.metadataRequests).toBe(before);
    } finally {
      await strict.close();
    }
  });

  it('makes one from metadata XML; refuses unusable metadata, both sources or none, and OpenID Connect fields', async () => {
    const res = await samlProvider({ slug: 'pasted', samlMetadataUrl: undefined, samlMetadataXml: idp.metadata() });
    expect(res.body.saml).toMatchObject({ idpEntityId: idp.entityId, idpMetadataUrl: null });
    const refusals: [Record<string, unknown>, string][] = [
      [{ samlMetadataUrl: undefined, samlMetadataXml: '<nope/>' }, 'saml_metadata_invalid'],
      [
        { samlMetadataUrl: undefined, samlMetadataXml: '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>' },
        'saml_metadata_invalid',
      ],
      [{ samlMetadataUrl: `${idp.baseUrl}/saml/missing` }, 'saml_metadata_unreachable'],
      [{ samlMetadataXml: idp.metadata() }, 'validation_failed'],
      [{ samlMetadataUrl: undefined }, 'validation_failed'],
      [{ clientId: 'x' }, 'validation_failed'],
      [{ issuer: 'https://idp.example' }, 'validation_failed'],
      [{ samlMetadataUrl: 'http://idp.example/metadata' }, 'validation_failed'],
      // Nor the other kinds' settings (kinds/settings.ts).
      [{ tenant: 'other' }, 'validation_failed'],
      [
        {
          endpoints: {
            authorizationEndpoint: 'https://a.example/authorize',
            tokenEndpoint: 'https://a.example/token',
            apiBase: 'https://api.a.example',
          },
        },
        'validation_failed',
      ],
      [{ appleTeamId: 'TEAM123456', appleKeyId: 'KEY1234567', applePrivateKey: 'x' }, 'validation_failed'],
    ];
    for (const [body, code] of refusals) {
      const bad = await admin('POST', `/api/v1/tenants/${slug}/identity-providers`, {
        body: { kind: 'saml', slug: 'bad', displayName: 'Bad', samlMetadataUrl: idp.metadataUrl, ...body },
      });
      expect(bad.status, `${JSON.stringify(body).slice(0, 80)} ${bad.text}`).toBe(400);
      expect(bad.body.error.code).toBe(code);
    }
    // SAML's settings are not an OpenID Connect provider's.
    const oidcWithSaml = await admin('POST', `/api/v1/tenants/${slug}/identity-providers`, {
      body: {
        slug: 'mixed',
        displayName: 'Mixed',
        issuer: 'https://idp.example',
        clientId: 'c',
        clientSecret: 's',
        samlEmailVerified: true,
      },
    });
    expect(oidcWithSaml.status).toBe(400);
    const githubWithSaml = await admin('POST', `/api/v1/tenants/${slug}/identity-providers`, {
      body: {
        kind: 'github',
        slug: 'gh',
        displayName: 'GitHub',
        clientId: 'c',
        clientSecret: 's',
        samlMetadataUrl: idp.metadataUrl,
      },
    });
    expect(githubWithSaml.status).toBe(400);
    expect(githubWithSaml.body.error.details[0].path).toBe('/samlMetadataUrl');
    // A change re-reads the metadata, and may set the email flag.
    const patched = await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${res.body.id}`, {
      body: { samlMetadataUrl: idp.metadataUrl, samlEmailVerified: true },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.saml).toMatchObject({ idpMetadataUrl: idp.metadataUrl, emailVerified: true });
    const badPatch = await admin('PATCH', `/api/v1/tenants/${slug}/identity-providers/${res.body.id}`, {
      body: { samlMetadataXml: '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>' },
    });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.error.code).toBe('saml_metadata_invalid');
  });

  it('applies the grant rule before reading any metadata: trustEmails needs tenant-wide reach (403, no fetch)', async () => {
    const role = await admin('POST', `/api/v1/tenants/${slug}/roles`, {
      body: { name: 'idp-editor', permissions: ['identity_providers:read', 'identity_providers:write'] },
    });
    expect(role.status, role.text).toBe(201);
    const key = await createApiKey(admin, slug, ['idp-editor']);
    const editor = apiClient(ts.url, key);
    const started = Date.now();
    // The slow metadata URL answers after 3 s: a refusal before the fetch comes sooner.
    const refused = await editor('POST', `/api/v1/tenants/${slug}/identity-providers`, {
      body: {
        kind: 'saml',
        slug: 'sneaky',
        displayName: 'Sneaky',
        samlMetadataUrl: `${idp.baseUrl}/saml/slow`,
        trustEmails: true,
      },
    });
    expect(refused.status, refused.text).toBe(403);
    expect(Date.now() - started).toBeLessThan(2_500);
    // Without what it cannot hand out, the same caller may.
    const allowed = await editor('POST', `/api/v1/tenants/${slug}/identity-providers`, {
      body: { kind: 'saml', slug: 'plain', displayName: 'Plain', samlMetadataUrl: idp.metadataUrl },
    });
    expect(allowed.status, allowed.text).toBe(201);
    const repoint = await editor('PATCH', `/api/v1/tenants/${slug}/identity-providers/${allowed.body.id}`, {
      body: { samlMetadataUrl: `${idp.baseUrl}/saml/slow`, allowLink: true },
    });
    expect(repoint.status, repoint.text).toBe(403);
  });

  it('serves the SP metadata: entity id, the ACS URL, the signing certificate', async () => {
    const res = await fetch(samlUrl(slug, 'corp', 'metadata'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const root = parseStrictXml(await res.text(), 100_000, (r) => new Error(r));
    expect(root.localName).toBe('EntityDescriptor');
    expect(root.getAttribute('entityID')).toBe(samlUrl(slug, 'corp', 'metadata'));
    const sp = element('md:SPSSODescriptor', root);
    expect(sp?.getAttribute('AuthnRequestsSigned')).toBe('true');
    const acs = elements('md:SPSSODescriptor/md:AssertionConsumerService', root);
    expect(acs.map((a) => [a.getAttribute('Binding'), a.getAttribute('Location')])).toEqual([
      ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', samlUrl(slug, 'corp', 'acs')],
    ]);
    const cert = element('md:SPSSODescriptor/md:KeyDescriptor/ds:KeyInfo/ds:X509Data/ds:X509Certificate', root);
    expect(
      () => new X509Certificate(Buffer.from(String(cert?.textContent).replace(/\s+/g, ''), 'base64')),
    ).not.toThrow();
    expect((await fetch(samlUrl(slug, 'nope', 'metadata'))).status).toBe(404);
  });

  it('signs up a new user through the IdP, then signs the same one in again (amr fed, idp, mapped groups)', async () => {
    const who = person();
    const browser = new Browser();
    const { request, requestId, authnRequest } = await toIdp(browser, 'corp');
    expect(authnRequest.getAttribute('AssertionConsumerServiceURL')).toBe(samlUrl(slug, 'corp', 'acs'));
    expect(element('saml:Issuer', authnRequest)?.textContent).toBe(samlUrl(slug, 'corp', 'metadata'));
    const choose = await post(
      browser,
      'corp',
      answer(requestId, 'corp', who, { attributes: { [mail]: [who.email], groups: ['eng', 'other'] } }),
    );
    expect(choose.status, choose.html.slice(0, 500)).toBe(200);
    expect(choose.html).toContain('Create a new account');
    const done = await browser.submit(choose, {}, { action: '/federation/create', stopAt: atApp });
    const claims = (await tokensOf(done, request)).claims();
    expect(claims?.amr).toEqual(['fed']);
    expect(claims?.idp).toBe('corp');
    const [user] = await usersNamed(who.email);
    expect(claims?.sub).toBe(user?.id);
    expect(user?.emailVerified).toBe(false);
    expect(user?.roles).toEqual(['engineer']);
    const identities = await admin('GET', `/api/v1/tenants/${slug}/users/${user?.id}/identities`);
    expect((identities.body.items as { subject: string }[]).map((i) => i.subject)).toEqual([who.nameId]);

    // Returning: straight back to the application, the same user.
    const again = new Browser();
    const second = await toIdp(again, 'corp');
    const back = await post(again, 'corp', answer(second.requestId, 'corp', who));
    expect((await tokensOf(back, second.request)).claims()?.sub).toBe(user?.id);
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?target=${user?.id}`);
    const actions = (audit.body.items as { action: string }[]).map((e) => e.action);
    expect(actions.filter((a) => a === 'user.sign_in.federated')).toHaveLength(2);
  });

  it('links an existing user by email only where the IdP’s emails count as verified and the provider is trusted', async () => {
    await samlProvider({ slug: 'untrusted-emails', trustEmails: true });
    await samlProvider({ slug: 'trusted-emails', trustEmails: true, samlEmailVerified: true });
    const who = person();
    const created = await admin('POST', `/api/v1/tenants/${slug}/users`, {
      body: { email: who.email, password: 'a password nobody guesses', emailVerified: true },
    });
    expect(created.status, created.text).toBe(201);
    const b1 = new Browser();
    const f1 = await toIdp(b1, 'untrusted-emails');
    const refused = await post(b1, 'untrusted-emails', answer(f1.requestId, 'untrusted-emails', who));
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('cannot be linked');
    const b2 = new Browser();
    const f2 = await toIdp(b2, 'trusted-emails');
    const linked = await post(b2, 'trusted-emails', answer(f2.requestId, 'trusted-emails', who));
    expect((await tokensOf(linked, f2.request)).claims()?.sub).toBe(created.body.id);
  });

  it('refuses a bad signature, a wrong audience, an expired or unsigned Response with a 400 page', async () => {
    const who = person();
    const cases: [Partial<ResponseOptions>, string][] = [
      [{ signer: stranger }, 'saml_signature_invalid'],
      [{ sign: 'none' }, 'saml_signature_invalid'],
      [{ audience: 'https://someone-else.example/sp' }, 'saml_audience_mismatch'],
      [{ notBefore: new Date(Date.now() - 3_600_000), notOnOrAfter: new Date(Date.now() - 1_800_000) }, 'saml_expired'],
      [{ destination: 'https://elsewhere.example/acs' }, 'saml_response_invalid'],
      [{ nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient' }, 'saml_transient_name_id'],
    ];
    for (const [extra, code] of cases) {
      const browser = new Browser();
      const { requestId } = await toIdp(browser, 'corp');
      const page = await post(browser, 'corp', answer(requestId, 'corp', who, extra));
      expect(page.status, `${code} ${page.html.slice(0, 400)}`).toBe(400);
      expect(page.html).toContain(code);
    }
    expect(await usersNamed(who.email)).toEqual([]);
    const audit = await admin('GET', `/api/v1/tenants/${slug}/audit-events?action=user.sign_in.federated`);
    expect(JSON.stringify(audit.body)).toContain('saml_signature_invalid');
  });

  it('refuses a replayed Response: posted again (with or without the cookie) and posted into a new flow', async () => {
    const who = person();
    const browser = new Browser();
    const { requestId } = await toIdp(browser, 'corp');
    const response = answer(requestId, 'corp', who);
    const acs = new URL(samlUrl(slug, 'corp', 'acs'));
    const cookie = browser.jar.header(acs);
    expect(cookie).toContain('lk_fed_saml=');
    const form = new URLSearchParams({ SAMLResponse: response }).toString();
    const send = (cookieHeader: string) =>
      fetch(acs, {
        method: 'POST',
        headers: { cookie: cookieHeader, 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        redirect: 'manual',
      });
    const first = await post(browser, 'corp', response);
    expect(first.status, first.html.slice(0, 300)).toBe(200);
    expect(first.html).toContain('Create a new account');
    // The same browser again: its cookie was cleared.
    const again = await post(browser, 'corp', response);
    expect(again.status).toBe(400);
    expect(again.html).toContain('saml_flow_expired');
    // The cookie copied: its request is used.
    const copied = await send(cookie);
    expect(copied.status).toBe(400);
    expect(await copied.text()).toContain('saml_request_used');
    // Into a new flow of another browser: it answers another request.
    const other = new Browser();
    await toIdp(other, 'corp');
    const elsewhere = await post(other, 'corp', response);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.html).toContain('saml_in_response_to_mismatch');
    // With no flow at all.
    const none = await post(new Browser(), 'corp', response);
    expect(none.status).toBe(400);
  });

  it('links a saml provider from the account page: the AuthnRequest, the Response at the ACS URL, back to the page', async () => {
    await samlProvider({ slug: 'linkable', allowLink: true });
    const email = `saml-linker-${dialect}@example.test`;
    const password = 'the saml linker password';
    const made = await admin('POST', `/api/v1/tenants/${slug}/users`, { body: { email, password } });
    expect(made.status, made.text).toBe(201);
    const browser = new Browser();
    const signIn = await browser.go(`${ts.url}/t/${slug}/account`);
    const page = await browser.submit(signIn, { email, password });
    expect(page.html).toContain('Link SAML linkable');
    const form = /<form[^>]*identities\/link[^>]*>[\s\S]*?<\/form>/.exec(page.html)?.[0] ?? '';
    expect(form).toContain('value="linkable"');
    const atSso = await browser.submit({ ...page, html: form }, { provider: 'linkable', password }, { stopAt: atIdp });
    expect(atSso.url.pathname).toBe('/saml/sso');
    const xml = inflateRawSync(Buffer.from(atSso.url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString();
    const requestId = String(parseStrictXml(xml, 100_000, (r) => new Error(r)).getAttribute('ID'));
    const who = person();
    const back = await post(browser, 'linkable', answer(requestId, 'linkable', who));
    expect(back.url.pathname).toBe(`/t/${slug}/account`);
    expect(back.html, back.html.slice(0, 400)).toContain('The new way to sign in is linked.');
    const identities = await admin('GET', `/api/v1/tenants/${slug}/users/${made.body.id}/identities`);
    expect((identities.body.items as { subject: string }[]).map((i) => i.subject)).toEqual([who.nameId]);
    // The same Response again: the request is used, nothing more is linked.
    const replay = await post(browser, 'linkable', answer(requestId, 'linkable', person()));
    expect(replay.status).toBe(400);
    expect((await admin('GET', `/api/v1/tenants/${slug}/users/${made.body.id}/identities`)).body.items).toHaveLength(1);
  });

  it('keeps a tenant’s saml provider to its own URLs (404 through another tenant’s)', async () => {
    const other = await tenantWithAdmin(ts);
    expect((await fetch(samlUrl(other.slug, 'corp', 'metadata'))).status).toBe(404);
    const browser = new Browser();
    const { requestId } = await toIdp(browser, 'corp');
    // The Response and the flow cookie of tenant A's provider, posted to tenant B's URL.
    const cookie = browser.jar.header(new URL(samlUrl(slug, 'corp', 'acs')));
    const res = await fetch(samlUrl(other.slug, 'corp', 'acs'), {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: answer(requestId, 'corp', person()) }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(404);
    // B's own provider of that slug does not take A's flow either.
    await samlProvider({ slug: 'corp', allowSignUp: true }, other.slug, other.api);
    const crossed = await fetch(samlUrl(other.slug, 'corp', 'acs'), {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: answer(requestId, 'corp', person()) }).toString(),
      redirect: 'manual',
    });
    expect(crossed.status).toBe(400);
  });
});

describe('the SAML flow cookie', () => {
  const cookieOf = (publicUrl: string) => {
    let value = '';
    const reply = {
      header(_name: string, v: string) {
        value = v;
        return reply;
      },
    };
    setCookie(reply as never, 'lk_fed_saml', 'v', { path: '/acs', maxAge: 60, publicUrl, sameSite: 'None' });
    return value;
  };
  it('is SameSite=None; Secure under https and on loopback (the IdP posts cross-site), Lax over other http', () => {
    expect(cookieOf('https://id.example')).toMatch(/; HttpOnly; SameSite=None; Secure$/);
    expect(cookieOf('http://127.0.0.1:3000')).toMatch(/; HttpOnly; SameSite=None; Secure$/);
    expect(cookieOf('http://localhost:3000')).toMatch(/; HttpOnly; SameSite=None; Secure$/);
    expect(cookieOf('http://latchkey.internal:3000')).toMatch(/; HttpOnly; SameSite=Lax$/);
  });
});
