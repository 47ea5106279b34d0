/**
 * A stand-in SAML 2.0 identity provider for the SAML tests, speaking the real protocol: its
 * own RSA keys and self-signed certificates (made in the test), metadata XML served over HTTP
 * on 127.0.0.1 (a random port), and Responses whose assertion and/or whole message are signed
 * with `xml-crypto` (the signer node-saml itself uses), with every field a test may want to
 * get wrong. A few extra routes serve what the metadata fetch must survive: a huge body, a
 * slow answer, an error status, a redirect. For a browser, `/saml/sso` answers an
 * AuthnRequest as a real IdP's page does: a form that posts the Response (for `signInAs`) to
 * the request's ACS URL, from this IdP's own origin (`host` `localhost`: another site than
 * a Latchkey on 127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';
import { generateSpCredentials, type SpCredentials } from '../../src/federation/saml/sp-keys.js';

export const nameIdFormats = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  email: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
} as const;

export interface ResponseOptions {
  /** The AuthnRequest ID answered; null leaves InResponseTo out. */
  inResponseTo: string | null;
  /** Response@InResponseTo when it differs from the assertion's (the unsigned part). */
  responseInResponseTo?: string | null;
  audience: string;
  /** Response@Destination and SubjectConfirmationData@Recipient (the SP's ACS URL). */
  acsUrl: string;
  destination?: string | null;
  recipient?: string;
  issuer?: string;
  nameId?: string;
  nameIdFormat?: string;
  sessionIndex?: string;
  /** Conditions window; default: a minute ago to five minutes on. */
  notBefore?: Date;
  notOnOrAfter?: Date;
  /** The bearer SubjectConfirmationData's NotOnOrAfter; default the Conditions'. */
  subjectNotOnOrAfter?: Date;
  attributes?: Record<string, string[]>;
  /** Which parts carry a signature; default the assertion. */
  sign?: 'assertion' | 'response' | 'both' | 'none';
  /** The key that signs; default the IdP's current one. */
  signer?: SpCredentials;
  /** A Status other than Success (then no assertion). */
  status?: string;
}

const xmlText = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const base64Body = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
const newId = () => `_${randomBytes(16).toString('hex')}`;

/** Signs the element `xpath` selects, the Signature placed right after its Issuer. */
export function signXml(xml: string, elementName: 'Assertion' | 'Response', signer: SpCredentials): string {
  const sig = new SignedXml({
    privateKey: signer.privateKeyPem,
    publicCert: signer.certPem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  const target = elementName === 'Assertion' ? "//*[local-name(.)='Assertion']" : "/*[local-name(.)='Response']";
  sig.addReference({
    xpath: target,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sig.computeSignature(xml, { location: { reference: `${target}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

export class SamlIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly metadataUrl: string;
  /** How many times its metadata was asked for. */
  metadataRequests = 0;
  /** Whom `/saml/sso` signs in (null: no one, a 403 page). */
  signInAs: { nameId: string; attributes: Record<string, string[]> } | null = null;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    /** The current signing key, and the next one the metadata already publishes (a rollover). */
    readonly key: SpCredentials,
    readonly nextKey: SpCredentials,
  ) {
    this.entityId = `${baseUrl}/saml/idp`;
    this.ssoUrl = `${baseUrl}/saml/sso`;
    this.metadataUrl = `${baseUrl}/saml/metadata`;
  }

  static async start({ host = '127.0.0.1' }: { host?: '127.0.0.1' | 'localhost' } = {}): Promise<SamlIdp> {
    const [key, nextKey] = await Promise.all([
      generateSpCredentials('Test IdP'),
      generateSpCredentials('Test IdP next'),
    ]);
    let idp: SamlIdp | undefined;
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/saml/metadata') {
        if (idp) idp.metadataRequests++;
        res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(idp?.metadata());
      } else if (path === '/saml/redirect') {
        res.writeHead(302, { location: '/saml/metadata' }).end();
      } else if (path === '/saml/huge') {
        // Streamed with no Content-Length, so only the reader's own count can stop it.
        res.writeHead(200, { 'content-type': 'application/xml' });
        const chunk = `<!-- ${'x'.repeat(64 * 1024)} -->`;
        let sent = 0;
        const more = () => {
          while (sent < 64 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      } else if (path === '/saml/sso' && idp) {
        const page = idp.ssoPage(new URL(req.url ?? '/', idp.baseUrl));
        res.writeHead(page.status, { 'content-type': 'text/html; charset=utf-8' }).end(page.html);
      } else if (path === '/saml/slow') {
        setTimeout(() => res.writeHead(200).end(idp?.metadata()), 3_000).unref();
      } else {
        res.writeHead(500).end('no');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    idp = new SamlIdp(server, `http://${host}:${port}`, key, nextKey);
    return idp;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The SSO page for an HTTP-Redirect AuthnRequest: a form posting the Response to its ACS URL. */
  private ssoPage(url: URL): { status: number; html: string } {
    const encoded = url.searchParams.get('SAMLRequest');
    if (!encoded || !this.signInAs) return { status: 403, html: '<p>No one signs in here.</p>' };
    const request = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
    const attribute = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(request)?.[1] ?? '';
    const acsUrl = attribute('AssertionConsumerServiceURL');
    const audience = /<saml:Issuer[^>]*>([^<]*)<\/saml:Issuer>/.exec(request)?.[1] ?? '';
    const response = this.response({
      inResponseTo: attribute('ID'),
      audience,
      acsUrl,
      nameId: this.signInAs.nameId,
      attributes: this.signInAs.attributes,
    });
    const relayState = url.searchParams.get('RelayState');
    return {
      status: 200,
      html: `<!doctype html><title>Test IdP</title><form method="post" action="${xmlText(acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${response}">${
        relayState ? `<input type="hidden" name="RelayState" value="${xmlText(relayState)}">` : ''
      }<button type="submit">Continue to the service</button></form>`,
    };
  }

  /** IdP metadata shaped like the ones Okta, Keycloak or Shibboleth publish. */
  metadata(): string {
    const keyDescriptor = (use: string, cert: SpCredentials) => `
    <md:KeyDescriptor use="${use}">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>${base64Body(cert.certPem).replace(/(.{76})/g, '$1\n')}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>`;
    return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${this.entityId}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keyDescriptor(
    'signing',
    this.key,
  )}${keyDescriptor('signing', this.nextKey)}${keyDescriptor('encryption', this.key)}
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.baseUrl}/saml/slo"/>
    <md:NameIDFormat>${nameIdFormats.persistent}</md:NameIDFormat>
    <md:NameIDFormat>${nameIdFormats.email}</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${this.ssoUrl}"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.ssoUrl}"/>
  </md:IDPSSODescriptor>
  <md:Organization>
    <md:OrganizationName xml:lang="en">Test IdP</md:OrganizationName>
    <md:OrganizationDisplayName xml:lang="en">Test IdP</md:OrganizationDisplayName>
    <md:OrganizationURL xml:lang="en">${this.baseUrl}</md:OrganizationURL>
  </md:Organization>
</md:EntityDescriptor>
`;
  }

  /** A Response's XML (unencoded), signed as `options.sign` says. */
  responseXml(options: ResponseOptions): string {
    const now = Date.now();
    const instant = new Date(now).toISOString();
    const notBefore = (options.notBefore ?? new Date(now - 60_000)).toISOString();
    const notOnOrAfter = (options.notOnOrAfter ?? new Date(now + 300_000)).toISOString();
    const subjectNotOnOrAfter = options.subjectNotOnOrAfter?.toISOString() ?? notOnOrAfter;
    const issuer = xmlText(options.issuer ?? this.entityId);
    const inResponseTo = (id: string | null | undefined) => (id ? ` InResponseTo="${xmlText(id)}"` : '');
    const destination = options.destination === undefined ? options.acsUrl : options.destination;
    const responseId = newId();
    const assertionId = newId();
    const status = options.status ?? 'urn:oasis:names:tc:SAML:2.0:status:Success';
    const attributes = Object.entries(options.attributes ?? {})
      .map(
        ([name, values]) =>
          `<saml:Attribute Name="${xmlText(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${values
            .map((v) => `<saml:AttributeValue xsi:type="xs:string">${xmlText(v)}</saml:AttributeValue>`)
            .join('')}</saml:Attribute>`,
      )
      .join('');
    const assertion =
      options.status === undefined
        ? `<saml:Assertion xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="${assertionId}" Version="2.0" IssueInstant="${instant}">` +
          `<saml:Issuer>${issuer}</saml:Issuer>` +
          `<saml:Subject><saml:NameID Format="${xmlText(options.nameIdFormat ?? nameIdFormats.persistent)}">${xmlText(options.nameId ?? 'u-1001')}</saml:NameID>` +
          `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${subjectNotOnOrAfter}" Recipient="${xmlText(options.recipient ?? options.acsUrl)}"${inResponseTo(options.inResponseTo)}/></saml:SubjectConfirmation></saml:Subject>` +
          `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${xmlText(options.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
          `<saml:AuthnStatement AuthnInstant="${instant}" SessionIndex="${xmlText(options.sessionIndex ?? '_session-1')}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
          (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
          '</saml:Assertion>'
        : '';
    let xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${responseId}" Version="2.0" IssueInstant="${instant}"` +
      `${destination === null ? '' : ` Destination="${xmlText(destination)}"`}${inResponseTo(
        options.responseInResponseTo === undefined ? options.inResponseTo : options.responseInResponseTo,
      )}>` +
      `<saml:Issuer>${issuer}</saml:Issuer>` +
      `<samlp:Status><samlp:StatusCode Value="${xmlText(status)}"/></samlp:Status>${assertion}</samlp:Response>`;
    const sign = options.sign ?? 'assertion';
    const signer = options.signer ?? this.key;
    if ((sign === 'assertion' || sign === 'both') && assertion) xml = signXml(xml, 'Assertion', signer);
    if (sign === 'response' || sign === 'both') xml = signXml(xml, 'Response', signer);
    return xml;
  }

  /** The form field the browser posts to the ACS URL. */
  response(options: ResponseOptions): string {
    return Buffer.from(this.responseXml(options)).toString('base64');
  }
}
