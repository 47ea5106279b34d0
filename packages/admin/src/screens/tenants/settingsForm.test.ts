import { describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/types';
import { previewBody } from './BrandingPreview';
import { slugify } from './CreateTenantModal';
import { isOrigin, type TenantForm, tenantFormRules, toForm, toPatch } from './settingsForm';

const tenant: Tenant = {
  id: 'ten_1',
  slug: 'acme',
  displayName: 'Acme',
  version: 3,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  settings: {
    selfRegistration: false,
    passwordSignIn: true,
    requireVerifiedEmail: false,
    selfDeletion: true,
    defaultLocale: 'de',
    passwordMinLength: 8,
    lifetimes: {
      accessTokenSeconds: 3600,
      refreshTokenIdleSeconds: 1_209_600,
      refreshTokenAbsoluteSeconds: 2_592_000,
      sessionIdleSeconds: 86_400,
      sessionAbsoluteSeconds: 1_209_600,
    },
    lockout: { maxFailures: 10, durationSeconds: 900 },
    allowedOrigins: ['https://app.acme.test'],
    keyRotationDays: null,
    branding: { logoUrl: null, primaryColor: '#1f6feb', loginMessage: null },
  },
};

describe('tenant settings form', () => {
  it('round-trips the tenant: the PATCH body equals the settings it came from', () => {
    expect(toPatch(toForm(tenant))).toEqual({ displayName: 'Acme', settings: tenant.settings });
  });

  it('turns blanks into null and the rotation switch into keyRotationDays', () => {
    const form = toForm(tenant);
    expect(form.autoRotateKeys).toBe(false);
    form.autoRotateKeys = true;
    form.settings.keyRotationDays = 30;
    form.settings.branding.logoUrl = '  ';
    form.settings.branding.loginMessage = ' Hello ';
    form.displayName = ' Acme Inc ';
    const patch = toPatch(form);
    expect(patch.displayName).toBe('Acme Inc');
    expect(patch.settings.keyRotationDays).toBe(30);
    expect(patch.settings.branding).toEqual({ logoUrl: null, primaryColor: '#1f6feb', loginMessage: 'Hello' });
    form.autoRotateKeys = false;
    expect(toPatch(form).settings.keyRotationDays).toBeNull();
  });

  it('checks lifetimes against each other as the server does', () => {
    const form: TenantForm = toForm(tenant);
    const rules = tenantFormRules.settings.lifetimes;
    expect(rules.accessTokenSeconds(3600, form)).toBeNull();
    form.settings.lifetimes.refreshTokenIdleSeconds = 1800;
    expect(rules.accessTokenSeconds(3600, form)).toMatch(/refresh token idle/);
    expect(rules.accessTokenSeconds(30, form)).toMatch(/Between 1 min and 1 day/);
    expect(rules.sessionIdleSeconds(2_000_000, form)).toMatch(/session absolute/);
    expect(rules.refreshTokenAbsoluteSeconds('')).toBe('Required');
  });

  it('checks origins, colours and logo URLs', () => {
    expect(isOrigin('https://app.example.com')).toBe(true);
    expect(isOrigin('http://localhost:3000')).toBe(true);
    expect(isOrigin('https://app.example.com/')).toBe(false);
    expect(isOrigin('https://app.example.com/path')).toBe(false);
    expect(isOrigin('https://*.example.com')).toBe(false);
    expect(isOrigin('ftp://example.com')).toBe(false);
    const s = tenantFormRules.settings;
    expect(s.allowedOrigins(['https://ok.test', 'https://bad.test/'])).toMatch(/bad\.test\//);
    expect(s.branding.primaryColor('#12345')).not.toBeNull();
    expect(s.branding.primaryColor('#12345a')).toBeNull();
    expect(s.branding.logoUrl('javascript:alert(1)')).not.toBeNull();
    expect(s.branding.logoUrl('https://cdn.test/logo.svg')).toBeNull();
    expect(s.keyRotationDays('', { ...toForm(tenant), autoRotateKeys: false })).toBeNull();
    expect(s.keyRotationDays(0, { ...toForm(tenant), autoRotateKeys: true })).not.toBeNull();
  });
});

describe('branding preview body', () => {
  it('sends only values the server accepts, so a half-typed colour keeps the last good one', () => {
    expect(
      previewBody({ displayName: ' Acme ', logoUrl: 'https://x.test/l.png', primaryColor: '#abc', loginMessage: '' }),
    ).toEqual({
      displayName: 'Acme',
      branding: { logoUrl: 'https://x.test/l.png', loginMessage: null },
    });
    expect(previewBody({ displayName: '', logoUrl: 'not a url', primaryColor: '#aabbcc', loginMessage: 'Hi' })).toEqual(
      {
        branding: { logoUrl: null, primaryColor: '#aabbcc', loginMessage: 'Hi' },
      },
    );
    // The form's default language, for the preview's words.
    expect(
      previewBody({ displayName: 'Acme', logoUrl: '', primaryColor: '#aabbcc', loginMessage: '', locale: 'de' }),
    ).toEqual({
      displayName: 'Acme',
      branding: { logoUrl: null, primaryColor: '#aabbcc', loginMessage: null },
      locale: 'de',
    });
  });
});

describe('slugify', () => {
  it('suggests a valid slug from a display name', () => {
    expect(slugify('Acme Corp.')).toBe('acme-corp');
    expect(slugify('  Ünïcödé  Straße ')).toBe('unicode-stra-e');
    expect(slugify('---')).toBe('');
    expect(slugify('a'.repeat(70))).toHaveLength(63);
  });
});
