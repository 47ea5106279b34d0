/**
 * A `saml` identity provider's settings as the store keeps them (migration 0016) and as the
 * admin API shows them. The IdP comes from its metadata (a URL fetched at save, or XML pasted):
 * its entity id, its HTTP-Redirect SSO URL and its signing certificates go to `saml_idp`; the
 * service provider's own key and self-signed certificate are made once per provider, at
 * create, the key sealed with the instance secret and never answered.
 *
 * The SP's URLs follow from PUBLIC_URL and the two slugs (docs/federation-saml.md): the entity
 * id is the SP metadata's URL, the ACS URL sits beside it. Renaming the tenant or the provider
 * moves them, and the IdP's registration with them.
 */
import type { IdentityProviderRow } from '../../db/schema.js';
import { badRequest } from '../../http/errors.js';
import type { SecretBox } from '../../keys/crypto.js';
import { samlError } from './errors.js';
import { fetchIdpMetadata, type IdpMetadata, parseIdpMetadata } from './idp-metadata.js';
import type { ServiceProviderOptions } from './service-provider.js';
import { generateSpCredentials, type SpCredentials } from './sp-keys.js';

/** The IdP, as `saml_idp` holds it (JSON). */
export interface SamlIdp {
  /** Where the metadata was fetched from; null when it was pasted as XML. */
  metadataUrl: string | null;
  entityId: string;
  /** The HTTP-Redirect SingleSignOnService URL the AuthnRequest goes to. */
  ssoUrl: string;
  /** PEM signing certificates (more than one ahead of a rollover). */
  certs: string[];
  wantAuthnRequestsSigned: boolean;
  /** When the metadata was read (ms). */
  readAt: number;
}

/** What the admin API shows of a `saml` provider (never the SP's key). */
export interface SamlProviderView {
  idpEntityId: string;
  idpSsoUrl: string;
  idpMetadataUrl: string | null;
  /** Whether this IdP's emails count as verified. */
  emailVerified: boolean;
  spEntityId: string;
  acsUrl: string;
  spMetadataUrl: string;
}

export const samlPaths = (slug: string, idpSlug: string) => {
  const base = `/t/${slug}/federation/${idpSlug}/saml`;
  return { metadata: `${base}/metadata`, acs: `${base}/acs` };
};

/** The SP's URLs for provider `idpSlug` of tenant `slug`. */
export function spUrls(publicUrl: string, slug: string, idpSlug: string) {
  const paths = samlPaths(slug, idpSlug);
  const metadata = `${publicUrl}${paths.metadata}`;
  return { spEntityId: metadata, spMetadataUrl: metadata, acsUrl: `${publicUrl}${paths.acs}` };
}

/** The IdP a row keeps, or undefined for a row of another kind (or one unreadable). */
export function samlIdpOf(row: Pick<IdentityProviderRow, 'kind' | 'saml_idp'>): SamlIdp | undefined {
  if (row.kind !== 'saml' || row.saml_idp === null) return undefined;
  try {
    return JSON.parse(row.saml_idp) as SamlIdp;
  } catch {
    return undefined;
  }
}

/** The admin API's `saml` member of a provider, the SP URLs filled in. */
export function samlView(
  row: Pick<IdentityProviderRow, 'kind' | 'saml_idp' | 'saml_email_verified'>,
  urls: ReturnType<typeof spUrls>,
): SamlProviderView | undefined {
  const idp = samlIdpOf(row);
  if (!idp) return undefined;
  return {
    idpEntityId: idp.entityId,
    idpSsoUrl: idp.ssoUrl,
    idpMetadataUrl: idp.metadataUrl,
    emailVerified: row.saml_email_verified === 1,
    ...urls,
  };
}

/** The fields of a request body that say where an IdP's metadata is. */
export interface SamlMetadataInput {
  samlMetadataUrl?: string | undefined;
  samlMetadataXml?: string | undefined;
}

const oneSource = () =>
  badRequest('validation_failed', 'Invalid body: a saml identity provider needs samlMetadataUrl or samlMetadataXml', [
    {
      in: 'body',
      path: '/samlMetadataUrl',
      message: 'give exactly one of samlMetadataUrl and samlMetadataXml',
      code: 'custom',
    },
  ]);

/** Whether the body names metadata at all (a PATCH that re-reads it). */
export const namesMetadata = (input: SamlMetadataInput) =>
  input.samlMetadataUrl !== undefined || input.samlMetadataXml !== undefined;

/**
 * The IdP from the metadata the body names (exactly one of URL and XML): 400
 * `saml_metadata_invalid` or `saml_metadata_unreachable` when it cannot be used.
 */
export async function readIdpMetadata(
  input: SamlMetadataInput,
  fetchFn?: (url: string, init?: RequestInit) => Promise<Response>,
): Promise<SamlIdp> {
  const { samlMetadataUrl: url, samlMetadataXml: xml } = input;
  if ((url === undefined) === (xml === undefined)) throw oneSource();
  const metadata: IdpMetadata =
    url !== undefined
      ? (await fetchIdpMetadata(url, fetchFn ? { fetch: fetchFn } : {})).metadata
      : parseIdpMetadata(xml ?? '');
  // The AuthnRequest goes out by HTTP-Redirect (signed in the query), the only binding node-saml redirects with.
  if (!metadata.ssoRedirectUrl) {
    throw samlError(
      'saml_metadata_invalid',
      'The IdP metadata is not usable: it has no SingleSignOnService for the HTTP-Redirect binding',
    );
  }
  return {
    metadataUrl: url ?? null,
    entityId: metadata.entityId,
    ssoUrl: metadata.ssoRedirectUrl,
    certs: metadata.signingCerts,
    wantAuthnRequestsSigned: metadata.wantAuthnRequestsSigned,
    readAt: Date.now(),
  };
}

/** New SP credentials for a provider, sealed for `sp_credentials_sealed`. */
export async function sealedSpCredentials(box: SecretBox, tenantSlug: string, idpSlug: string): Promise<string> {
  const credentials = await generateSpCredentials(`Latchkey ${tenantSlug}/${idpSlug}`.slice(0, 64));
  return box.seal(JSON.stringify(credentials));
}

export function openSpCredentials(box: SecretBox, sealed: string): SpCredentials {
  return JSON.parse(box.open(sealed)) as SpCredentials;
}

/** The options of the `SamlServiceProvider` for this provider. */
export function serviceProviderOptions(
  idp: SamlIdp,
  credentials: SpCredentials,
  urls: ReturnType<typeof spUrls>,
): ServiceProviderOptions {
  return {
    spEntityId: urls.spEntityId,
    acsUrl: urls.acsUrl,
    idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certs: idp.certs },
    spPrivateKeyPem: credentials.privateKeyPem,
    spCertPem: credentials.certPem,
  };
}
