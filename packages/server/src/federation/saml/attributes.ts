/**
 * SAML attributes → the profile Latchkey keeps: email, emailVerified, name, groups. Each is
 * read from the first of a list of attribute names that the assertion carries; the defaults
 * cover the names IdPs send out of the box (the LDAP/eduPerson OIDs of SAML2 attribute
 * profiles, the WS-Federation claim URIs of Entra ID and AD FS, the plain names of Okta,
 * Google and Keycloak). A provider's settings replace any of the lists.
 *
 * SAML has no "email verified" flag: whether the IdP's emails are to be believed is the
 * provider's `emailVerified` setting, false unless the admin says so, and it only counts
 * when an email arrived at all.
 */
import type { SamlAssertion } from './service-provider.js';

export interface SamlAttributeSettings {
  /** Attribute names that give the email; the NameID is the fallback when its Format is emailAddress. */
  email?: string | string[];
  /** Attribute names that give the display name; given name + surname are the fallback. */
  name?: string | string[];
  /** Attribute names whose values are group (or role) names, all of them collected. */
  groups?: string | string[];
  /** Whether this provider's emails count as verified (SAML carries no such flag). */
  emailVerified?: boolean;
}

export interface SamlProfile {
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  groups: string[];
}

const claims = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
const msClaims = 'http://schemas.microsoft.com/ws/2008/06/identity/claims';

export const defaultAttributeNames = {
  email: [
    'urn:oid:0.9.2342.19200300.100.1.3', // mail
    `${claims}/emailaddress`,
    'http://schemas.xmlsoap.org/claims/EmailAddress',
    'email',
    'mail',
    'emailAddress',
    'Email',
  ],
  name: [
    'urn:oid:2.16.840.1.113730.3.1.241', // displayName
    'http://schemas.microsoft.com/identity/claims/displayname',
    'displayName',
    'name',
    'urn:oid:2.5.4.3', // cn
    'cn',
  ],
  givenName: ['urn:oid:2.5.4.42', `${claims}/givenname`, 'givenName', 'firstName', 'given_name'],
  surname: ['urn:oid:2.5.4.4', `${claims}/surname`, 'sn', 'surname', 'lastName', 'family_name'],
  groups: [
    `${msClaims}/groups`,
    `${msClaims}/role`,
    'http://schemas.xmlsoap.org/claims/Group',
    'urn:oid:1.3.6.1.4.1.5923.1.5.1.1', // isMemberOf
    'groups',
    'memberOf',
    'roles',
  ],
} as const;

const emailFormat = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
/** A plausible address: one @, something either side, no spaces; the users service normalizes it. */
const emailShape = /^[^\s@]+@[^\s@]+$/;

const list = (names: string | readonly string[] | undefined, fallback: readonly string[]): readonly string[] =>
  names === undefined ? fallback : typeof names === 'string' ? [names] : names;

/** The values of attribute `name`; own properties only, so a configured `constructor` is just a name. */
const valuesOf = (attributes: Record<string, string[]>, name: string): string[] =>
  Object.hasOwn(attributes, name) ? (attributes[name] ?? []) : [];

function first(attributes: Record<string, string[]>, names: readonly string[]): string | null {
  for (const name of names) {
    for (const value of valuesOf(attributes, name)) {
      const trimmed = value.trim();
      if (trimmed) return trimmed;
    }
  }
  return null;
}

/** The profile of a validated assertion, by the provider's attribute settings. */
export function mapSamlAttributes(
  assertion: Pick<SamlAssertion, 'nameId' | 'nameIdFormat' | 'attributes'>,
  settings: SamlAttributeSettings = {},
): SamlProfile {
  const { attributes } = assertion;
  let email = first(attributes, list(settings.email, defaultAttributeNames.email));
  if (email === null && assertion.nameIdFormat === emailFormat) email = assertion.nameId.trim();
  if (email !== null && (!emailShape.test(email) || email.length > 320)) email = null;

  let name = first(attributes, list(settings.name, defaultAttributeNames.name));
  if (name === null) {
    const parts = [
      first(attributes, defaultAttributeNames.givenName),
      first(attributes, defaultAttributeNames.surname),
    ];
    name = parts.filter((p) => p !== null).join(' ') || null;
  }

  const groups: string[] = [];
  for (const attribute of list(settings.groups, defaultAttributeNames.groups)) {
    for (const value of valuesOf(attributes, attribute)) {
      const trimmed = value.trim();
      if (trimmed && !groups.includes(trimmed)) groups.push(trimmed);
    }
  }
  return { email, emailVerified: email !== null && settings.emailVerified === true, name, groups };
}
