/**
 * The identity provider form: its values made of a provider (the write-only client secret and
 * private key start empty, which means "unchanged"), the presets of each kind, the checks the API
 * makes said before sending, and the bodies of a create and of a PATCH that sends only what changed.
 */
import type {
  IdentityProvider,
  IdpAuthMethod,
  IdpClaims,
  IdpEndpoints,
  IdpKind,
  IdpRoleMapping,
} from '../../api/types';
import type { FieldErrorOptions } from '../../components/fieldErrors';

export const IDP_KINDS: readonly IdpKind[] = [
  'oidc',
  'google',
  'microsoft',
  'apple',
  'github',
  'facebook',
  'latchkey',
  'saml',
];

/**
 * Which fields a kind takes (the server refuses the others by name):
 * - oidc, google, microsoft: issuer, client id and secret or private JWK, scopes with openid, claims, roles;
 * - apple: issuer preset, the Services ID as client id, Apple's team id, key id and .p8 key (no secret);
 * - github, facebook: OAuth 2 with a profile API: client id and secret, optional endpoints, no issuer, no claims or roles;
 * - latchkey: another tenant, nothing of a client (Latchkey registers it there);
 * - saml: the IdP's metadata (URL or XML), attribute names through claims, roles; no client.
 */
export interface KindShape {
  issuer: boolean;
  clientId: boolean;
  /** Client secret or private JWK, with the auth method select. */
  clientCredential: boolean;
  /** Scopes asked for, and whether openid must be among them. */
  scopes: boolean;
  openidScope: boolean;
  claims: boolean;
  roles: boolean;
  endpoints: boolean;
  apple: boolean;
  tenant: boolean;
  saml: boolean;
}

const oidcShape: KindShape = {
  issuer: true,
  clientId: true,
  clientCredential: true,
  scopes: true,
  openidScope: true,
  claims: true,
  roles: true,
  endpoints: false,
  apple: false,
  tenant: false,
  saml: false,
};
const oauth2Shape: KindShape = {
  ...oidcShape,
  issuer: false,
  openidScope: false,
  claims: false,
  roles: false,
  endpoints: true,
};

export function kindShape(kind: IdpKind): KindShape {
  switch (kind) {
    case 'github':
    case 'facebook':
      return oauth2Shape;
    case 'apple':
      return { ...oidcShape, clientCredential: false, apple: true };
    case 'latchkey':
      return { ...oidcShape, issuer: false, clientId: false, clientCredential: false, tenant: true };
    case 'saml':
      return {
        ...oidcShape,
        issuer: false,
        clientId: false,
        clientCredential: false,
        scopes: false,
        openidScope: false,
        saml: true,
      };
    default:
      return oidcShape;
  }
}

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
  apple: {
    label: 'Apple',
    issuer: 'https://appleid.apple.com',
    displayName: 'Apple',
    slug: 'apple',
    help: 'In Apple Developer (Certificates, Identifiers & Profiles) create a Services ID with Sign in with Apple, Latchkey’s domain and its redirect URI, and a key for Sign in with Apple: its .p8 file, key id and your team id go here. Latchkey signs its client secret from that key.',
  },
  github: {
    label: 'GitHub',
    issuer: '',
    displayName: 'GitHub',
    slug: 'github',
    help: 'Register an OAuth App in GitHub (Settings → Developer settings → OAuth Apps) with Latchkey’s redirect URI as its callback URL. For GitHub Enterprise Server, give its endpoints below.',
  },
  facebook: {
    label: 'Facebook',
    issuer: '',
    displayName: 'Facebook',
    slug: 'facebook',
    help: 'Create an app in Meta for Developers with Facebook Login, and add Latchkey’s redirect URI to its valid OAuth redirect URIs.',
  },
  latchkey: {
    label: 'Another tenant',
    issuer: '',
    displayName: '',
    slug: '',
    help: 'Sign in through another tenant of this Latchkey: Latchkey registers its own client there, so there is nothing to copy. You need tenant-wide reach in that tenant.',
  },
  saml: {
    label: 'SAML 2.0',
    issuer: '',
    displayName: '',
    slug: '',
    help: 'A SAML 2.0 identity provider (ADFS, Okta, Entra ID…): give its metadata URL or paste its metadata XML; once saved, register Latchkey’s entity id and ACS URL (or its metadata URL) at the IdP.',
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
  /** github, facebook: endpoints of their own (GitHub Enterprise Server) instead of the public service. */
  customEndpoints: boolean;
  endpoints: IdpEndpoints;
  /** apple, write-only: all three empty keep the stored key; any typed replaces the key as a whole. */
  appleTeamId: string;
  appleKeyId: string;
  applePrivateKey: string;
  /** latchkey: the tenant signed in through (fixed once created). */
  tenant: string;
  /** saml: where the metadata comes from; the URL or XML is read again at each save that sends it. */
  samlSource: 'url' | 'xml';
  samlMetadataUrl: string;
  samlMetadataXml: string;
  samlEmailVerified: boolean;
}

const noEndpoints: IdpEndpoints = { authorizationEndpoint: '', tokenEndpoint: '', apiBase: '' };

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
    tokenEndpointAuthMethod:
      kind === 'apple' || kindShape(kind).endpoints ? 'client_secret_post' : 'client_secret_basic',
    scopes: defaultScopesOf(kind),
    allowSignUp: false,
    allowLink: false,
    allowUnlink: true,
    trustEmails: false,
    domains: [],
    claims: { ...DEFAULT_CLAIMS, roles: '' },
    roleMappings: [],
    customEndpoints: false,
    endpoints: { ...noEndpoints },
    appleTeamId: '',
    appleKeyId: '',
    applePrivateKey: '',
    tenant: '',
    samlSource: 'url',
    samlMetadataUrl: '',
    samlMetadataXml: '',
    samlEmailVerified: false,
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
    customEndpoints: Boolean(idp.endpoints),
    endpoints: idp.endpoints ? { ...idp.endpoints } : { ...noEndpoints },
    appleTeamId: '',
    appleKeyId: '',
    applePrivateKey: '',
    tenant: idp.tenant ?? '',
    samlSource: idp.saml && idp.saml.idpMetadataUrl === null ? 'xml' : 'url',
    samlMetadataUrl: idp.saml?.idpMetadataUrl ?? '',
    samlMetadataXml: '',
    samlEmailVerified: idp.saml?.emailVerified ?? false,
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
  const shape = kindShape(kind);
  return {
    ...values,
    kind,
    tokenEndpointAuthMethod:
      kind === 'apple' || (shape.endpoints && values.tokenEndpointAuthMethod === 'private_key_jwt')
        ? 'client_secret_post'
        : values.tokenEndpointAuthMethod,
    scopes: sameList(values.scopes, defaultScopesOf(values.kind)) ? defaultScopesOf(kind) : values.scopes,
    issuer: untouched(values.issuer, before.issuer) ? after.issuer : values.issuer,
    displayName: untouched(values.displayName, before.displayName) ? after.displayName : values.displayName,
    slug: untouched(values.slug, before.slug) ? after.slug : values.slug,
  };
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The scopes a new provider of the kind starts with (the server's defaults). */
export function defaultScopesOf(kind: IdpKind): string[] {
  if (kind === 'github') return ['read:user', 'user:email'];
  if (kind === 'facebook') return ['email', 'public_profile'];
  if (kind === 'apple') return ['openid', 'email', 'name'];
  return [...DEFAULT_SCOPES];
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
  /** apple: a key is stored (then the three key fields may stay empty). */
  appleKeySet?: boolean;
  /** saml: the stored metadata was pasted (then an empty XML field keeps it). */
  samlFromXml?: boolean;
}

/** Apple's key: all three or none (none keeps the stored key); the ids are 10 of A-Z and 0-9. */
function appleKeyProblems(v: IdpFormValues, keySet: boolean): Record<string, string> {
  const errors: Record<string, string> = {};
  const team = v.appleTeamId.trim();
  const key = v.appleKeyId.trim();
  const pem = v.applePrivateKey.trim();
  if (!team && !key && !pem && keySet) return errors;
  const tenChars = /^[A-Z0-9]{10}$/;
  if (!tenChars.test(team))
    errors.appleTeamId = 'The 10-character team id, like A1B2C3D4E5 (top right in Apple Developer)';
  if (!tenChars.test(key)) errors.appleKeyId = 'The 10-character key id of the Sign in with Apple key';
  if (!pem) errors.applePrivateKey = 'Paste the .p8 file, -----BEGIN PRIVATE KEY----- and all';
  else if (!/-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----/.test(pem)) {
    errors.applePrivateKey = 'The .p8 file as it is: -----BEGIN PRIVATE KEY----- … -----END PRIVATE KEY-----';
  } else if (pem.length > 8192) errors.applePrivateKey = 'At most 8,192 characters';
  return errors;
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
  const shape = kindShape(v.kind);
  if (shape.issuer) {
    const issuer = issuerProblem(v.issuer);
    if (issuer) errors.issuer = issuer;
  }
  if (shape.clientId) {
    const clientId = v.clientId.trim();
    if (!clientId) {
      errors.clientId =
        v.kind === 'apple' ? 'The Services ID, like com.acme.signin' : 'The client id the provider gave Latchkey';
    } else if (clientId.length > 500) errors.clientId = 'At most 500 characters';
  }

  if (shape.clientCredential && v.tokenEndpointAuthMethod === 'private_key_jwt') {
    const jwk = parsePrivateJwk(v.privateKeyJwk);
    if (!jwk.ok) errors.privateKeyJwk = jwk.error;
    else if (jwk.value === null && !ctx.privateKeySet) errors.privateKeyJwk = 'Paste the private key (a JWK)';
  } else if (shape.clientCredential) {
    if (!v.clientSecret && !ctx.clientSecretSet) errors.clientSecret = 'The client secret the provider gave Latchkey';
    else if (v.clientSecret.length > 4096) errors.clientSecret = 'At most 4,096 characters';
  }

  if (shape.endpoints && v.customEndpoints) {
    for (const field of ['authorizationEndpoint', 'tokenEndpoint', 'apiBase'] as const) {
      const problem = issuerProblem(v.endpoints[field]);
      if (problem)
        errors[`endpoints.${field}`] = v.endpoints[field].trim()
          ? problem
          : 'A full URL, like https://github.acme.com/login/oauth/authorize';
    }
  }

  if (shape.apple) Object.assign(errors, appleKeyProblems(v, ctx.appleKeySet ?? false));

  if (shape.tenant && !SLUG_PATTERN.test(v.tenant.trim())) errors.tenant = 'Pick the tenant to sign in through';

  if (shape.saml) {
    if (v.samlSource === 'url') {
      const url = v.samlMetadataUrl.trim();
      const problem = iconUrlProblem(url);
      if (!url) {
        if (ctx.creating || !ctx.samlFromXml)
          errors.samlMetadataUrl = 'The IdP’s metadata URL, like https://idp.acme.com/saml/metadata';
      } else if (problem)
        errors.samlMetadataUrl = problem.replace('cdn.example.com/logo.svg', 'idp.acme.com/saml/metadata');
    } else if (!v.samlMetadataXml.trim()) {
      if (ctx.creating || !ctx.samlFromXml)
        errors.samlMetadataXml = 'Paste the IdP’s metadata (an md:EntityDescriptor)';
    } else if (!v.samlMetadataXml.includes('EntityDescriptor')) {
      errors.samlMetadataXml = 'Not SAML metadata: it has an md:EntityDescriptor';
    } else if (new Blob([v.samlMetadataXml]).size > 512 * 1024) errors.samlMetadataXml = 'At most 512 KiB';
  }

  if (shape.scopes) {
    if (shape.openidScope && !v.scopes.includes('openid')) errors.scopes = 'openid is needed: it asks for the ID token';
    else if (v.scopes.length === 0) errors.scopes = 'At least one scope';
    else if (v.scopes.length > 50) errors.scopes = 'At most 50 scopes';
    else if (v.scopes.some((s) => /[\s"\\]/.test(s))) errors.scopes = 'No spaces, quotes or backslashes in a scope';
  }

  const badDomain = v.domains.find((d) => !DOMAIN_PATTERN.test(d));
  if (badDomain !== undefined) errors.domains = `${badDomain} is not a domain name like acme.com (lowercase, no @)`;
  else if (new Set(v.domains).size !== v.domains.length) errors.domains = 'A domain is listed twice';
  if (!shape.claims) return errors;

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

const endpointsBody = (e: IdpEndpoints): IdpEndpoints => ({
  authorizationEndpoint: e.authorizationEndpoint.trim(),
  tokenEndpoint: e.tokenEndpoint.trim(),
  apiBase: e.apiBase.trim(),
});

/** Apple's key when any of its fields was typed (the server takes the three together). */
function appleKeyBody(v: IdpFormValues): Record<string, unknown> {
  if (!v.appleTeamId.trim() && !v.appleKeyId.trim() && !v.applePrivateKey.trim()) return {};
  return {
    appleTeamId: v.appleTeamId.trim(),
    appleKeyId: v.appleKeyId.trim(),
    applePrivateKey: v.applePrivateKey.trim(),
  };
}

/** The metadata of the chosen source, when given (read by the server at the save). */
function samlMetadataBody(v: IdpFormValues): Record<string, unknown> {
  if (v.samlSource === 'url') return v.samlMetadataUrl.trim() ? { samlMetadataUrl: v.samlMetadataUrl.trim() } : {};
  return v.samlMetadataXml.trim() ? { samlMetadataXml: v.samlMetadataXml.trim() } : {};
}

/** A create's body: the common fields and only those of its kind (the server refuses the others). */
export function createIdpBody(v: IdpFormValues): Record<string, unknown> {
  const shape = kindShape(v.kind);
  const body: Record<string, unknown> = {
    slug: v.slug.trim(),
    kind: v.kind,
    displayName: v.displayName.trim(),
    buttonText: trimmedOrNull(v.buttonText),
    iconUrl: trimmedOrNull(v.iconUrl),
    enabled: v.enabled,
  };
  if (shape.issuer) body.issuer = v.issuer.trim();
  if (shape.clientId) body.clientId = v.clientId.trim();
  if (shape.clientCredential) {
    Object.assign(body, credentialBody(v));
    body.tokenEndpointAuthMethod = v.tokenEndpointAuthMethod;
  }
  if (shape.scopes) body.scopes = v.scopes;
  Object.assign(body, {
    allowSignUp: v.allowSignUp,
    allowLink: v.allowLink,
    allowUnlink: v.allowUnlink,
    trustEmails: v.trustEmails,
    domains: v.domains,
  });
  if (shape.claims) body.claims = claimsBody(v.claims);
  if (shape.roles) body.roleMappings = mappingsBody(v.roleMappings);
  if (shape.endpoints && v.customEndpoints) body.endpoints = endpointsBody(v.endpoints);
  if (shape.apple) Object.assign(body, appleKeyBody(v));
  if (shape.tenant) body.tenant = v.tenant.trim();
  if (shape.saml) Object.assign(body, samlMetadataBody(v), { samlEmailVerified: v.samlEmailVerified });
  return body;
}

/**
 * What changed since `initial` (the kind never does). An empty secret or key field sends
 * nothing: the stored one stays.
 */
export function patchIdpBody(initial: IdpFormValues, v: IdpFormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const shape = kindShape(initial.kind);
  const text = (field: 'slug' | 'displayName' | 'issuer' | 'clientId') => {
    if (v[field].trim() !== initial[field].trim()) body[field] = v[field].trim();
  };
  text('slug');
  text('displayName');
  if (shape.issuer) text('issuer');
  if (shape.clientId) text('clientId');
  for (const field of ['buttonText', 'iconUrl'] as const) {
    if (trimmedOrNull(v[field]) !== trimmedOrNull(initial[field])) body[field] = trimmedOrNull(v[field]);
  }
  for (const field of ['enabled', 'allowSignUp', 'allowLink', 'allowUnlink', 'trustEmails'] as const) {
    if (v[field] !== initial[field]) body[field] = v[field];
  }
  if (shape.clientCredential) {
    if (v.tokenEndpointAuthMethod !== initial.tokenEndpointAuthMethod) {
      body.tokenEndpointAuthMethod = v.tokenEndpointAuthMethod;
    }
    Object.assign(body, credentialBody(v));
  }
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (shape.scopes && !same(v.scopes, initial.scopes)) body.scopes = v.scopes;
  if (!same(v.domains, initial.domains)) body.domains = v.domains;
  if (shape.claims && !same(claimsBody(v.claims), claimsBody(initial.claims))) body.claims = claimsBody(v.claims);
  if (shape.roles && !same(mappingsBody(v.roleMappings), mappingsBody(initial.roleMappings))) {
    body.roleMappings = mappingsBody(v.roleMappings);
  }
  if (shape.endpoints) {
    const now = v.customEndpoints ? endpointsBody(v.endpoints) : null;
    const before = initial.customEndpoints ? endpointsBody(initial.endpoints) : null;
    if (!same(now, before)) body.endpoints = now;
  }
  if (shape.apple) Object.assign(body, appleKeyBody(v));
  if (shape.saml) {
    const metadata = samlMetadataBody(v);
    const changed =
      v.samlSource !== initial.samlSource ||
      (v.samlSource === 'url'
        ? v.samlMetadataUrl.trim() !== initial.samlMetadataUrl.trim()
        : 'samlMetadataXml' in metadata);
    if (changed) Object.assign(body, metadata);
    if (v.samlEmailVerified !== initial.samlEmailVerified) body.samlEmailVerified = v.samlEmailVerified;
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
    'endpoints.authorizationEndpoint',
    'endpoints.tokenEndpoint',
    'endpoints.apiBase',
    'appleTeamId',
    'appleKeyId',
    'applePrivateKey',
    'tenant',
    'samlMetadataUrl',
    'samlMetadataXml',
    'samlEmailVerified',
  ];
  for (let i = 0; i < mappingCount; i++) fields.push(`roleMappings.${i}.upstream`, `roleMappings.${i}.role`);
  return fields;
}

export function idpErrorOptions(mappingCount: number, samlSource: 'url' | 'xml' = 'url'): FieldErrorOptions {
  const metadata = samlSource === 'url' ? 'samlMetadataUrl' : 'samlMetadataXml';
  return {
    fields: idpFormFields(mappingCount),
    codes: {
      identity_provider_slug_taken: 'slug',
      identity_provider_domain_taken: 'domains',
      saml_metadata_invalid: metadata,
      saml_metadata_unreachable: metadata,
    },
  };
}
