/**
 * What Latchkey needs from a SAML 2.0 IdP's metadata (an `EntityDescriptor` with an
 * `IDPSSODescriptor`): its entity id, the SingleSignOnService URLs of the HTTP-Redirect and
 * HTTP-POST bindings, its signing certificates (one or more: IdPs publish the next one ahead
 * of a rollover) and WantAuthnRequestsSigned. Metadata comes as XML an admin pastes or from a
 * URL fetched here with a timeout and a size cap. Anything wrong is a `saml_metadata_invalid`
 * (or, for the fetch, `saml_metadata_unreachable`) `SamlError`, never a crash.
 */
import { X509Certificate } from 'node:crypto';
import { samlError } from './errors.js';
import { elements, ns, parseStrictXml, type XmlElement } from './safe-xml.js';

export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService Location for `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect`. */
  ssoRedirectUrl: string | null;
  /** SingleSignOnService Location for `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST`. */
  ssoPostUrl: string | null;
  /** PEM certificates of the KeyDescriptors for signing (`use="signing"` or no `use`). */
  signingCerts: string[];
  wantAuthnRequestsSigned: boolean;
}

export const bindings = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;

/** Metadata larger than this is refused, pasted or fetched (real IdPs' are 2–20 KB). */
export const maxMetadataBytes = 512 * 1024;
const fetchTimeoutMs = 5_000;
const maxRedirects = 3;

const invalid = (reason: string) => samlError('saml_metadata_invalid', `The IdP metadata is not usable: ${reason}`);

/**
 * Whether `url` may be used to reach an IdP (metadata or SSO): https, or http to this
 * machine's loopback (a test or development IdP).
 */
export function isAllowedIdpUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password) return false;
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
}

function pemOf(base64: string): string {
  const body = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw invalid('a signing certificate is not base64');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
  } catch {
    throw invalid('a signing certificate is not an X.509 certificate');
  }
  return pem;
}

function ssoLocation(descriptor: XmlElement, binding: string): string | null {
  for (const sso of elements('md:SingleSignOnService', descriptor)) {
    if (sso.getAttribute('Binding') !== binding) continue;
    const location = sso.getAttribute('Location')?.trim() ?? '';
    if (!isAllowedIdpUrl(location)) throw invalid(`the SingleSignOnService Location "${location}" is not an https URL`);
    return location;
  }
  return null;
}

/** Parses IdP metadata XML (an `EntityDescriptor` root). */
export function parseIdpMetadata(xml: string): IdpMetadata {
  if (typeof xml !== 'string' || xml.trim() === '') throw invalid('it is empty');
  const root = parseStrictXml(xml, maxMetadataBytes, invalid);
  if (root.localName !== 'EntityDescriptor' || root.namespaceURI !== ns.md) {
    throw invalid(
      root.localName === 'EntitiesDescriptor'
        ? 'it is an aggregate (EntitiesDescriptor); give the EntityDescriptor of the one IdP'
        : `its root is ${root.localName}, not an md:EntityDescriptor`,
    );
  }
  const entityId = root.getAttribute('entityID')?.trim() ?? '';
  if (!entityId || entityId.length > 1024) throw invalid('it has no entityID');
  const validUntil = root.getAttribute('validUntil');
  if (validUntil && Date.parse(validUntil) < Date.now()) throw invalid(`it expired (validUntil ${validUntil})`);

  const descriptor = elements('md:IDPSSODescriptor', root).find((d) =>
    (d.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(ns.samlp),
  );
  if (!descriptor) throw invalid('it has no IDPSSODescriptor for SAML 2.0');

  const ssoRedirectUrl = ssoLocation(descriptor, bindings.redirect);
  const ssoPostUrl = ssoLocation(descriptor, bindings.post);
  if (!ssoRedirectUrl && !ssoPostUrl) throw invalid('it has no SingleSignOnService for HTTP-Redirect or HTTP-POST');

  const signingCerts: string[] = [];
  for (const key of elements('md:KeyDescriptor', descriptor)) {
    const use = key.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const cert of elements('ds:KeyInfo/ds:X509Data/ds:X509Certificate', key)) {
      const pem = pemOf(cert.textContent ?? '');
      if (!signingCerts.includes(pem)) signingCerts.push(pem);
    }
  }
  if (signingCerts.length === 0) throw invalid('it has no signing certificate');

  const want = descriptor.getAttribute('WantAuthnRequestsSigned');
  return {
    entityId,
    ssoRedirectUrl,
    ssoPostUrl,
    signingCerts,
    wantAuthnRequestsSigned: want === 'true' || want === '1',
  };
}

export interface FetchMetadataOptions {
  timeoutMs?: number;
  maxBytes?: number;
  /** The requests, each hop's (federation/outbound.ts: public addresses only); default fetch. */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
}

/**
 * Fetches and parses the metadata at `url` (https, or http on loopback; redirects followed
 * up to 3 times, each target checked the same way). Returns the XML too, for the caller to
 * keep beside the provider.
 */
export async function fetchIdpMetadata(
  url: string,
  { timeoutMs = fetchTimeoutMs, maxBytes = maxMetadataBytes, fetch: fetchFn = fetch }: FetchMetadataOptions = {},
): Promise<{ xml: string; metadata: IdpMetadata }> {
  const signal = AbortSignal.timeout(timeoutMs);
  let target = url;
  for (let hop = 0; ; hop++) {
    if (!isAllowedIdpUrl(target)) throw invalid(`the metadata URL "${target}" is not an https URL`);
    let response: Response;
    try {
      response = await fetchFn(target, {
        redirect: 'manual',
        signal,
        headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
      });
    } catch (err) {
      throw unreachable(signal.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message);
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location || hop >= maxRedirects) throw unreachable(`too many redirects or one without Location`);
      target = new URL(location, target).toString();
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw unreachable(`the answer was HTTP ${response.status}`);
    }
    const xml = await readCapped(response, maxBytes, signal, timeoutMs);
    return { xml, metadata: parseIdpMetadata(xml) };
  }
}

const unreachable = (reason: string) =>
  samlError('saml_metadata_unreachable', `The IdP metadata could not be fetched: ${reason}`);

async function readCapped(
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw invalid(`it is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw invalid(`it is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'SamlError') throw err;
    throw unreachable(signal.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw invalid('it is not UTF-8 text');
  }
}
