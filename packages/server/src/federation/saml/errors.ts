/**
 * The errors of the SAML service provider: one `SamlError` (an `AppError`, so the HTTP layer
 * answers it like any other 400) whose `code` is one of the stable codes below. The sign-in
 * routes show them on the error page; the admin API returns the metadata ones.
 */
import { AppError } from '../../http/errors.js';

export const samlErrorCodes = [
  /** IdP metadata XML that is not usable: not XML, a DTD or entities, too large, wrong root, no SSO URL or certificate. */
  'saml_metadata_invalid',
  /** The metadata URL did not answer in time, answered an error status or redirected too often. */
  'saml_metadata_unreachable',
  /** No signature of the IdP's certificates covers the assertion (or the whole response). */
  'saml_signature_invalid',
  /** The assertion's AudienceRestriction does not name this service provider. */
  'saml_audience_mismatch',
  /** The assertion is outside its validity window (NotBefore / NotOnOrAfter, with the clock skew). */
  'saml_expired',
  /** The response answers another AuthnRequest than the one this browser started (or none). */
  'saml_in_response_to_mismatch',
  /** Anything else wrong with the response: not a Response, wrong Destination, Recipient or Issuer, an error status. */
  'saml_response_invalid',
] as const;

export type SamlErrorCode = (typeof samlErrorCodes)[number];

export class SamlError extends AppError {
  override name = 'SamlError';
  constructor(
    override readonly code: SamlErrorCode,
    message: string,
    details?: unknown,
  ) {
    super(400, code, message, details);
  }
}

export const samlError = (code: SamlErrorCode, message: string, details?: unknown) =>
  new SamlError(code, message, details);
