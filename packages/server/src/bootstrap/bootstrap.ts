/**
 * First start: the `system` tenant, an admin user holding `system:admin`, and a system API
 * key. Safe when several processes start at once on one database: the tenant insert is
 * `ON CONFLICT DO NOTHING` inside the transaction that creates everything else, so exactly
 * one process creates them and the others see it done.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { generateApiKeySecret, insertApiKey } from '../api-keys/service.js';
import { type AuditService, systemActor } from '../audit/service.js';
import { SYSTEM_ADMIN_ROLE, SYSTEM_TENANT_SLUG } from '../auth/permissions.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { newId } from '../ids.js';
import { hashPassword } from '../passwords/hash.js';
import { checkPassword } from '../passwords/policy.js';
import { insertTenant } from '../tenants/service.js';
import { tenantSettingsSchema } from '../tenants/settings.js';
import { normalizeEmail } from '../users/service.js';

export interface BootstrapResult {
  adminEmail: string;
  /** Set only when generated here (and so printed once). */
  generatedPassword: string | undefined;
  /** Set only when generated here (and so printed once). */
  generatedApiKey: string | undefined;
}

export class BootstrapError extends Error {
  override name = 'BootstrapError';
}

/** Creates the system tenant and its first credentials; undefined when already done. */
export async function bootstrap(
  database: Database,
  config: Pick<Config, 'bootstrap' | 'publicUrl'>,
  audit: AuditService,
): Promise<BootstrapResult | undefined> {
  const { db } = database;
  const existing = await db
    .selectFrom('tenants')
    .select('id')
    .where('slug', '=', SYSTEM_TENANT_SLUG)
    .executeTakeFirst();
  if (existing) return undefined;

  const adminEmail = normalizeEmail(config.bootstrap.adminEmail);
  const generatedPassword = config.bootstrap.adminPassword ? undefined : generatedAdminPassword();
  let password: string;
  try {
    password = checkPassword(config.bootstrap.adminPassword ?? generatedPassword ?? '', {
      minLength: 8,
      email: adminEmail,
    });
  } catch (err) {
    throw new BootstrapError(
      `LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD: ${err instanceof Error ? err.message : 'not acceptable'}`,
    );
  }
  const passwordHash = await hashPassword(password);
  const generatedApiKey = config.bootstrap.apiKey ? undefined : generateApiKeySecret();
  const apiKey = config.bootstrap.apiKey ?? generatedApiKey ?? '';

  return db.transaction().execute(async (trx) => {
    const now = Date.now();
    const created = await insertTenant(trx, SYSTEM_TENANT_SLUG, 'System', tenantSettingsSchema.parse({}), {
      publicUrl: config.publicUrl,
      ifAbsent: true,
    });
    if (!created) return undefined; // another process got here first
    const { tenant, roleIds } = created;
    const systemAdminRoleId = roleIds[SYSTEM_ADMIN_ROLE] ?? '';
    const userId = await insertSystemAdmin(trx, tenant.id, systemAdminRoleId, adminEmail, passwordHash, now);
    const key = await insertApiKey(trx, tenant.id, {
      name: 'bootstrap',
      secret: apiKey,
      roleIds: [systemAdminRoleId],
      createdBy: null,
      expiresAt: null,
    });
    await audit.record(trx, systemActor, {
      tenantId: tenant.id,
      action: 'system.bootstrap',
      target: { type: 'tenant', id: tenant.id },
      details: { adminUser: userId, apiKey: key.id },
    });
    return { adminEmail, generatedPassword, generatedApiKey };
  });
}

/** A user of the system tenant holding `system:admin`, with a verified email; returns its id. */
export async function insertSystemAdmin(
  trx: Kysely<DB>,
  tenantId: string,
  systemAdminRoleId: string,
  email: string,
  passwordHash: string,
  now: number,
): Promise<string> {
  const userId = newId('user');
  await trx
    .insertInto('users')
    .values({
      id: userId,
      tenant_id: tenantId,
      email,
      email_verified: 1,
      display_name: 'Administrator',
      name_sort: 'administrator',
      status: 'active',
      attributes: '{}',
      password_hash: passwordHash,
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await trx
    .insertInto('user_roles')
    .values({ tenant_id: tenantId, user_id: userId, role_id: systemAdminRoleId, created_at: now })
    .execute();
  return userId;
}

/** A password to print once: 144 random bits (what the first start generates too). */
export function generatedAdminPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** What an operator needs to sign in, printed once on the first start. */
export function bootstrapMessage(result: BootstrapResult, publicUrl: string): string {
  const lines = [
    '',
    `Latchkey is set up. Open the admin console at ${publicUrl}/admin and sign in as:`,
    `  email:    ${result.adminEmail}`,
    `  password: ${result.generatedPassword ?? '(the one in LATCHKEY_BOOTSTRAP_ADMIN_PASSWORD)'}`,
    '',
    `System API key (system:admin): ${result.generatedApiKey ?? '(the one in LATCHKEY_BOOTSTRAP_API_KEY)'}`,
    `  curl -H "Authorization: Bearer ${result.generatedApiKey ?? '$LATCHKEY_BOOTSTRAP_API_KEY'}" ${publicUrl}/api/v1/tenants`,
    '',
    result.generatedPassword || result.generatedApiKey
      ? 'These generated values are shown only this once: keep them now.'
      : '',
    `API docs: ${publicUrl}/api/docs`,
    '',
  ];
  return lines.join('\n');
}
