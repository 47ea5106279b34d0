/**
 * A tenant's upstream identity providers and its users' identities at them (issue 13). The
 * admin API (federation/routes.ts) changes providers; the sign-in flow reads them (enabled
 * ones, by slug, by email domain) and opens their secrets, and links, finds and touches
 * identities.
 *
 * A provider is a credential: `trustEmails` and `allowLink` let it sign in as the tenant's
 * users, and its role mappings hand out roles at each sign-in. So creating or changing one
 * goes through the one grant rule (auth/grants.ts) before anything is written. Its client
 * secret and private key are sealed with the instance secret and only `secrets()` opens them.
 * What each kind takes beyond that (GitHub's endpoints, Apple's key, the tenant of a
 * `latchkey` provider and the client registered there) is in kinds/; a `saml` provider's IdP
 * (read from its metadata) and its SP credentials are in saml/config.ts.
 */
import type { JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { AuditActor, AuditService } from '../audit/service.js';
import { assertMayGrant, identityProviderGrant, type RoleGrant } from '../auth/grants.js';
import type { Principal } from '../auth/permissions.js';
import { TtlCache } from '../cache.js';
import { type Dialect, isUniqueViolation, lockForUpdate } from '../db/database.js';
import type { DB, IdentityProviderRow, UserIdentityRow } from '../db/schema.js';
import { deleteAtVersion } from '../db/versions.js';
import { conflict, notFound, preconditionFailed } from '../http/errors.js';
import { newId } from '../ids.js';
import type { SecretBox } from '../keys/crypto.js';
import type { RoleService } from '../roles/service.js';
import type { Tenant } from '../tenants/service.js';
import type { AppleKey } from './apple.js';
import type { LatchkeyTenantClients, RegisteredClient } from './kinds/latchkey.js';
import {
  invalidField,
  isOAuth2Kind,
  kindChangesForUpdate,
  kindColumnsForCreate,
  kindSettingsOf,
  kindView,
  oauth2IssuerOf,
  openKindSecrets,
  sealKindSecrets,
} from './kinds/settings.js';
import type { OutboundFetch } from './outbound.js';
import {
  namesMetadata,
  openSpCredentials,
  readIdpMetadata,
  type SamlIdp,
  type SamlProviderView,
  samlView,
  sealedSpCredentials,
  spUrls,
} from './saml/config.js';
import type { SpCredentials } from './saml/sp-keys.js';
import {
  type CreateIdentityProviderInput,
  type IdpKind,
  presetIssuers,
  type TokenEndpointAuthMethod,
  type UpdateIdentityProviderInput,
} from './schemas.js';

export type { IdpKind } from './schemas.js';

/** A provider as the API answers it (and the sign-in flow reads it): no secrets. */
export interface IdentityProvider {
  id: string;
  slug: string;
  kind: IdpKind;
  displayName: string;
  buttonText: string | null;
  iconUrl: string | null;
  enabled: boolean;
  issuer: string;
  clientId: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  scopes: string[];
  allowSignUp: boolean;
  allowLink: boolean;
  allowUnlink: boolean;
  trustEmails: boolean;
  domains: string[];
  claims: { email: string; emailVerified: string; name: string; roles: string | null };
  roleMappings: { upstream: string; role: string }[];
  clientSecretSet: boolean;
  privateKeySet: boolean;
  /** github, facebook: their endpoints when not the public services. */
  endpoints: { authorizationEndpoint: string; tokenEndpoint: string; apiBase: string } | null;
  /** latchkey: the tenant it signs in through. */
  tenant: string | null;
  /** apple: whether its key is stored. */
  appleKeySet: boolean;
  /** Kind `saml` only (saml/config.ts). */
  saml?: SamlProviderView;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface UserIdentity {
  id: string;
  userId: string;
  providerId: string;
  providerSlug: string;
  providerName: string;
  subject: string;
  email: string | null;
  createdAt: string;
  lastSignInAt: string | null;
}

/** `at`: PUBLIC_URL and the tenant's slug, for a `saml` provider's SP URLs. */
export function identityProviderView(
  r: IdentityProviderRow,
  at: { publicUrl: string; tenantSlug: string } = { publicUrl: '', tenantSlug: '' },
): IdentityProvider {
  const saml = samlView(r, spUrls(at.publicUrl, at.tenantSlug, r.slug));
  return {
    id: r.id,
    slug: r.slug,
    kind: r.kind,
    displayName: r.display_name,
    buttonText: r.button_text,
    iconUrl: r.icon_url,
    enabled: r.enabled === 1,
    issuer: r.issuer,
    clientId: r.client_id,
    tokenEndpointAuthMethod: r.token_endpoint_auth_method,
    scopes: JSON.parse(r.scopes) as string[],
    allowSignUp: r.allow_sign_up === 1,
    allowLink: r.allow_link === 1,
    allowUnlink: r.allow_unlink === 1,
    trustEmails: r.trust_emails === 1,
    domains: JSON.parse(r.domains) as string[],
    claims: JSON.parse(r.claims) as IdentityProvider['claims'],
    roleMappings: JSON.parse(r.role_mappings) as IdentityProvider['roleMappings'],
    clientSecretSet: r.client_secret_sealed !== null,
    privateKeySet: r.private_key_sealed !== null,
    ...kindView(r),
    ...(saml ? { saml } : {}),
    version: r.version,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** A new `saml` provider's own columns (its IdP, and the SP's sealed credentials). */
interface SamlColumns {
  issuer: string;
  saml_idp: string;
  saml_email_verified: number;
  sp_credentials_sealed: string;
}

/** So that one list answers them all (no pages) and the sign-in page stays a page. */
export const MAX_PROVIDERS_PER_TENANT = 50;

const providerNotFound = (tenant: Tenant, id: string) =>
  notFound('identity_provider_not_found', `No identity provider ${id} in tenant "${tenant.slug}"`);

/** What a provider with these settings could hand out, for the grant rule. */
type GrantedBy = Pick<IdentityProvider, 'trustEmails' | 'allowLink' | 'roleMappings'>;

export class IdentityProviders {
  /** Enabled providers per tenant id, for the sign-in page. */
  private readonly enabledCache: TtlCache<string, IdentityProvider[]>;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
    private readonly roles: RoleService,
    cacheTtlMs: number,
    /** PUBLIC_URL, for the SP URLs of `saml` providers. */
    private readonly publicUrl = '',
    /** Registers the clients of `latchkey` providers in their tenants. */
    private readonly latchkey?: LatchkeyTenantClients,
    /** Fetches a `saml` provider's metadata URL (federation/outbound.ts: public addresses only). */
    private readonly outbound?: OutboundFetch,
  ) {
    this.enabledCache = new TtlCache(cacheTtlMs, 10_000);
  }

  /** Forgets the cached enabled providers of a tenant (a change notice from any node), or of all. */
  invalidate(tenantId?: string): void {
    if (tenantId) this.enabledCache.delete(tenantId);
    else this.enabledCache.clear();
  }

  private view(row: IdentityProviderRow, tenant: Tenant): IdentityProvider {
    return identityProviderView(row, { publicUrl: this.publicUrl, tenantSlug: tenant.slug });
  }

  /** Every provider of the tenant, by slug. */
  async list(tenant: Tenant): Promise<IdentityProvider[]> {
    const rows = await this.db
      .selectFrom('identity_providers')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .orderBy('slug')
      .execute();
    return rows.map((r) => this.view(r, tenant));
  }

  /** The enabled providers, by slug, from a cache of a few seconds (changes on this node clear it). */
  async enabled(tenant: Tenant): Promise<IdentityProvider[]> {
    const cached = this.enabledCache.get(tenant.id);
    if (cached) return cached;
    const list = (await this.list(tenant)).filter((p) => p.enabled);
    this.enabledCache.set(tenant.id, list);
    return list;
  }

  /** The tenant's provider `id`, or 404 `identity_provider_not_found`. */
  async get(tenant: Tenant, id: string, executor: Kysely<DB> = this.db): Promise<IdentityProvider> {
    return this.view(await this.row(executor, tenant, id), tenant);
  }

  async findBySlug(tenant: Tenant, slug: string): Promise<IdentityProvider | undefined> {
    const row = await this.db
      .selectFrom('identity_providers')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('slug', '=', slug)
      .executeTakeFirst();
    return row ? this.view(row, tenant) : undefined;
  }

  /** The enabled provider an email domain routes to (home-realm discovery), if any. */
  async forEmailDomain(tenant: Tenant, domain: string): Promise<IdentityProvider | undefined> {
    const route = await this.db
      .selectFrom('identity_provider_domains')
      .select('provider_id')
      .where('tenant_id', '=', tenant.id)
      .where('domain', '=', domain.trim().toLowerCase())
      .executeTakeFirst();
    if (!route) return undefined;
    const row = await this.db
      .selectFrom('identity_providers')
      .selectAll()
      .where('id', '=', route.provider_id)
      .executeTakeFirst();
    return row?.tenant_id === tenant.id && row.enabled === 1 ? this.view(row, tenant) : undefined;
  }

  /** The provider's client secret and private JWK, opened from their seals (for the sign-in flow only). */
  async secrets(
    tenant: Tenant,
    id: string,
  ): Promise<{ clientSecret?: string; privateKeyJwk?: JWK; appleKey?: AppleKey; spCredentials?: SpCredentials }> {
    const row = await this.row(this.db, tenant, id);
    return {
      ...openKindSecrets(this.box, row.kind_secrets_sealed),
      ...(row.sp_credentials_sealed === null
        ? {}
        : { spCredentials: openSpCredentials(this.box, row.sp_credentials_sealed) }),
      ...(row.client_secret_sealed === null ? {} : { clientSecret: this.box.open(row.client_secret_sealed) }),
      ...(row.private_key_sealed === null
        ? {}
        : { privateKeyJwk: JSON.parse(this.box.open(row.private_key_sealed)) as JWK }),
    };
  }

  async create(
    tenant: Tenant,
    input: CreateIdentityProviderInput,
    principal: Principal,
    actor: AuditActor,
  ): Promise<IdentityProvider> {
    assertFieldsOfKind(input.kind, input);
    const columns = await kindColumnsForCreate(input);
    const preset = input.kind === 'google' || input.kind === 'microsoft' ? presetIssuers[input.kind] : undefined;
    let issuer = columns.issuer ?? preset;
    if (!issuer && input.kind !== 'latchkey' && input.kind !== 'saml')
      throw invalidField('/issuer', 'An `oidc` identity provider needs an issuer');
    const secrets = {
      client_secret_sealed: input.clientSecret ? this.box.seal(input.clientSecret) : null,
      private_key_sealed: input.privateKeyJwk ? this.box.seal(JSON.stringify(input.privateKeyJwk)) : null,
      kind_secrets_sealed: columns.appleKey ? sealKindSecrets(this.box, { appleKey: columns.appleKey }) : null,
    };
    if (takesClientCredential(input.kind)) assertCredentialFor(columns.tokenEndpointAuthMethod, secrets);
    // What reaches outside the tenant (a SAML IdP's metadata read, a client registered in
    // another tenant) only for a caller the grant rule lets through (the transaction checks
    // it again).
    const saml = input.kind === 'saml' ? await this.samlColumns(tenant, input, principal) : undefined;
    if (saml) issuer = saml.issuer;
    let registered: RegisteredClient | undefined;
    const upstreamTenant = columns.settings?.tenant;
    if (input.kind === 'latchkey' && upstreamTenant) {
      if (!this.latchkey) throw new Error('latchkey providers need the clients service');
      await this.assertMayCreate(tenant, input, principal);
      registered = await this.latchkey.register(principal, actor, tenant, input.slug, upstreamTenant);
      issuer = registered.issuer;
      secrets.client_secret_sealed = this.box.seal(registered.clientSecret);
    }
    const clientId = registered?.clientId ?? input.clientId ?? '';
    try {
      return await this.inserting(tenant, input, principal, actor, {
        issuer: issuer ?? '',
        clientId,
        secrets,
        tokenEndpointAuthMethod: columns.tokenEndpointAuthMethod,
        scopes: columns.scopes,
        kindSettings: columns.settings,
        saml,
      });
    } catch (err) {
      // The provider was not saved: neither is its client upstream.
      if (registered && upstreamTenant) {
        await this.latchkey?.remove(actor, upstreamTenant, registered.clientId).catch(() => undefined);
      }
      throw err;
    }
  }

  private inserting(
    tenant: Tenant,
    input: CreateIdentityProviderInput,
    principal: Principal,
    actor: AuditActor,
    resolved: {
      issuer: string;
      clientId: string;
      secrets: {
        client_secret_sealed: string | null;
        private_key_sealed: string | null;
        kind_secrets_sealed: string | null;
      };
      tokenEndpointAuthMethod: TokenEndpointAuthMethod;
      scopes: string[];
      kindSettings: object | null;
      saml: SamlColumns | undefined;
    },
  ): Promise<IdentityProvider> {
    const { issuer, secrets, saml } = resolved;
    return this.saving(tenant, input.slug, async (trx) => {
      // One creation at a time per tenant, so that the count holds until the insert.
      await lockForUpdate(trx, this.dialect, 'tenants', tenant.id);
      const count = await trx
        .selectFrom('identity_providers')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', tenant.id)
        .executeTakeFirstOrThrow();
      if (Number(count.n) >= MAX_PROVIDERS_PER_TENANT) {
        throw conflict(
          'too_many_identity_providers',
          `A tenant can have at most ${MAX_PROVIDERS_PER_TENANT} identity providers`,
        );
      }
      const roles = await this.assertRolesExist(trx, tenant, input.roleMappings);
      this.assertMayConfigure(principal, tenant, 'Creating this identity provider', roles, input);
      await this.assertDomainsFree(trx, tenant, input.domains, undefined);
      const now = Date.now();
      const row = await trx
        .insertInto('identity_providers')
        .values({
          id: newId('identityProvider'),
          tenant_id: tenant.id,
          slug: input.slug,
          kind: input.kind,
          display_name: input.displayName,
          button_text: input.buttonText,
          icon_url: input.iconUrl,
          enabled: input.enabled ? 1 : 0,
          issuer,
          client_id: resolved.clientId,
          ...secrets,
          ...(saml ? { saml_idp: saml.saml_idp, saml_email_verified: saml.saml_email_verified } : {}),
          sp_credentials_sealed: saml?.sp_credentials_sealed ?? null,
          token_endpoint_auth_method: resolved.tokenEndpointAuthMethod,
          scopes: JSON.stringify(resolved.scopes),
          allow_sign_up: input.allowSignUp ? 1 : 0,
          allow_link: input.allowLink ? 1 : 0,
          allow_unlink: input.allowUnlink ? 1 : 0,
          trust_emails: input.trustEmails ? 1 : 0,
          domains: JSON.stringify(input.domains),
          claims: JSON.stringify(input.claims),
          role_mappings: JSON.stringify(input.roleMappings),
          kind_settings: resolved.kindSettings ? JSON.stringify(resolved.kindSettings) : null,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.setDomains(trx, tenant, row.id, input.domains, false);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'identity_provider.create',
        target: { type: 'identity_provider', id: row.id },
        details: { slug: row.slug, kind: row.kind, issuer: row.issuer },
      });
      return this.view(row, tenant);
    });
  }

  /**
   * Changes a provider. Turning `trustEmails` or `allowLink` on, keeping them on while the
   * provider moves (issuer, client, credentials) or is enabled, and the role mappings before
   * and after a change of them (or such a move) need the caller's reach (the grant rule).
   */
  async update(
    tenant: Tenant,
    id: string,
    input: UpdateIdentityProviderInput,
    ifMatch: number[] | undefined,
    principal: Principal,
    actor: AuditActor,
  ): Promise<IdentityProvider> {
    // New SAML metadata is read before the transaction, and only for a caller who may re-point the provider.
    const samlIdp = namesMetadata(input) ? await this.samlMetadataFor(tenant, id, input, principal) : undefined;
    return this.saving(tenant, input.slug, async (trx) => {
      const row = await this.row(trx, tenant, id);
      if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
      assertFieldsOfKind(row.kind, input);
      const before = this.view(row, tenant);
      if (row.kind === 'latchkey' && input.slug !== undefined && input.slug !== row.slug) {
        throw invalidField(
          '/slug',
          'a latchkey provider keeps its slug (its callback is registered upstream): delete and create it anew',
        );
      }
      const kindChanges = await kindChangesForUpdate(row.kind, kindSettingsOf(row), input);
      const after: GrantedBy = {
        trustEmails: input.trustEmails ?? before.trustEmails,
        allowLink: input.allowLink ?? before.allowLink,
        roleMappings: input.roleMappings ?? before.roleMappings,
      };
      // Where it signs in from (issuer, client, secrets) decides who its identities are, and
      // turning it on makes what it grants live: either hands out its settings anew.
      // A value sent back unchanged (as a form does) moves nothing; a new secret always counts.
      // (For SAML: new metadata is a new IdP, and its emails counting as verified from now on.)
      const rewired =
        (input.enabled === true && row.enabled === 0) ||
        (input.issuer !== undefined && input.issuer !== row.issuer) ||
        (input.clientId !== undefined && input.clientId !== row.client_id) ||
        input.clientSecret !== undefined ||
        input.privateKeyJwk !== undefined ||
        (input.endpoints !== undefined &&
          JSON.stringify(input.endpoints) !== JSON.stringify(kindSettingsOf(row)?.endpoints ?? null)) ||
        kindChanges.appleKey !== undefined ||
        samlIdp !== undefined ||
        (input.samlEmailVerified === true && row.saml_email_verified !== 1);
      const changed: GrantedBy = {
        trustEmails: after.trustEmails && (!before.trustEmails || rewired),
        allowLink: after.allowLink && (!before.allowLink || rewired),
        roleMappings:
          sameMappings(before.roleMappings, after.roleMappings) && !rewired
            ? []
            : [...before.roleMappings, ...after.roleMappings],
      };
      if (input.roleMappings) await this.assertRolesExist(trx, tenant, input.roleMappings);
      const roles = await this.mappedRoles(trx, tenant, changed);
      this.assertMayConfigure(principal, tenant, 'Changing this identity provider', roles, changed);
      if (input.domains) await this.assertDomainsFree(trx, tenant, input.domains, row.id);
      const secrets = {
        ...(input.clientSecret === undefined
          ? {}
          : { client_secret_sealed: input.clientSecret === null ? null : this.box.seal(input.clientSecret) }),
        ...(input.privateKeyJwk === undefined
          ? {}
          : {
              private_key_sealed:
                input.privateKeyJwk === null ? null : this.box.seal(JSON.stringify(input.privateKeyJwk)),
            }),
        ...(kindChanges.appleKey
          ? { kind_secrets_sealed: sealKindSecrets(this.box, { appleKey: kindChanges.appleKey }) }
          : {}),
      };
      if (takesClientCredential(row.kind)) {
        assertCredentialFor(input.tokenEndpointAuthMethod ?? row.token_endpoint_auth_method, {
          client_secret_sealed: row.client_secret_sealed,
          private_key_sealed: row.private_key_sealed,
          ...secrets,
        });
      }
      const oauth2Issuer =
        isOAuth2Kind(row.kind) && kindChanges.settings !== undefined
          ? oauth2IssuerOf(row.kind, kindChanges.settings)
          : undefined;
      const flag = (v: boolean | undefined) => (v === undefined ? undefined : v ? 1 : 0);
      const json = (v: unknown) => (v === undefined ? undefined : JSON.stringify(v));
      const set = definedOnly({
        slug: input.slug,
        display_name: input.displayName,
        button_text: input.buttonText,
        icon_url: input.iconUrl,
        enabled: flag(input.enabled),
        issuer: input.issuer ?? oauth2Issuer,
        client_id: input.clientId,
        token_endpoint_auth_method: input.tokenEndpointAuthMethod,
        scopes: json(input.scopes),
        allow_sign_up: flag(input.allowSignUp),
        allow_link: flag(input.allowLink),
        allow_unlink: flag(input.allowUnlink),
        trust_emails: flag(input.trustEmails),
        domains: json(input.domains),
        claims: json(input.claims),
        role_mappings: json(input.roleMappings),
        kind_settings:
          kindChanges.settings === undefined ? undefined : kindChanges.settings && JSON.stringify(kindChanges.settings),
        ...(samlIdp ? { issuer: samlIdp.entityId, saml_idp: JSON.stringify(samlIdp) } : {}),
        saml_email_verified: flag(input.samlEmailVerified),
      });
      const updated = await trx
        .updateTable('identity_providers')
        .set({ ...set, ...secrets, version: row.version + 1, updated_at: Date.now() })
        .where('id', '=', row.id)
        .where('version', '=', row.version)
        .returningAll()
        .executeTakeFirst();
      if (!updated) throw preconditionFailed();
      if (input.domains) await this.setDomains(trx, tenant, row.id, input.domains, true);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'identity_provider.update',
        target: { type: 'identity_provider', id: row.id },
        details: { fields: Object.keys(input).sort() },
      });
      return this.view(updated, tenant);
    });
  }

  /** Deletes a provider, its domains and (the database cascades) every identity at it. */
  async delete(tenant: Tenant, id: string, ifMatch: number[] | undefined, actor: AuditActor): Promise<void> {
    const deleted = await this.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, tenant, id);
      if (ifMatch && !ifMatch.includes(row.version)) throw preconditionFailed();
      // The version read is part of the delete: a change in between wins (412).
      await deleteAtVersion(trx, 'identity_providers', row.id, row.version);
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'identity_provider.delete',
        target: { type: 'identity_provider', id: row.id },
        details: { slug: row.slug },
      });
      return row;
    });
    this.enabledCache.delete(tenant.id);
    // A latchkey provider's client in its tenant goes with it.
    const upstream = kindSettingsOf(deleted)?.tenant;
    if (deleted.kind === 'latchkey' && upstream) await this.latchkey?.remove(actor, upstream, deleted.client_id);
  }

  /**
   * A new `saml` provider's columns: its IdP from the metadata the body names, and new SP
   * credentials, sealed. The grant rule first (the transaction checks it again), so a caller
   * it refuses makes no fetch and no key.
   */
  private async samlColumns(
    tenant: Tenant,
    input: CreateIdentityProviderInput,
    principal: Principal,
  ): Promise<SamlColumns> {
    await this.assertMayCreate(tenant, input, principal);
    const idp: SamlIdp = await readIdpMetadata(input, this.outbound);
    return {
      issuer: idp.entityId,
      saml_idp: JSON.stringify(idp),
      saml_email_verified: input.samlEmailVerified ? 1 : 0,
      sp_credentials_sealed: await sealedSpCredentials(this.box, tenant.slug, input.slug),
    };
  }

  /**
   * The IdP from the metadata a change names, read after the grant rule for re-pointing the
   * provider as it will be (new metadata is a new IdP: everything it grants is handed out anew).
   */
  private async samlMetadataFor(
    tenant: Tenant,
    id: string,
    input: UpdateIdentityProviderInput,
    principal: Principal,
  ): Promise<SamlIdp> {
    const row = await this.row(this.db, tenant, id);
    assertFieldsOfKind(row.kind, input);
    const before = this.view(row, tenant);
    const after: GrantedBy = {
      trustEmails: input.trustEmails ?? before.trustEmails,
      allowLink: input.allowLink ?? before.allowLink,
      roleMappings: [...before.roleMappings, ...(input.roleMappings ?? [])],
    };
    if (input.roleMappings) await this.assertRolesExist(this.db, tenant, input.roleMappings);
    const roles = await this.mappedRoles(this.db, tenant, after);
    this.assertMayConfigure(principal, tenant, 'Changing this identity provider', roles, after);
    return readIdpMetadata(input, this.outbound);
  }

  /** The grant rule for a new provider, ahead of the work a refused caller must not cause. */
  private async assertMayCreate(tenant: Tenant, input: CreateIdentityProviderInput, principal: Principal) {
    const roles = await this.assertRolesExist(this.db, tenant, input.roleMappings);
    this.assertMayConfigure(principal, tenant, 'Creating this identity provider', roles, input);
  }

  /** The tenant's provider row `id` (looked up by its key, the tenant checked here), or 404. */
  async row(executor: Kysely<DB>, tenant: Tenant, id: string): Promise<IdentityProviderRow> {
    const row = await executor.selectFrom('identity_providers').selectAll().where('id', '=', id).executeTakeFirst();
    if (row?.tenant_id !== tenant.id) throw providerNotFound(tenant, id);
    return row;
  }

  /** The grant rule (auth/grants.ts) for what `grant` hands out, before anything is written. */
  private assertMayConfigure(
    principal: Principal,
    tenant: Tenant,
    what: string,
    roles: readonly RoleGrant[],
    grant: GrantedBy,
  ): void {
    assertMayGrant(principal, tenant.id, what, identityProviderGrant(grant, roles));
  }

  /** The tenant's roles that `grant` maps to (a mapping to a role deleted since counts for nothing). */
  private async mappedRoles(executor: Kysely<DB>, tenant: Tenant, grant: GrantedBy): Promise<RoleGrant[]> {
    const names = [...new Set(grant.roleMappings.map((m) => m.role))];
    if (names.length === 0) return [];
    const found = await executor
      .selectFrom('roles')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('name', 'in', names)
      .execute();
    return found.map((r) => ({
      name: r.name,
      permissions: JSON.parse(r.permissions) as string[],
      apiPermissions: JSON.parse(r.api_permissions) as { api: string; scope: string }[],
    }));
  }

  /** 400 `unknown_role` (the roles service's answer) when a mapping names a role the tenant lacks. */
  private async assertRolesExist(executor: Kysely<DB>, tenant: Tenant, mappings: readonly { role: string }[]) {
    return this.roles.byNames(
      executor,
      tenant,
      mappings.map((m) => m.role),
    );
  }

  /** 409 `identity_provider_domain_taken` when another provider of the tenant routes one of `domains`. */
  private async assertDomainsFree(
    executor: Kysely<DB>,
    tenant: Tenant,
    domains: readonly string[],
    self: string | undefined,
  ): Promise<void> {
    if (domains.length === 0) return;
    const taken = await executor
      .selectFrom('identity_provider_domains')
      .select(['domain', 'provider_id'])
      .where('tenant_id', '=', tenant.id)
      .where('domain', 'in', [...domains])
      .execute();
    const others = taken.filter((t) => t.provider_id !== self).map((t) => t.domain);
    if (others.length > 0) throw domainTaken(others);
  }

  private async setDomains(trx: Kysely<DB>, tenant: Tenant, providerId: string, domains: string[], replace: boolean) {
    if (replace) await trx.deleteFrom('identity_provider_domains').where('provider_id', '=', providerId).execute();
    if (domains.length === 0) return;
    await trx
      .insertInto('identity_provider_domains')
      .values(domains.map((domain) => ({ tenant_id: tenant.id, domain, provider_id: providerId })))
      .execute();
  }

  /**
   * `work` in a transaction. A unique key broken meanwhile (two saves at once) is the slug's
   * (409 `identity_provider_slug_taken`) or a domain's (409 `identity_provider_domain_taken`).
   */
  private async saving<T>(tenant: Tenant, slug: string | undefined, work: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute(work);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const message = String((err as { message?: unknown }).message ?? '');
      const constraint = String((err as { constraint?: unknown }).constraint ?? '');
      if (slug !== undefined && (constraint.includes('slug') || message.includes('identity_providers.slug'))) {
        throw conflict('identity_provider_slug_taken', `An identity provider with slug "${slug}" exists`, { slug });
      }
      throw domainTaken([]);
    } finally {
      this.enabledCache.delete(tenant.id);
    }
  }
}

function domainTaken(domains: string[]) {
  return conflict(
    'identity_provider_domain_taken',
    `Another identity provider of this tenant routes ${domains.length > 0 ? domains.join(', ') : 'one of these domains'}`,
    { domains },
  );
}

/** The token endpoint's method needs its credential: a client secret, or a private JWK. */
function assertCredentialFor(
  method: TokenEndpointAuthMethod,
  sealed: { client_secret_sealed?: string | null; private_key_sealed?: string | null },
): void {
  const needs = method === 'private_key_jwt' ? 'privateKeyJwk' : 'clientSecret';
  const has = method === 'private_key_jwt' ? sealed.private_key_sealed : sealed.client_secret_sealed;
  if (!has) throw invalidField(`/${needs}`, `tokenEndpointAuthMethod ${method} needs ${needs}`);
}

/** Kinds whose token requests carry a client secret or private JWK the admin gives (not Apple's signed one, not latchkey's own, not SAML). */
function takesClientCredential(kind: IdpKind): boolean {
  return kind !== 'apple' && kind !== 'latchkey' && kind !== 'saml';
}

/** Fields of the OpenID Connect and OAuth 2 kinds that a saml provider does not take. */
const notForSaml = [
  'issuer',
  'clientId',
  'clientSecret',
  'privateKeyJwk',
  'endpoints',
  'appleTeamId',
  'appleKeyId',
  'applePrivateKey',
  'tenant',
] as const;
const samlOnly = ['samlMetadataUrl', 'samlMetadataXml', 'samlEmailVerified'] as const;

/**
 * The fields that only one side has (400 otherwise): SAML's metadata, and the other kinds'
 * issuer, client and kind settings (kinds/settings.ts sorts those among the other kinds).
 */
function assertFieldsOfKind(
  kind: IdpKind,
  input: Partial<Record<(typeof notForSaml)[number] | (typeof samlOnly)[number], unknown>>,
): void {
  const foreign = kind === 'saml' ? notForSaml : samlOnly;
  for (const field of foreign) {
    if (input[field] !== undefined) {
      throw invalidField(
        `/${field}`,
        kind === 'saml' ? 'is not a setting of a saml provider' : 'is for kind saml only',
      );
    }
  }
}

function sameMappings(a: GrantedBy['roleMappings'], b: GrantedBy['roleMappings']): boolean {
  const key = (list: GrantedBy['roleMappings']) =>
    JSON.stringify([...new Set(list.map((m) => `${m.upstream}\u0000${m.role}`))].sort());
  return key(a) === key(b);
}

function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

export function userIdentityView(r: UserIdentityRow, provider: { slug: string; display_name: string }): UserIdentity {
  return {
    id: r.id,
    userId: r.user_id,
    providerId: r.provider_id,
    providerSlug: provider.slug,
    providerName: provider.display_name,
    subject: r.subject,
    email: r.email,
    createdAt: new Date(r.created_at).toISOString(),
    lastSignInAt: r.last_sign_in_at === null ? null : new Date(r.last_sign_in_at).toISOString(),
  };
}

const identityNotFound = (tenant: Tenant, id: string) =>
  notFound('identity_not_found', `No identity ${id} of that user in tenant "${tenant.slug}"`);

export class UserIdentities {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    private readonly audit: AuditService,
  ) {}

  /** The identity of upstream `subject` at the tenant's provider `providerId`, if linked. */
  async find(tenant: Tenant, providerId: string, subject: string): Promise<UserIdentity | undefined> {
    const row = await this.withProvider(this.db)
      .where('user_identities.provider_id', '=', providerId)
      .where('user_identities.subject', '=', subject)
      .executeTakeFirst();
    return row?.tenant_id === tenant.id ? userIdentityView(row, row) : undefined;
  }

  /** The user's identities, oldest first (none for a user of another tenant). */
  async listForUser(tenant: Tenant, userId: string, executor: Kysely<DB> = this.db): Promise<UserIdentity[]> {
    const rows = await this.withProvider(executor)
      .where('user_identities.user_id', '=', userId)
      .orderBy('user_identities.created_at')
      .orderBy('user_identities.id')
      .execute();
    return rows.filter((r) => r.tenant_id === tenant.id).map((r) => userIdentityView(r, r));
  }

  /**
   * Links upstream `subject` at a provider to a user of the tenant (audited `user.identity.link`).
   * 404 when the user or provider is not the tenant's; 409 `identity_linked` when the subject
   * is already linked (to this user or another).
   */
  async link(
    tenant: Tenant,
    identity: { userId: string; providerId: string; subject: string; email: string | null },
    actor: AuditActor,
    trx?: Kysely<DB>,
  ): Promise<UserIdentity> {
    const work = async (tx: Kysely<DB>) => {
      const user = await tx
        .selectFrom('users')
        .select(['id', 'tenant_id'])
        .where('id', '=', identity.userId)
        .executeTakeFirst();
      if (user?.tenant_id !== tenant.id)
        throw notFound('user_not_found', `No user ${identity.userId} in tenant "${tenant.slug}"`);
      const provider = await tx
        .selectFrom('identity_providers')
        .select(['id', 'tenant_id', 'slug', 'display_name'])
        .where('id', '=', identity.providerId)
        .executeTakeFirst();
      if (provider?.tenant_id !== tenant.id) throw providerNotFound(tenant, identity.providerId);
      const row = await tx
        .insertInto('user_identities')
        .values({
          id: newId('identity'),
          tenant_id: tenant.id,
          user_id: user.id,
          provider_id: provider.id,
          subject: identity.subject,
          email: identity.email,
          created_at: Date.now(),
          last_sign_in_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.audit.record(tx, actor, {
        tenantId: tenant.id,
        action: 'user.identity.link',
        target: { type: 'user', id: user.id },
        details: { identityId: row.id, provider: provider.slug },
      });
      return userIdentityView(row, provider);
    };
    try {
      // In the caller's transaction, a broken unique key aborts it (PostgreSQL): the caller handles that.
      return trx ? await work(trx) : await this.db.transaction().execute(work);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict('identity_linked', 'That upstream identity is already linked to a user of this tenant');
      }
      throw err;
    }
  }

  /**
   * Unlinks one of the user's identities (audited `user.identity.unlink`). Never the user's
   * last way to sign in: 409 `last_sign_in_method` when no password and no other identity at
   * an enabled provider would be left. Where the provider does not allow unlinking, 409 `unlink_not_allowed`,
   * unless `options.admin` (an admin through the API may unlink regardless).
   */
  async unlink(
    tenant: Tenant,
    userId: string,
    identityId: string,
    actor: AuditActor,
    options: { admin?: boolean } = {},
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Two unlinks at once must not both see the other's identity left.
      await lockForUpdate(trx, this.dialect, 'users', userId);
      const user = await trx
        .selectFrom('users')
        .select(['id', 'tenant_id', 'password_hash'])
        .where('id', '=', userId)
        .executeTakeFirst();
      if (user?.tenant_id !== tenant.id)
        throw notFound('user_not_found', `No user ${userId} in tenant "${tenant.slug}"`);
      const identities = await this.withProvider(trx).where('user_identities.user_id', '=', user.id).execute();
      const target = identities.find((i) => i.id === identityId);
      if (!target) throw identityNotFound(tenant, identityId);
      if (!options.admin && target.allow_unlink !== 1) {
        throw conflict('unlink_not_allowed', `${target.display_name} does not allow unlinking its identities`);
      }
      // Only identities at enabled providers still sign in.
      const left = identities.filter((i) => i.id !== target.id && i.enabled === 1);
      if (user.password_hash === null && left.length === 0) {
        throw conflict(
          'last_sign_in_method',
          'This is the only way the user can sign in: set a password or link another first',
        );
      }
      await trx.deleteFrom('user_identities').where('id', '=', target.id).execute();
      await this.audit.record(trx, actor, {
        tenantId: tenant.id,
        action: 'user.identity.unlink',
        target: { type: 'user', id: user.id },
        details: { identityId: target.id, provider: target.slug },
      });
    });
  }

  /** Records a sign-in with the identity (last_sign_in_at). */
  async touch(identityId: string, at: number): Promise<void> {
    await this.db.updateTable('user_identities').set({ last_sign_in_at: at }).where('id', '=', identityId).execute();
  }

  private withProvider(executor: Kysely<DB>) {
    return executor
      .selectFrom('user_identities')
      .innerJoin('identity_providers', 'identity_providers.id', 'user_identities.provider_id')
      .selectAll('user_identities')
      .select([
        'identity_providers.slug',
        'identity_providers.display_name',
        'identity_providers.allow_unlink',
        'identity_providers.enabled',
      ]);
  }
}
