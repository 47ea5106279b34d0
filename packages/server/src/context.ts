/**
 * The services one running node shares, wired by plain constructor injection. Built once
 * by the composition root (main.ts) or by a test.
 */
import type { Logger } from 'pino';
import { ApiKeyService } from './api-keys/service.js';
import { AuditService } from './audit/service.js';
import { CredentialService } from './auth/credentials.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { RoleService } from './roles/service.js';
import { TenantService } from './tenants/service.js';
import { UserService } from './users/service.js';

export interface AppContext {
  config: Config;
  database: Database;
  log: Logger;
  audit: AuditService;
  tenants: TenantService;
  users: UserService;
  roles: RoleService;
  apiKeys: ApiKeyService;
  credentials: CredentialService;
}

export function createContext(config: Config, database: Database, log: Logger): AppContext {
  const { db } = database;
  const audit = new AuditService(db);
  const tenants = new TenantService(db, audit, config.cacheTtlMs);
  const roles = new RoleService(database, audit);
  const users = new UserService(database, audit, roles);
  const apiKeys = new ApiKeyService(database, audit, roles, config.cacheTtlMs, log);
  const credentials = new CredentialService(apiKeys);
  return { config, database, log, audit, tenants, users, roles, apiKeys, credentials };
}
