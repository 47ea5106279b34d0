/**
 * The SAML 2.0 service provider (federation/saml) against a stand-in IdP that speaks real
 * SAML (helpers/saml-idp.ts): the round trip of a signed AuthnRequest and a signed Response,
 * then each way a Response must be refused (signature, audience, time, InResponseTo,
 * Destination/Recipient/Issuer, signature wrapping), IdP metadata from a real-shaped file
 * and from hostile XML, the metadata fetch's limits, SP credentials and attribute mapping.
 */
import { createVerify, X509Certificate } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapSamlAttributes } from '../src/federation/saml/attributes.js';
import { SamlError, type SamlErrorCode } from '../src/federation/saml/errors.js';
import { fetchIdpMetadata, type IdpMetadata, parseIdpMetadata } from '../src/federation/saml/idp-metadata.js';
import { element, parseStrictXml, type XmlElement } from '../src/federation/saml/safe-xml.js';
import { SamlServiceProvider, type ServiceProviderOptions } from '../src/federation/saml/service-provider.js';
import { generateSpCredentials, type SpCredentials } from '../src/federation/saml/sp-keys.js';
import { nameIdFormats, type ResponseOptions, SamlIdp, signXml } from './helpers/saml-idp.js';

const base = 'https://latchkey.test/t/acme/federation/corp/saml';
const spEntityId = `${base}/metadata`;
const acsUrl = `${base}/acs`;

let idp: SamlIdp;
let sp: SamlServiceProvider;
let spCredentials: SpCredentials;
let stranger: SpCredentials;
let idpMetadata: IdpMetadata;

beforeAll(async () => {
  idp = await SamlIdp.start();
  [spCredentials, stranger] = await Promise.all([
    generateSpCredentials('latchkey.test acme'),
    generateSpCredentials('Someone else'),
  ]);
  ({ metadata: idpMetadata } = await fetchIdpMetadata(idp.metadataUrl));
  sp = new SamlServiceProvider(spOptions());
});

afterAll(async () => {
  await idp?.stop();
});

function spOptions(extra: Partial<ServiceProviderOptions> = {}): ServiceProviderOptions {
  return {
    spEntityId,
    acsUrl,
    idp: { entityId: idpMetadata.entityId, ssoUrl: idpMetadata.ssoRedirectUrl ?? '', certs: idpMetadata.signingCerts },
    spPrivateKeyPem: spCredentials.privateKeyPem,
    spCertPem: spCredentials.certPem,
    clockSkewMs: 60_000,
    ...extra,
  };
}

/** A fresh flow: the request ID the caller would keep in its cookie. */
async function startFlow(): Promise<string> {
  return (await sp.authorizeUrl({ relayState: 'rs1' })).requestId;
}

function response(requestId: string | null, extra: Partial<ResponseOptions> = {}) {
  return idp.response({
    inResponseTo: requestId,
    audience: spEntityId,
    acsUrl,
    attributes: { 'urn:oid:0.9.2342.19200300.100.1.3': ['ada@acme.test'] },
    ...extra,
  });
}

async function refusal(promise: Promise<unknown>): Promise<SamlErrorCode> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SamlError);
    expect((err as SamlError).status).toBe(400);
    return (err as SamlError).code;
  }
  throw new Error('expected a SamlError, the call succeeded');
}

const b64 = (xml: string) => Buffer.from(xml).toString('base64');

describe('round trip', () => {
  it('signs an HTTP-Redirect AuthnRequest the IdP can check with the SP certificate', async () => {
    const { url, requestId } = await sp.authorizeUrl({ relayState: 'state_123-x' });
    expect(url.startsWith(`${idp.ssoUrl}?`)).toBe(true);
    expect(requestId).toMatch(/^_[0-9a-f]{40}$/);

    // The IdP's check (SAML bindings §3.4.4.1): the raw, still-encoded query parameters in this order.
    const raw = new Map(
      new URL(url).search
        .slice(1)
        .split('&')
        .map((pair) => pair.split('=') as [string, string]),
    );
    const signedPart = ['SAMLRequest', 'RelayState', 'SigAlg'].map((k) => `${k}=${raw.get(k)}`).join('&');
    const params = new URL(url).searchParams;
    expect(params.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(params.get('RelayState')).toBe('state_123-x');
    const signature = Buffer.from(params.get('Signature') ?? '', 'base64');
    expect(createVerify('RSA-SHA256').update(signedPart).verify(spCredentials.certPem, signature)).toBe(true);
    expect(createVerify('RSA-SHA256').update(signedPart).verify(stranger.certPem, signature)).toBe(false);

    const request = inflateRawSync(Buffer.from(params.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
    const root = parseStrictXml(request, 100_000, (r) => new Error(r));
    expect(root.localName).toBe('AuthnRequest');
    expect(root.getAttribute('ID')).toBe(requestId);
    expect(root.getAttribute('Destination')).toBe(idp.ssoUrl);
    expect(root.getAttribute('AssertionConsumerServiceURL')).toBe(acsUrl);
    expect(root.getAttribute('ProtocolBinding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(element('saml:Issuer', root)?.textContent).toBe(spEntityId);

    const attributes = {
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': ['ada@acme.test'],
      'http://schemas.microsoft.com/identity/claims/displayname': ['Ada Lovelace'],
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': ['engineers', 'admins'],
    };
    const result = await sp.validatePostResponse(
      {
        SAMLResponse: response(requestId, { attributes, nameId: 'ada-7f3', sessionIndex: '_s42' }),
        RelayState: 'state_123-x',
      },
      { expectedRequestId: requestId },
    );
    expect(result).toEqual({
      nameId: 'ada-7f3',
      nameIdFormat: nameIdFormats.persistent,
      sessionIndex: '_s42',
      attributes,
      issuer: idp.entityId,
    });
    expect(mapSamlAttributes(result)).toEqual({
      email: 'ada@acme.test',
      emailVerified: false,
      name: 'Ada Lovelace',
      groups: ['engineers', 'admins'],
    });
  });

  it('accepts a response signed as a whole instead of the assertion, and both', async () => {
    for (const sign of ['response', 'both'] as const) {
      const requestId = await startFlow();
      const result = await sp.validatePostResponse(
        { SAMLResponse: response(requestId, { sign }) },
        { expectedRequestId: requestId },
      );
      expect(result.nameId).toBe('u-1001');
    }
  });

  it("accepts the IdP's next certificate from its metadata (a key rollover)", async () => {
    const requestId = await startFlow();
    const result = await sp.validatePostResponse(
      { SAMLResponse: response(requestId, { signer: idp.nextKey }) },
      { expectedRequestId: requestId },
    );
    expect(result.attributes['urn:oid:0.9.2342.19200300.100.1.3']).toEqual(['ada@acme.test']);
  });

  it('accepts an assertion within the clock skew', async () => {
    const requestId = await startFlow();
    const past = new Date(Date.now() - 20_000);
    const result = await sp.validatePostResponse(
      { SAMLResponse: response(requestId, { notOnOrAfter: past }) },
      { expectedRequestId: requestId },
    );
    expect(result.nameId).toBe('u-1001');
  });

  it('publishes SP metadata with the entity id, the ACS URL, the signing certificate and AuthnRequestsSigned', () => {
    const xml = sp.metadata();
    const root = parseStrictXml(xml, 100_000, (r) => new Error(r));
    expect(root.localName).toBe('EntityDescriptor');
    expect(root.getAttribute('entityID')).toBe(spEntityId);
    const descriptor = element('md:SPSSODescriptor', root);
    expect(descriptor?.getAttribute('AuthnRequestsSigned')).toBe('true');
    const acs = element('md:SPSSODescriptor/md:AssertionConsumerService', root);
    expect(acs?.getAttribute('Binding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(acs?.getAttribute('Location')).toBe(acsUrl);
    const key = element('md:SPSSODescriptor/md:KeyDescriptor', root);
    expect(key?.getAttribute('use')).toBe('signing');
    const cert = element('ds:KeyInfo/ds:X509Data/ds:X509Certificate', key as XmlElement)?.textContent ?? '';
    expect(new X509Certificate(Buffer.from(cert, 'base64')).fingerprint256).toBe(
      new X509Certificate(spCredentials.certPem).fingerprint256,
    );
  });
});

describe('responses that are refused', () => {
  it('a tampered assertion (its NameID changed after signing)', async () => {
    const requestId = await startFlow();
    const xml = idp
      .responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl, nameId: 'ada' })
      .replace('>ada</saml:NameID>', '>admin</saml:NameID>');
    expect(xml).toContain('>admin</saml:NameID>');
    expect(await refusal(sp.validatePostResponse({ SAMLResponse: b64(xml) }, { expectedRequestId: requestId }))).toBe(
      'saml_signature_invalid',
    );
  });

  it('an assertion signed by another key, and a response signed as a whole by another key', async () => {
    for (const sign of ['assertion', 'response'] as const) {
      const requestId = await startFlow();
      const SAMLResponse = response(requestId, { signer: stranger, sign });
      expect(await refusal(sp.validatePostResponse({ SAMLResponse }, { expectedRequestId: requestId }))).toBe(
        'saml_signature_invalid',
      );
    }
  });

  it('an unsigned response', async () => {
    const requestId = await startFlow();
    const SAMLResponse = response(requestId, { sign: 'none' });
    expect(await refusal(sp.validatePostResponse({ SAMLResponse }, { expectedRequestId: requestId }))).toBe(
      'saml_signature_invalid',
    );
  });

  it('signature wrapping: a second, unsigned assertion beside the signed one', async () => {
    const requestId = await startFlow();
    const signed = idp.responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl, nameId: 'ada' });
    const evil = idp
      .responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl, nameId: 'admin', sign: 'none' })
      .match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)?.[0];
    for (const xml of [
      signed.replace('</samlp:Response>', `${evil}</samlp:Response>`),
      signed.replace('<saml:Assertion ', `${evil}<saml:Assertion `),
    ]) {
      expect(await refusal(sp.validatePostResponse({ SAMLResponse: b64(xml) }, { expectedRequestId: requestId }))).toBe(
        'saml_signature_invalid',
      );
    }
  });

  it('signature wrapping: an unsigned assertion that carries the signed one inside it', async () => {
    const requestId = await startFlow();
    const signed = idp.responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl, nameId: 'ada' });
    const signedAssertion = signed.match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)?.[0] ?? '';
    const evil =
      idp
        .responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl, nameId: 'admin', sign: 'none' })
        .match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)?.[0] ?? '';
    const wrapped = evil.replace('</saml:Assertion>', `<saml:Advice>${signedAssertion}</saml:Advice></saml:Assertion>`);
    const xml = signed.replace(signedAssertion, wrapped);
    expect(await refusal(sp.validatePostResponse({ SAMLResponse: b64(xml) }, { expectedRequestId: requestId }))).toBe(
      'saml_signature_invalid',
    );
  });

  it('signature wrapping: a signed response whose unsigned copy is moved aside', async () => {
    // The signed Response goes into an Extensions element of an evil, unsigned Response.
    const requestId = await startFlow();
    const signed = idp
      .responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl, nameId: 'ada', sign: 'response' })
      .replace(/^<\?xml[^>]*>/, '');
    const evil = idp.responseXml({
      inResponseTo: requestId,
      audience: spEntityId,
      acsUrl,
      nameId: 'admin',
      sign: 'none',
    });
    const xml = evil.replace('<samlp:Status>', `<samlp:Extensions>${signed}</samlp:Extensions><samlp:Status>`);
    expect(await refusal(sp.validatePostResponse({ SAMLResponse: b64(xml) }, { expectedRequestId: requestId }))).toBe(
      'saml_signature_invalid',
    );
  });

  it('another audience', async () => {
    const requestId = await startFlow();
    const SAMLResponse = response(requestId, { audience: 'https://other-sp.test/metadata' });
    expect(await refusal(sp.validatePostResponse({ SAMLResponse }, { expectedRequestId: requestId }))).toBe(
      'saml_audience_mismatch',
    );
  });

  it('an expired assertion', async () => {
    const requestId = await startFlow();
    const SAMLResponse = response(requestId, {
      notBefore: new Date(Date.now() - 600_000),
      notOnOrAfter: new Date(Date.now() - 120_000),
    });
    expect(await refusal(sp.validatePostResponse({ SAMLResponse }, { expectedRequestId: requestId }))).toBe(
      'saml_expired',
    );
  });

  it('a bearer subject confirmation that expired while the conditions still hold', async () => {
    const requestId = await startFlow();
    const SAMLResponse = response(requestId, { subjectNotOnOrAfter: new Date(Date.now() - 120_000) });
    expect(await refusal(sp.validatePostResponse({ SAMLResponse }, { expectedRequestId: requestId }))).toBe(
      'saml_expired',
    );
  });

  it('an assertion whose NotBefore is in the future (past the skew)', async () => {
    const requestId = await startFlow();
    const SAMLResponse = response(requestId, { notBefore: new Date(Date.now() + 180_000) });
    expect(await refusal(sp.validatePostResponse({ SAMLResponse }, { expectedRequestId: requestId }))).toBe(
      'saml_expired',
    );
  });

  it('a response to another request (a captured response replayed into a new flow)', async () => {
    const first = await startFlow();
    const captured = response(first);
    const second = await startFlow();
    expect(await refusal(sp.validatePostResponse({ SAMLResponse: captured }, { expectedRequestId: second }))).toBe(
      'saml_in_response_to_mismatch',
    );
    // The unsigned Response@InResponseTo rewritten to the new flow's ID: the signed assertion still says the first.
    const rewritten = response(first, { responseInResponseTo: second });
    expect(await refusal(sp.validatePostResponse({ SAMLResponse: rewritten }, { expectedRequestId: second }))).toBe(
      'saml_in_response_to_mismatch',
    );
  });

  it('an unsolicited response (no InResponseTo), and a flow with no request ID', async () => {
    const requestId = await startFlow();
    expect(
      await refusal(sp.validatePostResponse({ SAMLResponse: response(null) }, { expectedRequestId: requestId })),
    ).toBe('saml_in_response_to_mismatch');
    expect(
      await refusal(sp.validatePostResponse({ SAMLResponse: response(requestId) }, { expectedRequestId: '' })),
    ).toBe('saml_in_response_to_mismatch');
  });

  it('another Destination, another Recipient, no Destination, another issuer', async () => {
    const cases: Partial<ResponseOptions>[] = [
      { destination: 'https://evil.test/acs' },
      { destination: null },
      { recipient: 'https://evil.test/acs' },
      { issuer: 'https://other-idp.test/saml' },
    ];
    for (const extra of cases) {
      const requestId = await startFlow();
      const SAMLResponse = response(requestId, extra);
      expect(await refusal(sp.validatePostResponse({ SAMLResponse }, { expectedRequestId: requestId }))).toBe(
        'saml_response_invalid',
      );
    }
  });

  it('an error status from the IdP, with its codes, even when an assertion comes along', async () => {
    const requestId = await startFlow();
    const denied = idp
      .responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl, sign: 'none' })
      .replace(
        '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>',
        '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode>',
      );
    const err = await sp
      .validatePostResponse({ SAMLResponse: b64(denied) }, { expectedRequestId: requestId })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SamlError);
    expect(err).toMatchObject({
      code: 'saml_response_invalid',
      details: {
        status: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
        subStatus: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
      },
    });
    // A signed assertion in a Response whose status says no: node-saml alone would take the assertion.
    const unsigned = idp
      .responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl, sign: 'none' })
      .replace(':status:Success"', ':status:Requester"');
    const withAssertion = signXml(unsigned, 'Assertion', idp.key);
    expect(
      await refusal(sp.validatePostResponse({ SAMLResponse: b64(withAssertion) }, { expectedRequestId: requestId })),
    ).toBe('saml_response_invalid');
  });

  it('an error status from the IdP, something not XML, a DTD, no SAMLResponse, another root', async () => {
    const requestId = await startFlow();
    const denied = response(requestId, { status: 'urn:oasis:names:tc:SAML:2.0:status:Responder' });
    const bodies = [
      { SAMLResponse: denied },
      { SAMLResponse: b64('this is not xml <<<') },
      { SAMLResponse: '!!!' },
      {
        SAMLResponse: b64(
          `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${idp.responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl }).replace(/^<\?xml[^>]*>/, '')}`,
        ),
      },
      {},
      { SAMLResponse: 42 },
      { SAMLResponse: b64('<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>') },
      { SAMLResponse: 'A'.repeat(2 * 1024 * 1024) },
    ];
    for (const body of bodies) {
      expect(await refusal(sp.validatePostResponse(body, { expectedRequestId: requestId }))).toBe(
        'saml_response_invalid',
      );
    }
  });

  it('a signed assertion moved into a Response for another Destination', async () => {
    const requestId = await startFlow();
    const signedAssertion =
      idp
        .responseXml({ inResponseTo: requestId, audience: spEntityId, acsUrl })
        .match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)?.[0] ?? '';
    const xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="https://evil.test/acs" InResponseTo="${requestId}"><saml:Issuer>${idp.entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>${signedAssertion}</samlp:Response>`;
    expect(await refusal(sp.validatePostResponse({ SAMLResponse: b64(xml) }, { expectedRequestId: requestId }))).toBe(
      'saml_response_invalid',
    );
  });
});

describe('service provider options', () => {
  it("keeps the query of an IdP's SSO URL (Google's idpid) outside the signed part", async () => {
    const withQuery = new SamlServiceProvider(
      spOptions({ idp: { ...spOptions().idp, ssoUrl: `${idp.ssoUrl}?idpid=C0abc` } }),
    );
    const { url } = await withQuery.authorizeUrl();
    const params = new URL(url).searchParams;
    expect(params.get('idpid')).toBe('C0abc');
    const raw = new Map(
      new URL(url).search
        .slice(1)
        .split('&')
        .map((pair) => pair.split('=') as [string, string]),
    );
    const signedPart = ['SAMLRequest', 'SigAlg'].map((k) => `${k}=${raw.get(k)}`).join('&');
    const signature = Buffer.from(params.get('Signature') ?? '', 'base64');
    expect(createVerify('RSA-SHA256').update(signedPart).verify(spCredentials.certPem, signature)).toBe(true);
  });

  it("refuses an SP key that is not its certificate's, an IdP certificate that is none, an http SSO URL", () => {
    expect(() => new SamlServiceProvider(spOptions({ spPrivateKeyPem: stranger.privateKeyPem }))).toThrow(TypeError);
    expect(() => new SamlServiceProvider(spOptions({ spPrivateKeyPem: 'nope' }))).toThrow(TypeError);
    expect(() => new SamlServiceProvider(spOptions({ idp: { ...spOptions().idp, certs: ['nope'] } }))).toThrow(
      TypeError,
    );
    expect(() => new SamlServiceProvider(spOptions({ idp: { ...spOptions().idp, certs: [] } }))).toThrow(TypeError);
    expect(
      () => new SamlServiceProvider(spOptions({ idp: { ...spOptions().idp, ssoUrl: 'http://idp.example/sso' } })),
    ).toThrow(TypeError);
  });

  it('refuses a clock skew of -1 (node-saml would skip every time check) and a RelayState it cannot sign', async () => {
    expect(() => new SamlServiceProvider(spOptions({ clockSkewMs: -1 }))).toThrow(RangeError);
    await expect(sp.authorizeUrl({ relayState: 'has space' })).rejects.toThrow(RangeError);
    await expect(sp.authorizeUrl({ relayState: 'x'.repeat(81) })).rejects.toThrow(RangeError);
  });
});

describe('IdP metadata', () => {
  it('reads a real-shaped metadata file: entity id, both bindings, the signing certificates only, WantAuthnRequestsSigned', () => {
    const metadata = parseIdpMetadata(idp.metadata());
    expect(metadata).toEqual({
      entityId: idp.entityId,
      ssoRedirectUrl: idp.ssoUrl,
      ssoPostUrl: idp.ssoUrl,
      signingCerts: [expect.stringContaining('BEGIN CERTIFICATE'), expect.stringContaining('BEGIN CERTIFICATE')],
      wantAuthnRequestsSigned: true,
    });
    expect(metadata.signingCerts.map((pem) => new X509Certificate(pem).fingerprint256)).toEqual(
      [idp.key, idp.nextKey].map((k) => new X509Certificate(k.certPem).fingerprint256),
    );
  });

  it('reads a KeyDescriptor without use, a default namespace and no WantAuthnRequestsSigned', () => {
    const cert = idp.key.certPem.replace(/-----[^-]+-----|\s/g, '');
    const xml = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/e">
      <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        <KeyDescriptor><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
        <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/sso"/>
      </IDPSSODescriptor></EntityDescriptor>`;
    expect(parseIdpMetadata(xml)).toMatchObject({
      entityId: 'https://idp.example/e',
      ssoRedirectUrl: null,
      ssoPostUrl: 'https://idp.example/sso',
      wantAuthnRequestsSigned: false,
    });
  });

  it('refuses hostile and wrong XML with saml_metadata_invalid, never a crash', () => {
    const good = idp.metadata().replace(/^<\?xml[^>]*>\s*/, '');
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>`;
    const hostile = [
      `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${good.replace('Test IdP</md:OrganizationName>', '&xxe;</md:OrganizationName>')}`,
      `${laughs}${good.replace('Test IdP</md:OrganizationName>', '&lol2;</md:OrganizationName>')}`,
      `<!DOCTYPE md:EntityDescriptor SYSTEM "http://127.0.0.1:1/evil.dtd">${good}`,
      `${good}<!-- ${'x'.repeat(600 * 1024)} -->`,
      '<foo/>',
      '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>',
      '<EntityDescriptor entityID="x"/>', // no namespace
      'not xml at all',
      '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><unclosed>',
      '',
      good.replace(/entityID="[^"]*"/, ''),
      good.replace(/<md:SingleSignOnService[^>]*>/g, ''),
      good.replace(/use="signing"/g, 'use="encryption"'),
      good.replace(/<ds:X509Certificate>[^<]*/g, '<ds:X509Certificate>bm90IGEgY2VydA=='),
      good.replace(/<ds:X509Certificate>[^<]*/g, '<ds:X509Certificate>%%%'),
      good.replace(/Location="http:\/\/127\.0\.0\.1:\d+\/saml\/sso"/g, 'Location="http://idp.example/sso"'),
      good.replace(/Location="http:\/\/127\.0\.0\.1:\d+\/saml\/sso"/g, 'Location="javascript:alert(1)"'),
      good.replace('urn:oasis:names:tc:SAML:2.0:protocol"', 'urn:oasis:names:tc:SAML:1.1:protocol"'),
      good.replace('entityID=', 'validUntil="2001-01-01T00:00:00Z" entityID='),
    ];
    for (const xml of hostile) {
      let code: string | undefined;
      try {
        parseIdpMetadata(xml);
      } catch (err) {
        expect(err).toBeInstanceOf(SamlError);
        code = (err as SamlError).code;
      }
      expect(code, xml.slice(0, 120)).toBe('saml_metadata_invalid');
    }
    // A value that is not a string at all.
    expect(() => parseIdpMetadata(undefined as unknown as string)).toThrow(SamlError);
  });

  it('fetches over http on 127.0.0.1 only (https elsewhere), follows a redirect, caps the size and the time', async () => {
    expect((await fetchIdpMetadata(`${idp.baseUrl}/saml/redirect`)).metadata.entityId).toBe(idp.entityId);
    const code = (p: Promise<unknown>) => refusal(p);
    expect(await code(fetchIdpMetadata('http://idp.example/metadata'))).toBe('saml_metadata_invalid');
    expect(await code(fetchIdpMetadata('ftp://127.0.0.1/metadata'))).toBe('saml_metadata_invalid');
    expect(await code(fetchIdpMetadata('not a url'))).toBe('saml_metadata_invalid');
    expect(await code(fetchIdpMetadata(`${idp.baseUrl}/saml/huge`))).toBe('saml_metadata_invalid');
    expect(await code(fetchIdpMetadata(`${idp.baseUrl}/saml/slow`, { timeoutMs: 300 }))).toBe(
      'saml_metadata_unreachable',
    );
    expect(await code(fetchIdpMetadata(`${idp.baseUrl}/saml/nothing-here`))).toBe('saml_metadata_unreachable');
    expect(await code(fetchIdpMetadata('http://127.0.0.1:1/metadata'))).toBe('saml_metadata_unreachable');
  });
});

describe('SP credentials', () => {
  it('makes an RSA key and a self-signed certificate for it, with the common name escaped', async () => {
    const cert = new X509Certificate(spCredentials.certPem);
    expect(cert.subject).toBe('CN=latchkey.test acme');
    expect(cert.verify(cert.publicKey)).toBe(true); // self-signed
    expect(
      cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(spCredentials.privateKeyPem))),
    ).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.ca).toBe(false);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 9 * 365 * 86_400_000);
    const odd = new X509Certificate((await generateSpCredentials('x, O=Evil')).certPem);
    expect(odd.subject).not.toContain('\nO=Evil');
    await expect(generateSpCredentials('  ')).rejects.toThrow(RangeError);
  });
});

describe('attribute mapping', () => {
  const assertion = (
    attributes: Record<string, string[]>,
    nameId = 'u1',
    nameIdFormat: string = nameIdFormats.persistent,
  ) => ({
    nameId,
    nameIdFormat,
    attributes,
  });

  it('reads the OID names, falls back to given name + surname, collects groups from every default name', () => {
    expect(
      mapSamlAttributes(
        assertion({
          'urn:oid:0.9.2342.19200300.100.1.3': [' grace@navy.test '],
          'urn:oid:2.5.4.42': ['Grace'],
          'urn:oid:2.5.4.4': ['Hopper'],
          'urn:oid:1.3.6.1.4.1.5923.1.5.1.1': ['staff', 'ops'],
          groups: ['ops', 'dev'],
        }),
      ),
    ).toEqual({
      email: 'grace@navy.test',
      emailVerified: false,
      name: 'Grace Hopper',
      groups: ['staff', 'ops', 'dev'],
    });
  });

  it('takes the email from an emailAddress NameID, counts it verified only when the provider says so', () => {
    const a = assertion({}, 'linus@kernel.test', nameIdFormats.email);
    expect(mapSamlAttributes(a)).toMatchObject({ email: 'linus@kernel.test', emailVerified: false, name: null });
    expect(mapSamlAttributes(a, { emailVerified: true })).toMatchObject({ emailVerified: true });
    expect(mapSamlAttributes(assertion({}), { emailVerified: true })).toMatchObject({
      email: null,
      emailVerified: false,
    });
    // A persistent NameID is not an email, even if it looks like one.
    expect(mapSamlAttributes(assertion({}, 'x@y.test'))).toMatchObject({ email: null });
  });

  it('uses the configured names instead of the defaults, and drops a value that is not an email', () => {
    const a = assertion({
      mail: ['a@b.test'],
      corpMail: ['c@d.test'],
      fullName: ['C D'],
      teams: ['t1'],
      groups: ['g'],
    });
    expect(mapSamlAttributes(a, { email: 'corpMail', name: ['missing', 'fullName'], groups: 'teams' })).toEqual({
      email: 'c@d.test',
      emailVerified: false,
      name: 'C D',
      groups: ['t1'],
    });
    expect(mapSamlAttributes(assertion({ email: ['not an email'] }))).toMatchObject({ email: null });
    // Names that are also Object.prototype members are only names.
    expect(mapSamlAttributes(a, { email: 'constructor', name: '__proto__', groups: ['toString'] })).toMatchObject({
      email: null,
      name: null,
      groups: [],
    });
  });
});
