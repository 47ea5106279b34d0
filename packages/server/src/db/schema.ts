/**
 * Kysely table types. Times are epoch milliseconds (bigint in PostgreSQL, integer in
 * SQLite); booleans are 0/1 integers and JSON is text, so that both dialects (and
 * PostgreSQL-compatible distributed databases) read the same rows the same way.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface TenantsTable {
  id: string;
  slug: string;
  display_name: string;
  /** JSON: TenantSettings */
  settings: string;
  version: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  /** Normalised: trimmed, NFKC, lower case. Unique per tenant. */
  email: string;
  email_verified: number;
  display_name: string | null;
  /** Lower-cased display name ('' when none), for prefix search and sorting. */
  name_sort: string;
  status: 'active' | 'disabled';
  /** JSON object. */
  attributes: string;
  password_hash: string | null;
  password_changed_at: number | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  /** When the user's sessions were last ended (ms): sign-ins before it count for nothing. */
  sessions_ended_at: number | null;
  /**
   * The one session kept when the others were ended (signed out everywhere else), as
   * `{sessions_ended_at}:{uid}`: it counts only beside that end (sessions/service.ts `signInEnded`).
   */
  sessions_kept_uid: string | null;
  /** 1: a self-registration waiting for its verification link, stored `disabled` (shown `pending`). */
  pending_verification: Generated<number>;
  version: Generated<number>;
}

export interface RolesTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  /** JSON array of permission names. */
  permissions: string;
  /** JSON array of `{ api, scope }`: scopes of the tenant's own APIs (by identifier). */
  api_permissions: Generated<string>;
  builtin: number;
  created_at: number;
  version: Generated<number>;
  /** Null only on rows an older node wrote after the migration. */
  updated_at: number | null;
}

export interface UserRolesTable {
  tenant_id: string;
  user_id: string;
  role_id: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  /** SHA-256 (hex) of the whole secret. */
  secret_hash: string;
  /** The first characters of the secret, to recognise it in lists. */
  secret_prefix: string;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  created_at: number;
}

export interface ApiKeyRolesTable {
  tenant_id: string;
  api_key_id: string;
  role_id: string;
}

export interface AuditEventsTable {
  id: string;
  tenant_id: string;
  occurred_at: number;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  outcome: 'success' | 'failure';
  request_id: string | null;
  /** JSON object or null. */
  details: string | null;
}

export interface SigningKeysTable {
  id: string;
  tenant_id: string;
  alg: 'ES256' | 'RS256';
  status: 'next' | 'current' | 'previous';
  /** JSON JWK (public part, with kid, alg, use). */
  public_jwk: string;
  /** The private JWK, encrypted with the instance secret (see keys/crypto.ts). */
  private_jwk: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  /** For `previous` keys: when the last token it signed expires, and it leaves the JWKS. */
  expires_at: number | null;
}

export interface ApisTable {
  id: string;
  tenant_id: string;
  /** The audience: an absolute URI. */
  identifier: string;
  name: string;
  /** JSON array of { name, description }. */
  scopes: string;
  access_token_ttl: number;
  builtin: number;
  version: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface ClientsTable {
  id: string;
  tenant_id: string;
  /** The OAuth client_id, unique per tenant (the id, or a name like `admin-console`). */
  client_id: string;
  kind: 'web' | 'spa' | 'native' | 'service';
  name: string;
  /** SHA-256 (hex) of the client secret, for confidential kinds. */
  secret_hash: string | null;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  /** JSON array of scopes the client may ask for. */
  scopes: string;
  first_party: number;
  id_token_alg: 'ES256' | 'RS256';
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'none';
  default_api_id: string | null;
  access_token_ttl: number | null;
  refresh_token_idle_ttl: number | null;
  refresh_token_absolute_ttl: number | null;
  builtin: number;
  version: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface ClientRolesTable {
  tenant_id: string;
  client_id: string;
  role_id: string;
}

export interface OidcPayloadsTable {
  model: string;
  id: string;
  tenant_id: string;
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  account_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface LoginFailuresTable {
  key: string;
  tenant_id: string;
  count: number;
  window_started_at: number;
  locked_until: number | null;
}

export interface EmailsTable {
  id: string;
  tenant_id: string;
  to_address: string;
  template: string;
  subject: string;
  /** The message (text, HTML, sender name, reply-to) sealed with the instance secret; null once sent or failed. */
  sealed_content: string | null;
  status: 'queued' | 'sent' | 'failed';
  attempts: Generated<number>;
  last_error: string | null;
  /** When the sender next tries it (ms); while one node is sending it, the end of its lease. */
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
}

export interface UserLinksTable {
  id: string;
  tenant_id: string;
  user_id: string;
  /** `change_email`: verifies a new address (`email`), which becomes the user's when used. */
  purpose: 'password_reset' | 'verify_email' | 'change_email';
  email: string;
  /** SHA-256 (hex) of the link's secret: nothing stored redeems it. */
  secret_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** HMAC (hex) of the link's 6-digit code under a key of the instance secret, if it has one. */
  code_hash: string | null;
  /** Wrong codes tried against the link; past a few it is no longer usable by code. */
  code_failures: Generated<number>;
}

export interface TicketTypesTable {
  id: string;
  tenant_id: string;
  /** Unique per tenant. */
  name: string;
  description: string;
  enabled: number;
  /** 1: a ticket of this type may register a new account, even where self-registration is closed. */
  allow_user_creation: number;
  validity_hours: number;
  post_use_url: string | null;
  post_invalid_url: string | null;
  /** JSON: { title, body, okText, agreementRequired }. */
  welcome: string;
  version: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** The roles a ticket type grants to whoever uses one of its tickets. */
export interface TicketTypeRolesTable {
  tenant_id: string;
  type_id: string;
  role_id: string;
}

export interface TicketsTable {
  id: string;
  tenant_id: string;
  type_id: string;
  /** An email or any external id, as the issuer gave it (trimmed). */
  foreign_key: string;
  /** The normalised address when the foreign key is an email. */
  email: string | null;
  /** SHA-256 (hex) of the ticket's secret: nothing stored redeems it. */
  secret_hash: string;
  /** `live` until used, disabled or replaced by a newer ticket (expiry is read from expires_at). */
  status: 'live' | 'used' | 'disabled' | 'reissued';
  /** The foreign key while live, else null: unique per type (one live ticket per key). */
  live_key: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
  disabled_at: number | null;
  reissued_at: number | null;
  /** The ticket that replaced it (reissued). */
  replaced_by: string | null;
  /** When its holder asked for a new one (an expired live ticket). */
  reissue_requested_at: number | null;
}

/** A user import (user-imports/): one uploaded file of JSON lines, applied in the background. */
export interface UserImportsTable {
  id: string;
  tenant_id: string;
  /** receiving → queued → running → done; failed when an upload never ended. */
  status: 'receiving' | 'queued' | 'running' | 'done' | 'failed';
  dry_run: number;
  /** The audit actor id of who uploaded it. */
  created_by: string;
  lines_received: Generated<number>;
  /** The next line number the worker applies (1-based). */
  next_line: Generated<number>;
  created: Generated<number>;
  existing: Generated<number>;
  failed: Generated<number>;
  /** JSON array of `{ line, code, message }`, the first failures only. */
  failures: Generated<string>;
  /** Until when the node applying it holds it (ms), or while receiving, until when its upload may last. */
  locked_until: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** A validated, normalised line of an import, kept until it is applied. */
export interface UserImportLinesTable {
  import_id: string;
  line_no: number;
  /** JSON: the normalised user (user-imports/lines.ts `ImportedUser`). */
  data: string;
}

/** An upstream identity provider of a tenant (federation/store.ts). */
export interface IdentityProvidersTable {
  id: string;
  tenant_id: string;
  /** Unique per tenant: `[a-z0-9-]{1,40}`, in the sign-in and callback URLs. */
  slug: string;
  kind: 'oidc' | 'google' | 'microsoft' | 'github' | 'facebook' | 'apple' | 'latchkey' | 'saml';
  display_name: string;
  button_text: string | null;
  icon_url: string | null;
  enabled: number;
  issuer: string;
  client_id: string;
  /** The client secret, sealed with the instance secret (keys/crypto.ts), or null. */
  client_secret_sealed: string | null;
  /** A private JWK (JSON) for private_key_jwt, sealed like the client secret, or null. */
  private_key_sealed: string | null;
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** JSON array of scopes asked for. */
  scopes: string;
  allow_sign_up: number;
  allow_link: number;
  allow_unlink: number;
  trust_emails: number;
  /** JSON array of lower-case email domains routed to it (also rows of identity_provider_domains). */
  domains: string;
  /** JSON: { email, emailVerified, name, roles }, the upstream claims that give them. */
  claims: string;
  /** JSON array of { upstream, role }. */
  role_mappings: string;
  /** Kinds github, facebook, latchkey (0015): JSON of the kind's own settings, nothing secret (federation/kinds/settings.ts); null for none. */
  kind_settings: string | null;
  /** The kind's own secrets (Apple's key), JSON sealed with the instance secret; null for none. */
  kind_secrets_sealed: string | null;
  /** Kind `saml` (0016): JSON of the IdP from its metadata (federation/saml/config.ts `SamlIdp`), else null. */
  saml_idp: ColumnType<string | null, string | null | undefined, string | null>;
  /** Kind `saml`: 1 when the IdP's emails count as verified (SAML has no such flag), else 0; null for other kinds. */
  saml_email_verified: ColumnType<number | null, number | null | undefined, number | null>;
  /** Kind `saml`: JSON { privateKeyPem, certPem } of the SP's credentials, sealed with the instance secret. */
  sp_credentials_sealed: ColumnType<string | null, string | null | undefined, string | null>;
  version: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** Home-realm discovery: which provider an email domain routes to, one per domain and tenant. */
export interface IdentityProviderDomainsTable {
  tenant_id: string;
  domain: string;
  provider_id: string;
}

/** A user's identity at an upstream provider: (provider, subject), unique. */
export interface UserIdentitiesTable {
  id: string;
  tenant_id: string;
  user_id: string;
  provider_id: string;
  /** The upstream `sub`. */
  subject: string;
  /** The email the upstream gave when it was linked. */
  email: string | null;
  created_at: number;
  last_sign_in_at: number | null;
}

/** An AuthnRequest sent to a SAML IdP, waiting for the one Response that may answer it (0016). */
export interface SamlRequestsTable {
  /** The AuthnRequest's ID (the Response's InResponseTo). */
  id: string;
  tenant_id: string;
  provider_id: string;
  /** The interaction it was sent for. */
  uid: string;
  expires_at: number;
  consumed_at: number | null;
}

export interface DB {
  tenants: TenantsTable;
  users: UsersTable;
  roles: RolesTable;
  user_roles: UserRolesTable;
  api_keys: ApiKeysTable;
  api_key_roles: ApiKeyRolesTable;
  audit_events: AuditEventsTable;
  emails: EmailsTable;
  user_links: UserLinksTable;
  ticket_types: TicketTypesTable;
  ticket_type_roles: TicketTypeRolesTable;
  tickets: TicketsTable;
  signing_keys: SigningKeysTable;
  apis: ApisTable;
  clients: ClientsTable;
  client_roles: ClientRolesTable;
  oidc_payloads: OidcPayloadsTable;
  login_failures: LoginFailuresTable;
  user_imports: UserImportsTable;
  user_import_lines: UserImportLinesTable;
  identity_providers: IdentityProvidersTable;
  identity_provider_domains: IdentityProviderDomainsTable;
  user_identities: UserIdentitiesTable;
  saml_requests: SamlRequestsTable;
}

export type TenantRow = Selectable<TenantsTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type RoleRow = Selectable<RolesTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type EmailRow = Selectable<EmailsTable>;
export type UserLinkRow = Selectable<UserLinksTable>;
export type TicketTypeRow = Selectable<TicketTypesTable>;
export type TicketRow = Selectable<TicketsTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type ApiRow = Selectable<ApisTable>;
export type ClientRow = Selectable<ClientsTable>;
export type IdentityProviderRow = Selectable<IdentityProvidersTable>;
export type UserIdentityRow = Selectable<UserIdentitiesTable>;
export type { ColumnType };
