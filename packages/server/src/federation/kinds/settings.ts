/**
 * What each provider kind takes beside the OpenID Connect fields, and the rules of each
 * (docs/federation-providers.md):
 * - `oidc`, `google`, `microsoft`: an issuer (presets default it), a client id and secret or
 *   private JWK; scopes with `openid`.
 * - `github`, `facebook`: OAuth 2 without OpenID Connect, so no issuer and no ID token: the
 *   public endpoints, or `endpoints` for GitHub Enterprise Server (and tests); their own
 *   default scopes, `openid` not needed; the profile API gives email, verified flag and name,
 *   so no claim mapping and no roles.
 * - `apple`: OpenID Connect at https://appleid.apple.com whose client secret Latchkey signs
 *   per token request from `appleTeamId`, `appleKeyId` and `applePrivateKey` (write-only,
 *   sealed; `appleKeySet` says one is stored), sent as client_secret_post.
 * - `latchkey`: another tenant of this Latchkey, by `tenant`; its client there is registered
 *   by Latchkey itself (kinds/latchkey.ts), so no issuer, client id or secret is given.
 * - `saml`: none of these; its metadata fields and columns are saml/config.ts's (store.ts
 *   keeps the OpenID Connect and kind fields off it).
 * Kind settings live in `kind_settings` (JSON), kind secrets in `kind_secrets_sealed`.
 */
import { z } from 'zod';
import { isAllowedRedirectUri } from '../../clients/service.js';
import { badRequest } from '../../http/errors.js';
import type { SecretBox } from '../../keys/crypto.js';
import { slugSchema } from '../../tenants/service.js';
import { APPLE_ISSUER, type AppleKey, checkAppleKey } from '../apple.js';
import { type OAuth2Endpoints, type OAuth2Kind, oauth2Presets } from '../oauth2-profiles.js';
import type { IdpKind, TokenEndpointAuthMethod } from '../schemas.js';

/** Kinds that are OAuth 2 with a profile API, not OpenID Connect. */
export function isOAuth2Kind(kind: IdpKind): kind is OAuth2Kind {
  return kind === 'github' || kind === 'facebook';
}

/** The non-secret settings of a kind, as stored in `kind_settings`. */
export interface KindSettings {
  endpoints?: OAuth2Endpoints;
  /** The slug of the tenant a `latchkey` provider signs in through. */
  tenant?: string;
}

const endpointUrl = z
  .string()
  .max(2048)
  .refine((v) => isAllowedRedirectUri(v) && !new URL(v).search, {
    message: 'must be https (http only on localhost/127.0.0.1), without query or fragment',
  });

const endpointsSchema = z
  .strictObject({
    authorizationEndpoint: endpointUrl,
    tokenEndpoint: endpointUrl,
    apiBase: endpointUrl.describe('Where the profile API is (GitHub: /user and /user/emails; Facebook: /me)'),
  })
  .meta({ id: 'OAuth2Endpoints' });

const appleTeamId = z.string().trim().max(20).describe('Write-only (apple): the 10-character Apple Developer team id');
const appleKeyId = z
  .string()
  .trim()
  .max(20)
  .describe('Write-only (apple): the 10-character id of the Sign in with Apple key');
const applePrivateKey = z
  .string()
  .max(8192)
  .describe('Write-only (apple): the key’s .p8 file (PKCS #8 PEM), sealed with the instance secret, never returned');

/** The kind fields of the request bodies (schemas.ts spreads them in). */
export const kindFields = {
  create: {
    endpoints: endpointsSchema
      .optional()
      .describe(
        'github, facebook: where their authorization, token and profile API are (GitHub Enterprise Server); default the public services',
      ),
    appleTeamId: appleTeamId.optional(),
    appleKeyId: appleKeyId.optional(),
    applePrivateKey: applePrivateKey.optional(),
    tenant: slugSchema
      .optional()
      .describe(
        'latchkey: the slug of the tenant to sign in through; Latchkey registers its client there (the caller needs tenant-wide reach there)',
      ),
  },
  update: {
    endpoints: endpointsSchema
      .nullable()
      .optional()
      .describe('github, facebook: null goes back to the public services'),
    appleTeamId: appleTeamId.optional().describe('apple: replaces the key, with appleKeyId and applePrivateKey'),
    appleKeyId: appleKeyId.optional(),
    applePrivateKey: applePrivateKey.optional(),
  },
};

/** The kind fields of the response (no secrets). */
export const kindResponseFields = {
  endpoints: endpointsSchema.nullable().describe('github, facebook: the endpoints given (null: the public services)'),
  tenant: z.string().nullable().describe('latchkey: the tenant it signs in through'),
  appleKeySet: z.boolean().describe('apple: a key is stored (it is never returned)'),
};

type CreateKindInput = {
  kind: IdpKind;
  issuer?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | null | undefined;
  privateKeyJwk?: object | null | undefined;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined;
  scopes?: string[] | undefined;
  claims: { roles: string | null };
  roleMappings: unknown[];
  endpoints?: OAuth2Endpoints | undefined;
  appleTeamId?: string | undefined;
  appleKeyId?: string | undefined;
  applePrivateKey?: string | undefined;
  tenant?: string | undefined;
};

type UpdateKindInput = Partial<Omit<CreateKindInput, 'kind' | 'claims' | 'roleMappings' | 'endpoints' | 'tenant'>> & {
  claims?: { roles: string | null } | undefined;
  roleMappings?: unknown[] | undefined;
  endpoints?: OAuth2Endpoints | null | undefined;
};

/** A 400 `validation_failed` of one body field, in the shape schema validation answers. */
export function invalidField(path: string, message: string) {
  return badRequest('validation_failed', `Invalid body: ${path} ${message}`, [
    { in: 'body', path, message, code: 'custom' },
  ]);
}

/** Fields a kind does not take, by name, each with why. */
function refuseFields(kind: IdpKind, input: Record<string, unknown>, fields: readonly string[], why: string) {
  for (const f of fields) {
    if (input[f] !== undefined) throw invalidField(`/${f}`, `is not a setting of kind ${kind}: ${why}`);
  }
}

const appleFields = ['appleTeamId', 'appleKeyId', 'applePrivateKey'] as const;

/** Apple's key from the three fields, all or none given; 400 when partial or unusable. */
async function appleKeyOf(input: Record<string, unknown>): Promise<AppleKey | undefined> {
  const given = appleFields.filter((f) => input[f] !== undefined);
  if (given.length === 0) return undefined;
  const missing = appleFields.find((f) => input[f] === undefined);
  if (missing)
    throw invalidField(`/${missing}`, 'Apple’s key needs appleTeamId, appleKeyId and applePrivateKey together');
  const key = {
    teamId: String(input.appleTeamId),
    keyId: String(input.appleKeyId),
    privateKeyPem: String(input.applePrivateKey),
  };
  const problem = await checkAppleKey(key);
  if (problem) {
    const field = problem.startsWith('teamId')
      ? 'appleTeamId'
      : problem.startsWith('keyId')
        ? 'appleKeyId'
        : 'applePrivateKey';
    throw invalidField(`/${field}`, problem);
  }
  return key;
}

function checkScopes(kind: IdpKind, scopes: string[] | undefined) {
  if (scopes && !isOAuth2Kind(kind) && !scopes.includes('openid')) {
    throw invalidField('/scopes', 'must include openid');
  }
}

function checkNoRoles(
  kind: IdpKind,
  input: { claims?: { roles: string | null } | undefined; roleMappings?: unknown[] | undefined },
) {
  if (!isOAuth2Kind(kind)) return;
  if (input.claims?.roles) throw invalidField('/claims/roles', `${kind}'s profile API has no roles to map`);
  if (input.roleMappings && input.roleMappings.length > 0) {
    throw invalidField('/roleMappings', `${kind}'s profile API has no roles to map`);
  }
}

/** What a new provider of its kind stores beside the common columns, after the kind's checks. */
export interface KindColumns {
  issuer: string | undefined;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  scopes: string[];
  settings: KindSettings | null;
  appleKey: AppleKey | undefined;
}

const oidcDefaultScopes = ['openid', 'email', 'profile'];

/**
 * The kind's rules for a new provider (400 `validation_failed` naming the field). The
 * `latchkey` kind's issuer is the upstream tenant's and comes from kinds/latchkey.ts.
 */
export async function kindColumnsForCreate(input: CreateKindInput): Promise<KindColumns> {
  const { kind } = input;
  const raw = input as unknown as Record<string, unknown>;
  if (kind !== 'apple') refuseFields(kind, raw, appleFields, 'only apple signs its client secret');
  if (!isOAuth2Kind(kind)) refuseFields(kind, raw, ['endpoints'], 'only github and facebook take endpoints');
  if (kind !== 'latchkey') refuseFields(kind, raw, ['tenant'], 'only latchkey signs in through a tenant');
  checkScopes(kind, input.scopes);
  checkNoRoles(kind, input);
  if (kind !== 'latchkey' && kind !== 'saml' && input.clientId === undefined) {
    throw invalidField('/clientId', 'is required');
  }
  switch (kind) {
    case 'github':
    case 'facebook': {
      refuseFields(kind, raw, ['issuer'], 'OAuth 2 without OpenID Connect has no issuer (see endpoints)');
      if (input.tokenEndpointAuthMethod === 'private_key_jwt') {
        throw invalidField('/tokenEndpointAuthMethod', `${kind} authenticates clients by their secret`);
      }
      const preset = oauth2Presets[kind];
      return {
        issuer: input.endpoints ? new URL(input.endpoints.authorizationEndpoint).origin : preset.issuer,
        tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? 'client_secret_post',
        scopes: input.scopes ?? preset.scopes,
        settings: input.endpoints ? { endpoints: input.endpoints } : null,
        appleKey: undefined,
      };
    }
    case 'apple': {
      refuseFields(kind, raw, ['clientSecret', 'privateKeyJwk'], 'Latchkey signs its client secret from the Apple key');
      if (input.tokenEndpointAuthMethod && input.tokenEndpointAuthMethod !== 'client_secret_post') {
        throw invalidField('/tokenEndpointAuthMethod', 'apple takes its client secret as client_secret_post');
      }
      const appleKey = await appleKeyOf(raw);
      if (!appleKey) throw invalidField('/appleTeamId', 'apple needs appleTeamId, appleKeyId and applePrivateKey');
      return {
        issuer: input.issuer ?? APPLE_ISSUER,
        tokenEndpointAuthMethod: 'client_secret_post',
        scopes: input.scopes ?? ['openid', 'email', 'name'],
        settings: null,
        appleKey,
      };
    }
    case 'latchkey': {
      refuseFields(
        kind,
        raw,
        ['issuer', 'clientId', 'clientSecret', 'privateKeyJwk', 'tokenEndpointAuthMethod'],
        'Latchkey registers its own client in that tenant',
      );
      if (!input.tenant) throw invalidField('/tenant', 'latchkey needs the tenant to sign in through');
      return {
        issuer: undefined,
        tokenEndpointAuthMethod: 'client_secret_basic',
        scopes: input.scopes ?? oidcDefaultScopes,
        settings: { tenant: input.tenant },
        appleKey: undefined,
      };
    }
    default:
      return {
        issuer: input.issuer,
        tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? 'client_secret_basic',
        scopes: input.scopes ?? oidcDefaultScopes,
        settings: null,
        appleKey: undefined,
      };
  }
}

/** What a change stores of the kind's own (undefined: unchanged), after the kind's checks. */
export interface KindChanges {
  settings?: KindSettings | null;
  appleKey?: AppleKey;
}

/** The kind's rules for a change of a provider of `kind` (400 `validation_failed` naming the field). */
export async function kindChangesForUpdate(
  kind: IdpKind,
  current: KindSettings | null,
  input: UpdateKindInput,
): Promise<KindChanges> {
  const raw = input as unknown as Record<string, unknown>;
  if (kind !== 'apple') refuseFields(kind, raw, appleFields, 'only apple signs its client secret');
  if (!isOAuth2Kind(kind)) refuseFields(kind, raw, ['endpoints'], 'only github and facebook take endpoints');
  checkScopes(kind, input.scopes);
  checkNoRoles(kind, input);
  if (isOAuth2Kind(kind)) {
    refuseFields(kind, raw, ['issuer'], 'OAuth 2 without OpenID Connect has no issuer (see endpoints)');
    if (input.tokenEndpointAuthMethod === 'private_key_jwt') {
      throw invalidField('/tokenEndpointAuthMethod', `${kind} authenticates clients by their secret`);
    }
    if (input.endpoints === undefined) return {};
    return { settings: input.endpoints === null ? null : { ...current, endpoints: input.endpoints } };
  }
  if (kind === 'apple') {
    refuseFields(kind, raw, ['clientSecret', 'privateKeyJwk'], 'Latchkey signs its client secret from the Apple key');
    if (input.tokenEndpointAuthMethod && input.tokenEndpointAuthMethod !== 'client_secret_post') {
      throw invalidField('/tokenEndpointAuthMethod', 'apple takes its client secret as client_secret_post');
    }
    const appleKey = await appleKeyOf(raw);
    return appleKey ? { appleKey } : {};
  }
  if (kind === 'latchkey') {
    refuseFields(
      kind,
      raw,
      ['issuer', 'clientId', 'clientSecret', 'privateKeyJwk', 'tokenEndpointAuthMethod'],
      'Latchkey manages its own client in that tenant',
    );
  }
  return {};
}

/** The issuer a github/facebook provider is named by after a change of its endpoints. */
export function oauth2IssuerOf(kind: OAuth2Kind, settings: KindSettings | null): string {
  return settings?.endpoints ? new URL(settings.endpoints.authorizationEndpoint).origin : oauth2Presets[kind].issuer;
}

/** The kind settings of a row. */
export function kindSettingsOf(row: { kind_settings: string | null }): KindSettings | null {
  return row.kind_settings === null ? null : (JSON.parse(row.kind_settings) as KindSettings);
}

/** The response's kind fields of a row. */
export function kindView(row: { kind_settings: string | null; kind_secrets_sealed: string | null }) {
  const settings = kindSettingsOf(row);
  return {
    endpoints: settings?.endpoints ?? null,
    tenant: settings?.tenant ?? null,
    appleKeySet: row.kind_secrets_sealed !== null,
  };
}

/** The kind's secrets, as `secrets()` opens them. */
export interface KindSecrets {
  appleKey?: AppleKey;
}

export function sealKindSecrets(box: SecretBox, secrets: KindSecrets): string {
  return box.seal(JSON.stringify(secrets));
}

export function openKindSecrets(box: SecretBox, sealed: string | null): KindSecrets {
  return sealed === null ? {} : (JSON.parse(box.open(sealed)) as KindSecrets);
}
