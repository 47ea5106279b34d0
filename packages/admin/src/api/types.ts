/**
 * Shapes of the admin API (see packages/server/openapi.json, the source of truth).
 * Keep these in step with the server's zod schemas; only what the console reads is typed.
 */
import { type Permission, tenantPermissions } from '../../../server/src/auth/permissions';
import type { Locale } from '../../../server/src/i18n/locales';

/** Every list answers `{ items, nextCursor }`; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface TenantSettings {
  selfRegistration: boolean;
  /** Password sign-in on the sign-in page; off: through identity providers only (never in the system tenant). */
  passwordSignIn: boolean;
  requireVerifiedEmail: boolean;
  /** Users may delete their own account on the account page (/t/{slug}/account). */
  selfDeletion: boolean;
  /** The language of pages and emails when neither the application nor the browser names one. */
  defaultLocale: Locale;
  passwordMinLength: number;
  lifetimes: {
    accessTokenSeconds: number;
    refreshTokenIdleSeconds: number;
    refreshTokenAbsoluteSeconds: number;
    sessionIdleSeconds: number;
    sessionAbsoluteSeconds: number;
  };
  lockout: { maxFailures: number; durationSeconds: number };
  allowedOrigins: string[];
  keyRotationDays: number | null;
  branding: { logoUrl: string | null; primaryColor: string; loginMessage: string | null };
}

export interface Tenant {
  id: string;
  slug: string;
  displayName: string;
  settings: TenantSettings;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface TenantStats {
  users: number;
  activeSessions: number;
  signIns24h: number;
  failures24h: number;
  /** The last 24 hours, one entry per hour, oldest first. */
  series: { hour: string; signIns: number; failures: number }[];
}

/** `pending`: registered on the sign-in page, waiting for the email's verification link. */
export type UserStatus = 'active' | 'disabled' | 'pending';

export interface User {
  id: string;
  email: string;
  emailVerified: boolean;
  displayName: string | null;
  status: UserStatus;
  attributes: Record<string, unknown>;
  roles: string[];
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
  version: number;
}

/** An import job's state: `receiving` while the upload goes on, `failed` when it did not end. */
export type UserImportStatus = 'receiving' | 'queued' | 'running' | 'done' | 'failed';

/** A refused line of an import (line numbers from 1; 0 for the upload as a whole). */
export interface UserImportFailure {
  line: number;
  code: string;
  message: string;
}

/** `POST …/users/import` (202) and `GET …/users/imports/{id}`: a job and its counts (docs/import.md). */
export interface UserImport {
  id: string;
  status: UserImportStatus;
  /** Checked only: nothing was or will be written. */
  dryRun: boolean;
  /** Lines received. */
  lines: number;
  /** Lines up to which the file is applied (in a dry run: checked). */
  processed: number;
  /** Users created (in a dry run: that would be). */
  created: number;
  /** Lines whose email or id exists already: left as they are. */
  existing: number;
  /** Lines refused. */
  failed: number;
  /** The first 1,000 refused lines, by number. */
  failures: UserImportFailure[];
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface Session {
  id: string;
  signedInAt: string | null;
  expiresAt: string | null;
  /** client_ids the session has signed in to */
  clients: string[];
}

/** The server's own list: one source for what the API checks and what the console offers. */
export const PERMISSIONS = tenantPermissions;
export type { Permission };

/** A scope of one of the tenant's own APIs, as a role carries it (Auth0 RBAC names it a permission). */
export interface ApiPermission {
  /** The API's identifier (its audience) */
  api: string;
  scope: string;
}

export interface Role {
  id: string;
  name: string;
  description: string;
  /** Admin API permissions in its tenant */
  permissions: Permission[];
  /** Scopes of the tenant's own APIs; empty for the built-in roles (they grant every scope) */
  apiPermissions: ApiPermission[];
  builtin: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** `PATCH …/roles/{name}`: the name stays; what is left out stays as it is. */
export interface RolePatch {
  description?: string;
  permissions?: Permission[];
  apiPermissions?: ApiPermission[];
}

/**
 * `details` of a 403 `forbidden` from the granting rule (docs/authorization.md): what the
 * credential would reach that the caller does not hold, and which handed-out roles carry more.
 */
export interface GrantRefusalDetails {
  missing: {
    systemWide?: true;
    tenantWide?: true;
    permissions?: string[];
    apiPermissions?: ApiPermission[];
  };
  roles?: string[];
}

export interface ApiKey {
  id: string;
  name: string;
  roles: string[];
  /** The first characters of the secret, to recognise it */
  prefix: string;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface CreatedApiKey extends ApiKey {
  /** Shown this once, stored only as a hash */
  secret: string;
}

export type ClientKind = 'web' | 'spa' | 'native' | 'service';

export interface Client {
  id: string;
  clientId: string;
  kind: ClientKind;
  name: string;
  confidential: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scopes: string[];
  firstParty: boolean;
  defaultApi: string | null;
  accessTokenTtlSeconds: number | null;
  refreshTokenIdleSeconds: number | null;
  refreshTokenAbsoluteSeconds: number | null;
  idTokenSigningAlg: 'ES256' | 'RS256';
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  roles: string[];
  builtin: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface ClientWithSecret extends Client {
  /** Shown this once, stored only as a hash */
  clientSecret: string;
}

/**
 * The kinds of identity provider: any OpenID Connect provider or a preset of one (google,
 * microsoft, apple), OAuth 2 with a profile API (github, facebook), another tenant of this
 * Latchkey (latchkey), or a SAML 2.0 IdP (saml). Servers built before a kind existed refuse it.
 */
export type IdpKind = 'oidc' | 'google' | 'microsoft' | 'apple' | 'github' | 'facebook' | 'latchkey' | 'saml';

/** github, facebook: where their authorization, token and profile API are (GitHub Enterprise Server). */
export interface IdpEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  apiBase: string;
}

/** The `saml` member of a saml provider: the IdP as its metadata says, and what to register at the IdP. */
export interface IdpSaml {
  idpEntityId: string;
  idpSsoUrl: string;
  /** Where the metadata was read from (null: pasted as XML). */
  idpMetadataUrl: string | null;
  emailVerified: boolean;
  spEntityId: string;
  acsUrl: string;
  spMetadataUrl: string;
}

export type IdpAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** Which upstream claim gives what (`roles`: null maps no roles). */
export interface IdpClaims {
  email: string;
  emailVerified: string;
  name: string;
  roles: string | null;
}

/** An upstream group or role (a value of the `claims.roles` claim) → a role of the tenant. */
export interface IdpRoleMapping {
  upstream: string;
  role: string;
}

/**
 * An upstream identity provider of a tenant (`/tenants/{slug}/identity-providers`). Its client
 * secret and private key are write-only: the answer says only whether they are set.
 */
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
  tokenEndpointAuthMethod: IdpAuthMethod;
  scopes: string[];
  allowSignUp: boolean;
  allowLink: boolean;
  allowUnlink: boolean;
  /** Links to any user with the same email when the provider says it is verified. */
  trustEmails: boolean;
  /** Email domains whose users go straight to it (home-realm discovery). */
  domains: string[];
  claims: IdpClaims;
  roleMappings: IdpRoleMapping[];
  clientSecretSet: boolean;
  privateKeySet: boolean;
  /** github, facebook (servers with those kinds): the endpoints given (null: the public services). */
  endpoints?: IdpEndpoints | null;
  /** latchkey: the tenant it signs in through. */
  tenant?: string | null;
  /** apple: a key is stored (it is never returned). */
  appleKeySet?: boolean;
  /** saml only (servers with that kind). */
  saml?: IdpSaml;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A user's identity at an upstream provider (`GET …/users/{id}/identities`). */
export interface UserIdentity {
  id: string;
  userId: string;
  providerId: string;
  providerSlug: string;
  providerName: string;
  /** The upstream `sub`. */
  subject: string;
  email: string | null;
  createdAt: string;
  lastSignInAt: string | null;
}

export interface ResourceApi {
  id: string;
  /** The audience of its access tokens */
  identifier: string;
  name: string;
  scopes: { name: string; description: string }[];
  accessTokenTtlSeconds: number;
  builtin: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  version: number;
}

export interface SigningKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  status: 'next' | 'current' | 'previous';
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  publishedUntil: string | null;
  publicJwk: Record<string, unknown>;
}

/** An actor or target of an audit event, with what the server resolved about it. */
export interface AuditRef {
  type: string;
  id: string | null;
  /** A user's email; an API key's, application's, API's or role's name; a tenant's display name. Null once deleted. */
  name: string | null;
  /** Slug of the tenant it lives in (a tenant's own), when known. */
  tenantSlug: string | null;
}

export interface AuditEvent {
  id: string;
  occurredAt: string;
  /** Slug of the tenant the event belongs to */
  tenant: string;
  actor: AuditRef & { id: string | null };
  action: string;
  /** What it was done to; for a refused change, what its URL named. */
  target: (AuditRef & { id: string }) | null;
  outcome: 'success' | 'failure';
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown> | null;
}

/** A message in the outbox (`GET /tenants/{slug}/emails`). */
export interface Email {
  id: string;
  to: string;
  template: string;
  subject: string;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  nextAttemptAt: string | null;
  /** The whole message: only for system admins while nothing is sent (no SMTP_URL). */
  content?: { text: string; html: string };
}

/** The ticket page's welcome (`title`, `body`, `okText`: empty takes the page's own words). */
export interface TicketWelcome {
  title: string;
  body: string;
  okText: string;
  agreementRequired: boolean;
}

/** What an invitation ticket grants and where it leads (`/tenants/{slug}/ticket-types`, docs/tickets.md). */
export interface TicketType {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  /** Its tickets may register a new account, even where self-registration is off. */
  allowUserCreation: boolean;
  /** How long each ticket works once issued (1 to 8,760). */
  validityHours: number;
  /** Role names granted to whoever uses a ticket. */
  roles: string[];
  postUseUrl: string | null;
  postInvalidUrl: string | null;
  welcome: TicketWelcome;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** `POST …/ticket-types`: what is left out takes the server's default. */
export type TicketTypeInput = Partial<Omit<TicketType, 'id' | 'createdAt' | 'updatedAt' | 'version' | 'welcome'>> & {
  name: string;
  welcome?: Partial<TicketWelcome>;
};

/** `PATCH …/ticket-types/{id}`: only what changes; `welcome` is merged into the current one. */
export type TicketTypePatch = Partial<Omit<TicketTypeInput, 'name'>> & { name?: string };

export const TICKET_STATES = ['usable', 'expired', 'reissue_requested', 'used', 'disabled', 'reissued'] as const;
/** `usable`, `expired` and `reissue_requested` are live: at most one per key and type. */
export type TicketState = (typeof TICKET_STATES)[number];

/** A ticket as listed (never its secret). */
export interface Ticket {
  id: string;
  typeId: string;
  foreignKey: string;
  /** The normalised address, when the foreign key is an email (it was sent the invitation). */
  email: string | null;
  state: TicketState;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  /** The user who used it. */
  usedBy: string | null;
  disabledAt: string | null;
  reissuedAt: string | null;
  /** The ticket that replaced it. */
  replacedBy: string | null;
  reissueRequestedAt: string | null;
}

export type IssueOutcome = 'issued' | 'reissued' | 'skipped';

/** One key of a batch (or a reissue): `url` holds the secret, shown in this answer only; null when skipped. */
export interface IssuedTicket {
  foreignKey: string;
  ticketId: string;
  url: string | null;
  result: IssueOutcome;
}

/** `POST …/ticket-types/{id}/tickets`: one item per distinct key, in the order given. */
export interface IssueResult {
  items: IssuedTicket[];
  issued: number;
  reissued: number;
  skipped: number;
}
