/**
 * The identity provider form: its values made of a provider (the write-only client secret and
 * private key start empty, which means "unchanged"), the presets of each kind, the checks the API
 * makes said before sending, and the bodies of a create and of a PATCH that sends only what changed.
 */
import type { IdentityProvider, IdpAuthMethod, IdpClaims, IdpKind, IdpRoleMapping } from '../../api/types';
import type { FieldErrorOptions } from '../../components/fieldErrors';

export const IDP_KINDS: readonly IdpKind[] = ['oidc', 'google', 'microsoft'];

export interface KindPreset {
  label: string;
  /** The issuer filled in when the kind is picked ('' for plain OpenID Connect). */
  issuer: string;
  /** The display name and slug suggested for it. */
  displayName: string;
  slug: string;
  /** Where the admin registers Latchkey as a client, and what to know about the issuer. */
  help: string;
}

export const KIND_PRESETS: Record<IdpKind, KindPreset> = {
  oidc: {
    label: 'OpenID Connect',
    issuer: '',
    displayName: '',
    slug: '',
    help: 'Any OpenID Connect provider (Okta, Auth0, Keycloak, another Latchkey…): its issuer URL is enough, the rest comes from its discovery document.',
  },
  google: {
    label: 'Google',
    issuer: 'https://accounts.google.com',
    displayName: 'Google',
    slug: 'google',
    help: 'Create an OAuth client of type "Web application" in the Google Cloud console (APIs & Services → Credentials) and add Latchkey’s redirect URI to it.',
  },
  microsoft: {
    label: 'Microsoft',
    issuer: 'https://login.microsoftonline.com/common/v2.0',
    displayName: 'Microsoft',
    slug: 'microsoft',
    help: 'Register an application in Microsoft Entra ID (App registrations) with Latchkey’s redirect URI (a Web platform). The issuer’s common accepts any Microsoft account; put your directory (tenant) id, or organizations, in its place to limit who can sign in.',
  },
};

export const AUTH_METHODS: { value: IdpAuthMethod; label: string }[] = [
  { value: 'client_secret_basic', label: 'Client secret, HTTP Basic (most providers)' },
  { value: 'client_secret_post', label: 'Client secret in the form body' },
  { value: 'private_key_jwt', label: 'Private key JWT (a signed assertion, no shared secret)' },
];

export const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
export const DEFAULT_CLAIMS: IdpClaims = { email: 'email', emailVerified: 'email_verified', name: 'name', roles: null };

export interface RoleMappingRow extends IdpRoleMapping {
  /** Stable React key; not sent. */
  key: string;
}

export interface IdpFormValues {
  kind: IdpKind;
  slug: string;
  displayName: string;
  buttonText: string;
  iconUrl: string;
  enabled: boolean;
  issuer: string;
  clientId: string;
  /** Write-only: empty keeps the secret it has (or sets none). */
  clientSecret: string;
  /** Write-only, a private JWK as JSON text: empty keeps the key it has. */
  privateKeyJwk: string;
  tokenEndpointAuthMethod: IdpAuthMethod;
  scopes: string[];
  allowSignUp: boolean;
  allowLink: boolean;
  allowUnlink: boolean;
  trustEmails: boolean;
  domains: string[];
  /** `roles` '' maps no roles (null in the API). */
  claims: { email: string; emailVerified: string; name: string; roles: string };
  roleMappings: RoleMappingRow[];
}

let nextKey = 0;
export function roleMappingRow(upstream = '', role = ''): RoleMappingRow {
  nextKey += 1;
  return { key: `mapping-${nextKey}`, upstream, role };
}

export function emptyIdpForm(kind: IdpKind = 'oidc'): IdpFormValues {
  const preset = KIND_PRESETS[kind];
  return {
    kind,
    slug: preset.slug,
    displayName: preset.displayName,
    buttonText: '',
    iconUrl: '',
    enabled: true,
    issuer: preset.issuer,
    clientId: '',
    clientSecret: '',
    privateKeyJwk: '',
    tokenEndpointAuthMethod: 'client_secret_basic',
    scopes: [...DEFAULT_SCOPES],
    allowSignUp: false,
    allowLink: false,
    allowUnlink: true,
    trustEmails: false,
    domains: [],
    claims: { ...DEFAULT_CLAIMS, roles: '' },
    roleMappings: [],
  };
}

export function idpToForm(idp: IdentityProvider): IdpFormValues {
  return {
    kind: idp.kind,
    slug: idp.slug,
    displayName: idp.displayName,
    buttonText: idp.buttonText ?? '',
    iconUrl: idp.iconUrl ?? '',
    enabled: idp.enabled,
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: '',
    privateKeyJwk: '',
    tokenEndpointAuthMethod: idp.tokenEndpointAuthMethod,
    scopes: [...idp.scopes],
    allowSignUp: idp.allowSignUp,
    allowLink: idp.allowLink,
    allowUnlink: idp.allowUnlink,
    trustEmails: idp.trustEmails,
    domains: [...idp.domains],
    claims: { ...idp.claims, roles: idp.claims.roles ?? '' },
    roleMappings: idp.roleMappings.map((m) => roleMappingRow(m.upstream, m.role)),
  };
}

/**
 * Another kind picked on the create form: its preset issuer, display name and slug replace what
 * the previous kind's preset filled in (or nothing), never what the admin typed.
 */
export function withKind(values: IdpFormValues, kind: IdpKind): IdpFormValues {
  const before = KIND_PRESETS[values.kind];
  const after = KIND_PRESETS[kind];
  const untouched = (value: string, preset: string) => value.trim() === '' || value === preset;
  return {
    ...values,
    kind,
    issuer: untouched(values.issuer, before.issuer) ? after.issuer : values.issuer,
    displayName: untouched(values.displayName, before.displayName) ? after.displayName : values.displayName,
    slug: untouched(values.slug, before.slug) ? after.slug : values.slug,
  };
}

/** The redirect URI to register at the upstream provider: `{PUBLIC_URL}/t/{slug}/federation/{idpSlug}/callback`. */
export function federationRedirectUri(publicUrl: string, tenantSlug: string, idpSlug: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/t/${tenantSlug}/federation/${idpSlug}/callback`;
}

export const SLUG_PATTERN = /^[a-z0-9-]{1,40}$/;
const DOMAIN_PATTERN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
const isLocalHost = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

/** https (http on localhost, for a provider on the same machine); no fragment, query or credentials. */
export function issuerProblem(raw: string): string | null {
  const v = raw.trim();
  if (!v) return 'The issuer URL of the provider, like https://idp.example.com';
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'A full URL like https://idp.example.com';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url.hostname))) {
    return 'https, or http on localhost and 127.0.0.1';
  }
  if (url.hash || v.includes('#') || url.search) return 'No query or fragment';
  if (url.username || url.password) return 'No user name or password in the URL';
  if (v.length > 2048) return 'At most 2,048 characters';
  return null;
}

export function iconUrlProblem(raw: string): string | null {
  const v = raw.trim();
  if (!v) return null;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'A full URL like https://cdn.example.com/logo.svg';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url.hostname))) {
    return 'https, or http on localhost and 127.0.0.1';
  }
  if (v.length > 2048) return 'At most 2,048 characters';
  return null;
}

/** A private JWK as JSON text: an object with `kty` and the private part `d`; '' is none. */
export function parsePrivateJwk(
  raw: string,
): { ok: true; value: Record<string, unknown> | null } | { ok: false; error: string } {
  const v = raw.trim();
  if (!v) return { ok: true, value: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return { ok: false, error: 'Not valid JSON: paste the private key as a JWK, {"kty": …, "d": …}' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: 'A JSON object: the private key as a JWK' };
  }
  const jwk = parsed as Record<string, unknown>;
  if (typeof jwk.kty !== 'string') return { ok: false, error: 'A JWK has a kty (RSA, EC or OKP)' };
  if (typeof jwk.d !== 'string') return { ok: false, error: 'That is a public key: the private key has a d' };
  return { ok: true, value: jwk };
}

export interface IdpValidationContext {
  creating: boolean;
  /** What the provider has stored (false while creating). */
  clientSecretSet: boolean;
  privateKeySet: boolean;
}

/** Field path → message, for every problem the form can see before sending. */
export function validateIdpForm(v: IdpFormValues, ctx: IdpValidationContext): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!SLUG_PATTERN.test(v.slug.trim())) {
    errors.slug = 'Lowercase letters, digits and dashes, at most 40 (it is part of the redirect URI)';
  }
  const name = v.displayName.trim();
  if (!name) errors.displayName = 'Give the provider a name, like Acme SSO';
  else if (name.length > 200) errors.displayName = 'At most 200 characters';
  if (v.buttonText.trim().length > 100) errors.buttonText = 'At most 100 characters';
  const icon = iconUrlProblem(v.iconUrl);
  if (icon) errors.iconUrl = icon;
  const issuer = issuerProblem(v.issuer);
  if (issuer) errors.issuer = issuer;
  const clientId = v.clientId.trim();
  if (!clientId) errors.clientId = 'The client id the provider gave Latchkey';
  else if (clientId.length > 500) errors.clientId = 'At most 500 characters';

  if (v.tokenEndpointAuthMethod === 'private_key_jwt') {
    const jwk = parsePrivateJwk(v.privateKeyJwk);
    if (!jwk.ok) errors.privateKeyJwk = jwk.error;
    else if (jwk.value === null && !ctx.privateKeySet) errors.privateKeyJwk = 'Paste the private key (a JWK)';
  } else {
    if (!v.clientSecret && !ctx.clientSecretSet) errors.clientSecret = 'The client secret the provider gave Latchkey';
    else if (v.clientSecret.length > 4096) errors.clientSecret = 'At most 4,096 characters';
  }

  if (!v.scopes.includes('openid')) errors.scopes = 'openid is needed: it asks for the ID token';
  else if (v.scopes.length > 50) errors.scopes = 'At most 50 scopes';
  else if (v.scopes.some((s) => /[\s"\\]/.test(s))) errors.scopes = 'No spaces, quotes or backslashes in a scope';

  const badDomain = v.domains.find((d) => !DOMAIN_PATTERN.test(d));
  if (badDomain !== undefined) errors.domains = `${badDomain} is not a domain name like acme.com (lowercase, no @)`;
  else if (new Set(v.domains).size !== v.domains.length) errors.domains = 'A domain is listed twice';

  for (const field of ['email', 'emailVerified', 'name'] as const) {
    const claim = v.claims[field].trim();
    if (!claim) errors[`claims.${field}`] = 'A claim name, like email';
    else if (claim.length > 200) errors[`claims.${field}`] = 'At most 200 characters';
  }
  const rolesClaim = v.claims.roles.trim();
  if (rolesClaim.length > 200) errors['claims.roles'] = 'At most 200 characters';
  if (v.roleMappings.length > 0 && !rolesClaim) {
    errors['claims.roles'] = 'Role mappings need the claim that carries the upstream groups or roles';
  }
  const seen = new Set<string>();
  v.roleMappings.forEach((m, i) => {
    const upstream = m.upstream.trim();
    if (!upstream) errors[`roleMappings.${i}.upstream`] = 'An upstream group or role, like admins';
    else if (upstream.length > 500) errors[`roleMappings.${i}.upstream`] = 'At most 500 characters';
    if (!m.role) errors[`roleMappings.${i}.role`] = 'Pick a role';
    const pair = `${upstream}\u0000${m.role}`;
    if (upstream && m.role && seen.has(pair)) errors[`roleMappings.${i}.upstream`] = 'This mapping is listed twice';
    seen.add(pair);
  });
  if (v.roleMappings.length > 200) errors.roleMappings = 'At most 200 mappings';
  return errors;
}

const trimmedOrNull = (s: string) => (s.trim() === '' ? null : s.trim());
const claimsBody = (c: IdpFormValues['claims']): IdpClaims => ({
  email: c.email.trim(),
  emailVerified: c.emailVerified.trim(),
  name: c.name.trim(),
  roles: trimmedOrNull(c.roles),
});
const mappingsBody = (rows: RoleMappingRow[]): IdpRoleMapping[] =>
  rows.map((m) => ({ upstream: m.upstream.trim(), role: m.role }));

/** The write-only credential of the auth method, when one was typed. */
function credentialBody(v: IdpFormValues): Record<string, unknown> {
  if (v.tokenEndpointAuthMethod === 'private_key_jwt') {
    const jwk = parsePrivateJwk(v.privateKeyJwk);
    return jwk.ok && jwk.value ? { privateKeyJwk: jwk.value } : {};
  }
  return v.clientSecret ? { clientSecret: v.clientSecret } : {};
}

export function createIdpBody(v: IdpFormValues): Record<string, unknown> {
  return {
    slug: v.slug.trim(),
    kind: v.kind,
    displayName: v.displayName.trim(),
    buttonText: trimmedOrNull(v.buttonText),
    iconUrl: trimmedOrNull(v.iconUrl),
    enabled: v.enabled,
    issuer: v.issuer.trim(),
    clientId: v.clientId.trim(),
    ...credentialBody(v),
    tokenEndpointAuthMethod: v.tokenEndpointAuthMethod,
    scopes: v.scopes,
    allowSignUp: v.allowSignUp,
    allowLink: v.allowLink,
    allowUnlink: v.allowUnlink,
    trustEmails: v.trustEmails,
    domains: v.domains,
    claims: claimsBody(v.claims),
    roleMappings: mappingsBody(v.roleMappings),
  };
}

/**
 * What changed since `initial` (the kind never does). An empty secret or key field sends
 * nothing: the stored one stays.
 */
export function patchIdpBody(initial: IdpFormValues, v: IdpFormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const text = (field: 'slug' | 'displayName' | 'issuer' | 'clientId') => {
    if (v[field].trim() !== initial[field].trim()) body[field] = v[field].trim();
  };
  text('slug');
  text('displayName');
  text('issuer');
  text('clientId');
  for (const field of ['buttonText', 'iconUrl'] as const) {
    if (trimmedOrNull(v[field]) !== trimmedOrNull(initial[field])) body[field] = trimmedOrNull(v[field]);
  }
  for (const field of ['enabled', 'allowSignUp', 'allowLink', 'allowUnlink', 'trustEmails'] as const) {
    if (v[field] !== initial[field]) body[field] = v[field];
  }
  if (v.tokenEndpointAuthMethod !== initial.tokenEndpointAuthMethod) {
    body.tokenEndpointAuthMethod = v.tokenEndpointAuthMethod;
  }
  Object.assign(body, credentialBody(v));
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(v.scopes, initial.scopes)) body.scopes = v.scopes;
  if (!same(v.domains, initial.domains)) body.domains = v.domains;
  if (!same(claimsBody(v.claims), claimsBody(initial.claims))) body.claims = claimsBody(v.claims);
  if (!same(mappingsBody(v.roleMappings), mappingsBody(initial.roleMappings))) {
    body.roleMappings = mappingsBody(v.roleMappings);
  }
  return body;
}

/** Form paths API errors may name, for the current number of role mapping rows. */
export function idpFormFields(mappingCount: number): string[] {
  const fields = [
    'slug',
    'kind',
    'displayName',
    'buttonText',
    'iconUrl',
    'enabled',
    'issuer',
    'clientId',
    'clientSecret',
    'privateKeyJwk',
    'tokenEndpointAuthMethod',
    'scopes',
    'allowSignUp',
    'allowLink',
    'allowUnlink',
    'trustEmails',
    'domains',
    'claims.email',
    'claims.emailVerified',
    'claims.name',
    'claims.roles',
    'roleMappings',
  ];
  for (let i = 0; i < mappingCount; i++) fields.push(`roleMappings.${i}.upstream`, `roleMappings.${i}.role`);
  return fields;
}

export function idpErrorOptions(mappingCount: number): FieldErrorOptions {
  return {
    fields: idpFormFields(mappingCount),
    codes: { identity_provider_slug_taken: 'slug', identity_provider_domain_taken: 'domains' },
  };
}
