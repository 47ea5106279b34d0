/**
 * Tenant settings as stored, across releases (a blue/green deploy runs two at once): a field
 * added since the previous release is stored only once it leaves its default (the previous
 * release reads strictly, and would refuse the tenant), and this release reads settings that a
 * newer one wrote, leaving out what it does not know, at any level.
 */
import { describe, expect, it } from 'vitest';
import { readSettings, storedSettings, tenantSettingsSchema } from '../src/tenants/settings.js';
import { startTestServer, tenantWithAdmin } from './helpers/server.js';

describe('tenant settings as stored', () => {
  const defaults = tenantSettingsSchema.parse({});

  it('leaves passwordSignIn out while it has its default, and keeps it once it is off', () => {
    expect(Object.keys(JSON.parse(storedSettings(defaults)))).not.toContain('passwordSignIn');
    expect(readSettings(storedSettings(defaults))).toEqual(defaults);
    const off = { ...defaults, passwordSignIn: false };
    expect(JSON.parse(storedSettings(off)).passwordSignIn).toBe(false);
    expect(readSettings(storedSettings(off))).toEqual(off);
  });

  it('reads what a newer release wrote: unknown fields left out, top-level and in groups', () => {
    const newer = JSON.stringify({
      ...defaults,
      someLaterSetting: { a: 1 },
      lockout: { ...defaults.lockout, laterLockoutField: true },
      branding: { ...defaults.branding, laterBrandingField: 'x' },
    });
    expect(readSettings(newer)).toEqual(defaults);
    // Still refused when a known field is wrong.
    expect(() => readSettings(JSON.stringify({ ...defaults, passwordMinLength: 3 }))).toThrow();
  });

  it('stores a tenant made through the API without the field, as the previous release reads it', async () => {
    const ts = await startTestServer('sqlite');
    try {
      const { slug } = await tenantWithAdmin(ts);
      const row = await ts.server.ctx.database.db
        .selectFrom('tenants')
        .select('settings')
        .where('slug', '=', slug)
        .executeTakeFirstOrThrow();
      expect(Object.keys(JSON.parse(row.settings))).not.toContain('passwordSignIn');
      expect((await ts.api('GET', `/api/v1/tenants/${slug}`)).body.settings.passwordSignIn).toBe(true);
    } finally {
      await ts.close();
    }
  });
});
