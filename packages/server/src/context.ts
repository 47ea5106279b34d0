/**
 * The services one running node shares, wired by plain constructor injection. Built once
 * by the composition root (main.ts) or by a test.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { UserLinks } from './accounts/links.js';
import { PasswordResets } from './accounts/password-reset.js';
import { EmailVerifications } from './accounts/verification.js';
import { ApiKeyService } from './api-keys/service.js';
import { ApiService } from './apis/service.js';
import { AuditService } from './audit/service.js';
import { CredentialService } from './auth/credentials.js';
import { ClientService } from './clients/service.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { EmailOutbox } from './email/outbox.js';
import { smtpTransport } from './email/transport.js';
import { LatchkeyTenantClients } from './federation/kinds/latchkey.js';
import { outboundFetch, outboundPolicyOf } from './federation/outbound.js';
import { IdentityProviders, UserIdentities } from './federation/store.js';
import { SecretBox } from './keys/crypto.js';
import { KeyService } from './keys/service.js';
import { AttemptLimit } from './login/attempt-limit.js';
import { DbLockoutStore, RedisLockoutStore } from './login/lockout.js';
import { Pages } from './login/pages.js';
import { SignInService } from './login/service.js';
import type { Metrics } from './metrics/metrics.js';
import { ChangeNotices } from './notices.js';
import { ProviderPool } from './oidc/provider.js';
import { PasswordHasher } from './passwords/hash.js';
import { RoleService } from './roles/service.js';
import { InstanceSecrets } from './secret.js';
import { TenantService } from './tenants/service.js';
import { TicketService } from './tickets/service.js';
import { TicketTypeService } from './tickets/types.js';
import { ImportWorker, UserImports } from './user-imports/service.js';
import { UserService } from './users/service.js';

export interface AppContext {
  config: Config;
  database: Database;
  log: Logger;
  /** This instance's Prometheus metrics (metrics/), or undefined when they are off. */
  metrics: Metrics | undefined;
  secrets: InstanceSecrets;
  /** Every password hash a request needs, fairly queued and bounded. */
  hasher: PasswordHasher;
  audit: AuditService;
  tenants: TenantService;
  users: UserService;
  roles: RoleService;
  apiKeys: ApiKeyService;
  credentials: CredentialService;
  keys: KeyService;
  apis: ApiService;
  clients: ClientService;
  providers: ProviderPool;
  pages: Pages;
  signIn: SignInService;
  /** Self-registration attempts per client address (REGISTRATION_LIMIT). */
  registrations: AttemptLimit;
  notices: ChangeNotices;
  /** The email outbox and its sender (email/outbox.ts). */
  emails: EmailOutbox;
  resets: PasswordResets;
  verifications: EmailVerifications;
  /** Messages that unauthenticated requests cause (forgot password), per client address and per recipient, per hour. */
  emailLimits: { perAddress: AttemptLimit; perRecipient: AttemptLimit };
  /** Invitation ticket types and their tickets (tickets/). */
  ticketTypes: TicketTypeService;
  tickets: TicketService;
  /** User imports and exports, and the worker that applies imports (user-imports/). */
  imports: UserImports;
  importWorker: ImportWorker;
  /** The tenant's upstream identity providers, and users' identities at them (federation/). */
  identityProviders: IdentityProviders;
  identities: UserIdentities;
}

export function createContext(
  config: Config,
  database: Database,
  log: Logger,
  options: { instanceSecret: string; redis?: Redis | undefined; metrics?: Metrics | undefined },
): AppContext {
  const { db } = database;
  const { metrics } = options;
  const secrets = new InstanceSecrets(options.instanceSecret);
  const adminApi = `${config.publicUrl}/api`;
  const audit = new AuditService(db);
  const hasher = new PasswordHasher(config.hashQueue);
  const tenants = new TenantService(db, audit, config.cacheTtlMs, config.publicUrl);
  const roles = new RoleService(database, audit);
  const users = new UserService(database, audit, roles, hasher);
  const apiKeys = new ApiKeyService(database, audit, roles, config.cacheTtlMs, log);
  const keys = new KeyService(database, new SecretBox(options.instanceSecret), audit);
  const apis = new ApiService(db, database.dialect, audit, adminApi);
  const clients = new ClientService(db, audit, roles, adminApi, config.cacheTtlMs);
  const pages = new Pages();
  const providers = new ProviderPool({
    config,
    db,
    dialect: database.dialect,
    keys,
    clients,
    apis,
    roles,
    users,
    pages,
    log,
    instanceSecret: options.instanceSecret,
    metrics,
  });
  const lockout = options.redis ? new RedisLockoutStore(options.redis) : new DbLockoutStore(db);
  const signIn = new SignInService(db, lockout, audit, hasher, metrics);
  const registrations = new AttemptLimit(lockout, 'register', config.registrationLimit);
  const emails = new EmailOutbox(
    db,
    new SecretBox(options.instanceSecret, 'email-outbox/v1'),
    config.email,
    log,
    config.email.smtpUrl ? smtpTransport(config.email.smtpUrl) : undefined,
    config.env !== 'production',
  );
  const links = new UserLinks(db, secrets.derive('link-codes/v1'));
  const resets = new PasswordResets(db, links, emails, audit, hasher, config.publicUrl);
  const verifications = new EmailVerifications(db, links, emails, audit, users, config.publicUrl);
  const ticketTypes = new TicketTypeService(db, audit, roles, config.publicUrl);
  const tickets = new TicketService(db, audit, ticketTypes, emails, config.publicUrl);
  const emailLimits = {
    perAddress: new AttemptLimit(lockout, 'email', { max: config.email.addressLimit, windowSeconds: 3600 }),
    perRecipient: new AttemptLimit(lockout, 'email', { max: config.email.recipientLimit, windowSeconds: 3600 }),
  };
  const imports = new UserImports(database, roles, audit, log);
  const importWorker = new ImportWorker(imports, log);
  const identityProviders = new IdentityProviders(
    db,
    database.dialect,
    new SecretBox(options.instanceSecret, 'identity-providers/v1'),
    audit,
    roles,
    config.cacheTtlMs,
    config.publicUrl,
    // Notices are made below; a provider is only ever saved once the context is built.
    new LatchkeyTenantClients(clients, tenants, config.publicUrl, (change) => notices.changed(change)),
    outboundFetch(outboundPolicyOf(config)),
  );
  const identities = new UserIdentities(db, database.dialect, audit);
  const credentials = new CredentialService(apiKeys, { tenants, keys, roles, clients, db, config, adminApi });
  // What a change may have made stale. Any change in a tenant may touch roles, keys or users
  // behind its cached credentials; only some touch what its provider is built from.
  const notices = new ChangeNotices(
    (change) => {
      credentials.invalidate(change.tenantId);
      identityProviders.invalidate(change.tenantId);
      if (!change.oidc) return;
      clients.invalidate();
      if (change.slug) tenants.invalidate(change.slug);
      if (change.tenantId) providers.invalidate(change.tenantId);
    },
    log,
    options.redis,
  );
  return {
    config,
    database,
    log,
    metrics,
    secrets,
    hasher,
    audit,
    tenants,
    users,
    roles,
    apiKeys,
    credentials,
    keys,
    apis,
    clients,
    providers,
    pages,
    signIn,
    registrations,
    notices,
    emails,
    resets,
    verifications,
    emailLimits,
    ticketTypes,
    tickets,
    imports,
    importWorker,
    identityProviders,
    identities,
  };
}
