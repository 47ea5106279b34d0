/**
 * Latchkey as a SAML 2.0 service provider towards one IdP, on top of `@node-saml/node-saml`
 * (which does the XML signatures, the audience and the time checks; nothing here checks a
 * signature by hand). One `SamlServiceProvider` per (tenant, identity provider):
 *
 * - `authorizeUrl` makes a signed HTTP-Redirect AuthnRequest and returns its ID, which the
 *   caller keeps in a sealed, single-use cookie bound to the browser;
 * - `validatePostResponse` takes the HTTP-POST Response at the ACS URL and accepts it only if
 *   the IdP's certificates sign the assertion (or the whole response), it is meant for this SP
 *   (Audience, Destination, Recipient), is within its validity window, comes from the IdP's
 *   entity id and answers exactly that request ID (so a captured response cannot be replayed
 *   into a new flow);
 * - `metadata` is the SP metadata the IdP's admin imports.
 *
 * Per the Web Browser SSO profile, what node-saml leaves to its caller is checked here on the
 * signed assertion it hands back: Issuer, a bearer SubjectConfirmation whose Recipient is the
 * ACS URL and whose InResponseTo is the request's ID.
 */
import { createPrivateKey, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { type CacheProvider, SAML, type SamlConfig, SamlStatusError, ValidateInResponseTo } from '@node-saml/node-saml';
import { SamlError, type SamlErrorCode, samlError } from './errors.js';
import { isAllowedIdpUrl } from './idp-metadata.js';
import { element, elements, ns, parseStrictXml, type XmlElement } from './safe-xml.js';

export interface ServiceProviderOptions {
  /** This SP's entity id (also the Audience the IdP must name). */
  spEntityId: string;
  /** The AssertionConsumerService URL (HTTP-POST) the IdP posts the Response to. */
  acsUrl: string;
  idp: { entityId: string; ssoUrl: string; certs: string[] };
  spPrivateKeyPem: string;
  spCertPem: string;
  /** Tolerated clock difference with the IdP, 0 to 10 minutes; 60 s when not given. */
  clockSkewMs?: number;
  /** NameIDPolicy Format to ask for; none (the IdP's default) when not given. */
  nameIdFormat?: string | null;
}

export interface SamlAssertion {
  nameId: string;
  nameIdFormat: string;
  sessionIndex: string | null;
  /** Attribute Name → its values, in the order the IdP sent them. */
  attributes: Record<string, string[]>;
  issuer: string;
}

export const defaultClockSkewMs = 60_000;
/** A posted SAMLResponse larger than this (base64 characters) is refused before decoding. */
export const maxResponseChars = 1024 * 1024;
const unspecifiedFormat = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const bearer = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const success = 'urn:oasis:names:tc:SAML:2.0:status:Success';
/** The RelayState alphabet: base64url, at most 80 bytes (SAML bindings §3.4.3). */
const relayStatePattern = /^[A-Za-z0-9_-]{0,80}$/;

/**
 * node-saml's messages → stable codes. Its errors are plain `Error`s, so the message is all
 * there is to go by; anything not listed is `saml_response_invalid`.
 */
const nodeSamlErrors: [RegExp, SamlErrorCode][] = [
  [/signature|signed|ID cannot refer|Referenced node/i, 'saml_signature_invalid'],
  [/audience/i, 'saml_audience_mismatch'],
  [/not yet valid|expired|No valid subject confirmation/i, 'saml_expired'],
  [/InResponseTo/i, 'saml_in_response_to_mismatch'],
];

export function codeForNodeSamlError(err: unknown): SamlErrorCode {
  if (err instanceof SamlStatusError) return 'saml_response_invalid';
  const message = err instanceof Error ? err.message : String(err);
  return nodeSamlErrors.find(([pattern]) => pattern.test(message))?.[1] ?? 'saml_response_invalid';
}

/** A cache that knows one request ID: node-saml's InResponseTo check then accepts that one only. */
function oneRequest(requestId: string): CacheProvider {
  const createdAt = new Date().toISOString();
  return {
    saveAsync: async () => null,
    getAsync: async (key) => (key === requestId ? createdAt : null),
    removeAsync: async () => null,
  };
}

function certificate(name: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TypeError(`${name} must hold PEM X.509 certificates`);
  }
}

function assertUrl(name: string, value: string) {
  try {
    new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL`);
  }
}

export class SamlServiceProvider {
  private readonly config: SamlConfig;
  private readonly skewMs: number;

  constructor(private readonly options: ServiceProviderOptions) {
    const skew = options.clockSkewMs ?? defaultClockSkewMs;
    // node-saml reads -1 as "skip every time check": never let that through.
    if (!Number.isInteger(skew) || skew < 0 || skew > 600_000) throw new RangeError('clockSkewMs must be 0 to 600000');
    if (!options.spEntityId) throw new TypeError('spEntityId is required');
    if (!options.idp.entityId) throw new TypeError('idp.entityId is required');
    if (options.idp.certs.length === 0) throw new TypeError('idp.certs needs at least one certificate');
    assertUrl('acsUrl', options.acsUrl);
    if (!isAllowedIdpUrl(options.idp.ssoUrl)) throw new TypeError('idp.ssoUrl must be an https URL');
    for (const cert of options.idp.certs) certificate('idp.certs', cert);
    let spKey: KeyObject;
    try {
      spKey = createPrivateKey(options.spPrivateKeyPem);
    } catch {
      throw new TypeError('spPrivateKeyPem is not a private key');
    }
    if (!certificate('spCertPem', options.spCertPem).checkPrivateKey(spKey)) {
      throw new TypeError('spCertPem is not the certificate of spPrivateKeyPem');
    }
    this.skewMs = skew;
    this.config = {
      issuer: options.spEntityId,
      audience: options.spEntityId,
      callbackUrl: options.acsUrl,
      entryPoint: options.idp.ssoUrl,
      idpIssuer: options.idp.entityId,
      idpCert: options.idp.certs,
      privateKey: options.spPrivateKeyPem,
      publicCert: options.spCertPem,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
      acceptedClockSkewMs: skew,
      identifierFormat: options.nameIdFormat ?? null,
      // The assertion's or the whole response's signature, whichever the IdP makes (node-saml
      // then requires the assertion's when the response carries none).
      wantAssertionsSigned: false,
      wantAuthnResponseSigned: false,
      validateInResponseTo: ValidateInResponseTo.always,
      // A RequestedAuthnContext of "password" makes IdPs refuse users who sign in otherwise (MFA, Kerberos).
      disableRequestedAuthnContext: true,
    };
  }

  /** A signed HTTP-Redirect AuthnRequest to the IdP, and its ID. */
  async authorizeUrl({ relayState = '' }: { relayState?: string } = {}): Promise<{ url: string; requestId: string }> {
    // node-saml signs the querystring encoding and sends the URLSearchParams one: they agree on this alphabet only.
    if (!relayStatePattern.test(relayState)) throw new RangeError('relayState must be at most 80 base64url characters');
    const requestId = `_${randomBytes(20).toString('hex')}`;
    const saml = new SAML({ ...this.config, generateUniqueId: () => requestId, cacheProvider: oneRequest(requestId) });
    const url = await saml.getAuthorizeUrlAsync(relayState, undefined, {});
    return { url, requestId };
  }

  /** Checks the Response posted to the ACS URL; throws a `SamlError` when it is not to be trusted. */
  async validatePostResponse(
    body: { SAMLResponse?: unknown; RelayState?: unknown },
    { expectedRequestId }: { expectedRequestId: string },
  ): Promise<SamlAssertion> {
    const encoded = body.SAMLResponse;
    if (typeof encoded !== 'string' || encoded === '') throw invalid('the post carries no SAMLResponse');
    if (encoded.length > maxResponseChars) throw invalid('the SAMLResponse is too large');
    if (typeof expectedRequestId !== 'string' || expectedRequestId === '') {
      throw samlError('saml_in_response_to_mismatch', 'No sign-in was started here for this response');
    }
    const xml = Buffer.from(encoded, 'base64').toString('utf8');
    // Before node-saml parses it: no DTD (node-saml's parsers would otherwise see one), a Response root, our Destination.
    const root = parseStrictXml(xml, maxResponseChars, (reason) =>
      invalid(`the SAMLResponse is not usable: ${reason}`),
    );
    if (root.localName !== 'Response' || root.namespaceURI !== ns.samlp)
      throw invalid('the message is not a SAML Response');
    if (root.getAttribute('Destination') !== this.options.acsUrl) {
      throw invalid('the Response is addressed to another Destination than this ACS URL');
    }
    // node-saml reads an assertion without looking at the status: a refusal must not carry one.
    const statusCode = element('samlp:Status/samlp:StatusCode', root);
    if (statusCode?.getAttribute('Value') !== success) {
      const status = statusCode?.getAttribute('Value') ?? null;
      const subStatus = statusCode ? (element('samlp:StatusCode', statusCode)?.getAttribute('Value') ?? null) : null;
      throw samlError('saml_response_invalid', 'The identity provider did not sign the user in', { status, subStatus });
    }
    const responseIssuer = element('saml:Issuer', root)?.textContent?.trim();
    if (responseIssuer !== undefined && responseIssuer !== this.options.idp.entityId) {
      throw invalid('the Response comes from another issuer than this IdP');
    }

    const saml = new SAML({ ...this.config, cacheProvider: oneRequest(expectedRequestId) });
    let profile: Awaited<ReturnType<SAML['validatePostResponseAsync']>>['profile'];
    try {
      const relayState = typeof body.RelayState === 'string' ? body.RelayState : '';
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: encoded, RelayState: relayState }));
    } catch (err) {
      if (err instanceof SamlError) throw err;
      const code = codeForNodeSamlError(err);
      const refused = samlError(code, messages[code]);
      refused.cause = err; // node-saml's own words, for the logs; the page shows the stable message
      throw refused;
    }
    const assertionXml = profile?.getAssertionXml?.();
    if (!profile || !assertionXml) throw invalid('the Response carries no assertion');
    return this.checkAssertion(assertionXml, profile.sessionIndex ?? null, expectedRequestId);
  }

  /** The checks node-saml leaves to its caller, on the signed assertion it verified. */
  private checkAssertion(assertionXml: string, sessionIndex: string | null, requestId: string): SamlAssertion {
    const assertion = parseStrictXml(assertionXml, maxResponseChars, invalid);
    const issuer = element('saml:Issuer', assertion)?.textContent?.trim() ?? '';
    if (issuer !== this.options.idp.entityId) throw invalid('the assertion comes from another issuer than this IdP');

    const nameIdElement = element('saml:Subject/saml:NameID', assertion);
    const nameId = nameIdElement?.textContent?.trim() ?? '';
    if (!nameIdElement || !nameId) throw invalid('the assertion has no NameID');

    // The bearer confirmation for this ACS URL (Web Browser SSO profile §4.1.4.2): its
    // InResponseTo is the request's ID, it has a NotOnOrAfter and it still holds.
    const confirmations = elements('saml:Subject/saml:SubjectConfirmation', assertion)
      .filter((c) => c.getAttribute('Method') === bearer)
      .map((c) => element('saml:SubjectConfirmationData', c))
      .filter((d): d is XmlElement => d !== undefined && d.getAttribute('Recipient') === this.options.acsUrl);
    if (confirmations.length === 0) throw invalid('the assertion has no bearer SubjectConfirmation for this ACS URL');
    const answering = confirmations.filter((d) => d.getAttribute('InResponseTo') === requestId);
    if (answering.length === 0) throw samlError('saml_in_response_to_mismatch', messages.saml_in_response_to_mismatch);
    const now = Date.now();
    const current = answering.some((d) => {
      const notOnOrAfter = Date.parse(d.getAttribute('NotOnOrAfter') ?? '');
      const notBefore = Date.parse(d.getAttribute('NotBefore') ?? '');
      return (
        Number.isFinite(notOnOrAfter) &&
        now - this.skewMs < notOnOrAfter &&
        (!Number.isFinite(notBefore) || now + this.skewMs >= notBefore)
      );
    });
    if (!current) throw samlError('saml_expired', messages.saml_expired);

    const attributes: Record<string, string[]> = Object.create(null);
    for (const attribute of elements('saml:AttributeStatement/saml:Attribute', assertion)) {
      const name = attribute.getAttribute('Name');
      if (!name) continue;
      const values = elements('saml:AttributeValue', attribute).map((v) => v.textContent ?? '');
      attributes[name] = [...(attributes[name] ?? []), ...values];
    }
    return {
      nameId,
      nameIdFormat: nameIdElement.getAttribute('Format') || unspecifiedFormat,
      sessionIndex,
      attributes: { ...attributes },
      issuer,
    };
  }

  /** The SP metadata XML: entity id, the ACS (HTTP-POST), the signing certificate, AuthnRequestsSigned. */
  metadata(): string {
    return new SAML(this.config).generateServiceProviderMetadata(null, this.options.spCertPem);
  }
}

const messages: Record<SamlErrorCode, string> = {
  saml_metadata_invalid: 'The IdP metadata is not usable',
  saml_metadata_unreachable: 'The IdP metadata could not be fetched',
  saml_signature_invalid: "The SAML response is not signed by the identity provider's certificate",
  saml_audience_mismatch: 'The SAML assertion is meant for another service provider',
  saml_expired: 'The SAML assertion is not valid at this time (expired or not yet valid)',
  saml_in_response_to_mismatch: 'The SAML response does not answer the sign-in started in this browser',
  saml_response_invalid: 'The SAML response is not valid',
};

const invalid = (reason: string) => samlError('saml_response_invalid', `The SAML response is not valid: ${reason}`);
