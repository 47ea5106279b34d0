/**
 * The admin API's shapes for identity providers and users' identities (issue 13): request
 * bodies (strict: an unknown field is a 400), the response shapes, and the presets that
 * `google` and `microsoft` fill in. The client secret and the private JWK are write-only:
 * requests may carry them, responses only say whether one is set. The fields of the kinds
 * `github`, `facebook`, `apple` and `latchkey`, and which kind takes which, are in
 * kinds/settings.ts; kind `saml` takes the `saml…` fields (saml/config.ts).
 */
import { z } from 'zod';
import { isAllowedRedirectUri } from '../clients/service.js';
import { idPattern } from '../ids.js';
import { roleNameSchema } from '../roles/service.js';
import { kindFields, kindResponseFields } from './kinds/settings.js';
import { isAllowedIdpUrl, maxMetadataBytes } from './saml/idp-metadata.js';

export const idpKinds = ['oidc', 'google', 'microsoft', 'github', 'facebook', 'apple', 'latchkey', 'saml'] as const;
export type IdpKind = (typeof idpKinds)[number];

export const tokenEndpointAuthMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type TokenEndpointAuthMethod = (typeof tokenEndpointAuthMethods)[number];

/** The issuer a preset signs in with unless the admin names another (Entra: a tenant id or `organizations` for `common`). */
export const presetIssuers: Record<'google' | 'microsoft', string> = {
  google: 'https://accounts.google.com',
  microsoft: 'https://login.microsoftonline.com/common/v2.0',
};

export const defaultScopes = ['openid', 'email', 'profile'];
export const defaultClaims = { email: 'email', emailVerified: 'email_verified', name: 'name', roles: null };

export const identityProviderIdSchema = z
  .string()
  .regex(idPattern('identityProvider'), 'must be an identity provider id (idp_…)');
export const identityIdSchema = z.string().regex(idPattern('identity'), 'must be an identity id (ident_…)');

/** An issuer as discovery needs it: https (http only on localhost/127.0.0.1), no query or fragment. */
export function isAllowedIssuer(value: string): boolean {
  return isAllowedRedirectUri(value) && !new URL(value).search && !value.includes('?');
}

const hostname = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const claimName = z.string().trim().min(1).max(200);

/** A provider's name in its tenant (sign-in and callback URLs, import lines). */
export const idpSlugSchema = z.string().regex(/^[a-z0-9-]{1,40}$/, 'must be 1 to 40 of a-z, 0-9 and -');

const fields = {
  slug: idpSlugSchema.describe('Unique in the tenant; names the provider in the sign-in and callback URLs'),
  kind: z
    .enum(idpKinds)
    .describe(
      '`oidc` (any OpenID Connect provider), a preset (`google`, `microsoft`, `apple`), OAuth 2 with a profile API (`github`, `facebook`), `latchkey` (another tenant of this Latchkey), or `saml` (a SAML 2.0 IdP)',
    ),
  displayName: z.string().trim().min(1).max(200),
  buttonText: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .nullable()
    .describe('The sign-in button (null: "Sign in with" and the display name)'),
  iconUrl: z
    .string()
    .max(2048)
    .refine(isAllowedRedirectUri, { message: 'must be https, or http on localhost/127.0.0.1, without a fragment' })
    .nullable(),
  enabled: z.boolean().describe('A disabled provider shows no button and signs no one in'),
  issuer: z
    .string()
    .max(2048)
    .refine(isAllowedIssuer, { message: 'must be https (http only on localhost/127.0.0.1), without query or fragment' })
    .describe('The OpenID Connect issuer (discovery at its /.well-known/openid-configuration); presets default it'),
  clientId: z.string().trim().min(1).max(500).describe("Latchkey's client id at the provider"),
  clientSecret: z
    .string()
    .min(1)
    .max(4096)
    .nullable()
    .describe('Write-only: sealed with the instance secret, never returned (null removes it)'),
  privateKeyJwk: z
    .looseObject({
      kty: z.enum(['RSA', 'EC', 'OKP']),
      d: z.string().min(1).max(8192).describe('The private part: a public key is refused'),
    })
    .refine((jwk) => JSON.stringify(jwk).length <= 16_384, { message: 'must be at most 16 KiB of JSON' })
    .nullable()
    .describe('Write-only: a private JWK for private_key_jwt, sealed and never returned (null removes it)'),
  tokenEndpointAuthMethod: z.enum(tokenEndpointAuthMethods),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/, 'must be a scope token'))
    .min(1)
    .max(50)
    .transform((s) => [...new Set(s)])
    .describe('OpenID Connect kinds need `openid`; the default is the kind’s (github, facebook: their own scopes)'),
  allowSignUp: z
    .boolean()
    .describe("Create a user on a first sign-in (also subject to the tenant's self-registration)"),
  allowLink: z.boolean().describe('Let a signed-in user link this provider to their account (after proving it)'),
  allowUnlink: z.boolean().describe('Let a user unlink it on the account page (admins may always)'),
  trustEmails: z
    .boolean()
    .describe('Link automatically to the user with the same email when the provider says it is verified'),
  domains: z
    .array(z.string().trim().toLowerCase().regex(hostname, 'must be a host name (like acme.com)'))
    .max(100)
    .transform((d) => [...new Set(d)])
    .describe('Email domains whose users go straight to this provider; each routes to one provider of the tenant'),
  claims: z
    .strictObject({
      email: claimName.default(defaultClaims.email),
      emailVerified: claimName.default(defaultClaims.emailVerified),
      name: claimName.default(defaultClaims.name),
      roles: claimName.nullable().default(null).describe('A claim holding an array of upstream roles or groups'),
    })
    .describe('Which upstream claims give the email, its verified flag, the name and the roles'),
  roleMappings: z
    .array(z.strictObject({ upstream: z.string().min(1).max(500), role: roleNameSchema }))
    .max(200)
    .describe('Upstream roles (from claims.roles) and the tenant role each gives, applied at each sign-in'),
  samlMetadataUrl: z
    .string()
    .max(2048)
    .refine(isAllowedIdpUrl, { message: 'must be https (http only on localhost/127.0.0.1)' })
    .describe('Kind `saml`: where the IdP publishes its metadata, read at each save (or give samlMetadataXml)'),
  samlMetadataXml: z
    .string()
    .min(1)
    .max(maxMetadataBytes)
    .describe('Kind `saml`: the IdP metadata (an md:EntityDescriptor) as XML (or give samlMetadataUrl)'),
  samlEmailVerified: z
    .boolean()
    .describe(
      'Kind `saml`: whether this IdP’s emails count as verified (SAML has no such flag; with trustEmails they link)',
    ),
};

export const createIdentityProviderSchema = z.strictObject({
  slug: fields.slug,
  kind: fields.kind.default('oidc'),
  displayName: fields.displayName,
  buttonText: fields.buttonText.default(null),
  iconUrl: fields.iconUrl.default(null),
  enabled: fields.enabled.default(true),
  issuer: fields.issuer
    .optional()
    .describe('Required for `oidc`; presets default it; none for github, facebook, latchkey, saml'),
  clientId: fields.clientId
    .optional()
    .describe('Required, except for `latchkey` (Latchkey registers its own client) and `saml`'),
  clientSecret: fields.clientSecret.optional(),
  privateKeyJwk: fields.privateKeyJwk.optional(),
  tokenEndpointAuthMethod: fields.tokenEndpointAuthMethod
    .optional()
    .describe('Default client_secret_basic (github, facebook, apple: client_secret_post)'),
  scopes: fields.scopes.optional().describe('Default: openid, email, profile; or the kind’s own'),
  allowSignUp: fields.allowSignUp.default(false),
  allowLink: fields.allowLink.default(false),
  allowUnlink: fields.allowUnlink.default(true),
  trustEmails: fields.trustEmails.default(false),
  domains: fields.domains.default([]),
  claims: fields.claims.prefault({}),
  roleMappings: fields.roleMappings.default([]),
  ...kindFields.create,
  samlMetadataUrl: fields.samlMetadataUrl.optional(),
  samlMetadataXml: fields.samlMetadataXml.optional(),
  samlEmailVerified: fields.samlEmailVerified.optional().describe('Kind `saml` only; false when not given'),
});

export const updateIdentityProviderSchema = z.strictObject({
  slug: fields.slug.optional(),
  displayName: fields.displayName.optional(),
  buttonText: fields.buttonText.optional(),
  iconUrl: fields.iconUrl.optional(),
  enabled: fields.enabled.optional(),
  issuer: fields.issuer.optional(),
  clientId: fields.clientId.optional(),
  clientSecret: fields.clientSecret.optional(),
  privateKeyJwk: fields.privateKeyJwk.optional(),
  tokenEndpointAuthMethod: fields.tokenEndpointAuthMethod.optional(),
  scopes: fields.scopes.optional(),
  allowSignUp: fields.allowSignUp.optional(),
  allowLink: fields.allowLink.optional(),
  allowUnlink: fields.allowUnlink.optional(),
  trustEmails: fields.trustEmails.optional(),
  domains: fields.domains.optional().describe('Replaces the list'),
  claims: fields.claims.optional().describe('Replaces the mapping (omitted members take their defaults)'),
  roleMappings: fields.roleMappings.optional().describe('Replaces the list'),
  ...kindFields.update,
  samlMetadataUrl: fields.samlMetadataUrl.optional().describe('Kind `saml`: reads the IdP’s metadata anew from here'),
  samlMetadataXml: fields.samlMetadataXml.optional().describe('Kind `saml`: the IdP’s metadata anew'),
  samlEmailVerified: fields.samlEmailVerified.optional(),
});

export type CreateIdentityProviderInput = z.output<typeof createIdentityProviderSchema>;
export type UpdateIdentityProviderInput = z.output<typeof updateIdentityProviderSchema>;

/** The `saml` member of a provider: the IdP as its metadata says, and the service provider's URLs. */
export const samlProviderSchema = z
  .object({
    idpEntityId: z.string(),
    idpSsoUrl: z.string().describe('The IdP’s HTTP-Redirect SingleSignOnService URL'),
    idpMetadataUrl: z.string().nullable().describe('Where the metadata was read from (null: pasted as XML)'),
    emailVerified: z.boolean(),
    spEntityId: z.string().describe('Latchkey’s entity id as the service provider (also the Audience)'),
    acsUrl: z.string().describe('The AssertionConsumerService URL (HTTP-POST)'),
    spMetadataUrl: z.string().describe('Latchkey’s SP metadata, for the IdP to import'),
  })
  .meta({ id: 'SamlIdentityProvider' });

export const identityProviderSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    kind: z.enum(idpKinds),
    displayName: z.string(),
    buttonText: z.string().nullable(),
    iconUrl: z.string().nullable(),
    enabled: z.boolean(),
    issuer: z.string(),
    clientId: z.string(),
    tokenEndpointAuthMethod: z.enum(tokenEndpointAuthMethods),
    scopes: z.array(z.string()),
    allowSignUp: z.boolean(),
    allowLink: z.boolean(),
    allowUnlink: z.boolean(),
    trustEmails: z.boolean(),
    domains: z.array(z.string()),
    claims: z.object({ email: z.string(), emailVerified: z.string(), name: z.string(), roles: z.string().nullable() }),
    roleMappings: z.array(z.object({ upstream: z.string(), role: z.string() })),
    clientSecretSet: z.boolean().describe('A client secret is stored (it is never returned)'),
    privateKeySet: z.boolean().describe('A private JWK is stored (it is never returned)'),
    ...kindResponseFields,
    saml: samlProviderSchema
      .optional()
      .describe('Kind `saml` only: the IdP from its metadata, and what to register at the IdP'),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'IdentityProvider' });

export const userIdentitySchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    providerId: z.string(),
    providerSlug: z.string(),
    providerName: z.string(),
    subject: z.string().describe('The upstream `sub`'),
    email: z.string().nullable().describe('The email the provider gave when it was linked'),
    createdAt: z.string(),
    lastSignInAt: z.string().nullable(),
  })
  .meta({ id: 'UserIdentity' });
