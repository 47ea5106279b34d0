/**
 * The tenant settings form: conversion between the API's tenant and the form's values, the
 * PATCH body, and the same checks the server makes (so most mistakes show before saving).
 */
import type { Locale } from '../../../../server/src/i18n/locales';
import type { Tenant, TenantSettings } from '../../api/types';

type Num = number | '';

export interface TenantForm {
  displayName: string;
  /** Not in the API: off means keyRotationDays = null (rotate only on request). */
  autoRotateKeys: boolean;
  settings: {
    selfRegistration: boolean;
    passwordSignIn: boolean;
    requireVerifiedEmail: boolean;
    selfDeletion: boolean;
    defaultLocale: Locale;
    passwordMinLength: Num;
    lifetimes: {
      accessTokenSeconds: Num;
      refreshTokenIdleSeconds: Num;
      refreshTokenAbsoluteSeconds: Num;
      sessionIdleSeconds: Num;
      sessionAbsoluteSeconds: Num;
    };
    lockout: { maxFailures: Num; durationSeconds: Num };
    allowedOrigins: string[];
    keyRotationDays: Num;
    branding: { logoUrl: string; primaryColor: string; loginMessage: string };
  };
}

/** Every field path of the form, for mapping API errors to fields. */
export const TENANT_FORM_FIELDS = [
  'displayName',
  'settings.selfRegistration',
  'settings.passwordSignIn',
  'settings.requireVerifiedEmail',
  'settings.selfDeletion',
  'settings.defaultLocale',
  'settings.passwordMinLength',
  'settings.lifetimes.accessTokenSeconds',
  'settings.lifetimes.refreshTokenIdleSeconds',
  'settings.lifetimes.refreshTokenAbsoluteSeconds',
  'settings.lifetimes.sessionIdleSeconds',
  'settings.lifetimes.sessionAbsoluteSeconds',
  'settings.lockout.maxFailures',
  'settings.lockout.durationSeconds',
  'settings.allowedOrigins',
  'settings.keyRotationDays',
  'settings.branding.logoUrl',
  'settings.branding.primaryColor',
  'settings.branding.loginMessage',
] as const;

export function toForm(tenant: Tenant): TenantForm {
  const s = tenant.settings;
  return {
    displayName: tenant.displayName,
    autoRotateKeys: s.keyRotationDays !== null,
    settings: {
      selfRegistration: s.selfRegistration,
      passwordSignIn: s.passwordSignIn,
      requireVerifiedEmail: s.requireVerifiedEmail,
      selfDeletion: s.selfDeletion,
      defaultLocale: s.defaultLocale,
      passwordMinLength: s.passwordMinLength,
      lifetimes: { ...s.lifetimes },
      lockout: { ...s.lockout },
      allowedOrigins: [...s.allowedOrigins],
      keyRotationDays: s.keyRotationDays ?? 90,
      branding: {
        logoUrl: s.branding.logoUrl ?? '',
        primaryColor: s.branding.primaryColor,
        loginMessage: s.branding.loginMessage ?? '',
      },
    },
  };
}

const num = (v: Num): number => (v === '' ? Number.NaN : v);

/** The PATCH body: display name and the whole settings object (the API merges groups). */
export function toPatch(values: TenantForm): { displayName: string; settings: TenantSettings } {
  const s = values.settings;
  return {
    displayName: values.displayName.trim(),
    settings: {
      selfRegistration: s.selfRegistration,
      passwordSignIn: s.passwordSignIn,
      requireVerifiedEmail: s.requireVerifiedEmail,
      selfDeletion: s.selfDeletion,
      defaultLocale: s.defaultLocale,
      passwordMinLength: num(s.passwordMinLength),
      lifetimes: {
        accessTokenSeconds: num(s.lifetimes.accessTokenSeconds),
        refreshTokenIdleSeconds: num(s.lifetimes.refreshTokenIdleSeconds),
        refreshTokenAbsoluteSeconds: num(s.lifetimes.refreshTokenAbsoluteSeconds),
        sessionIdleSeconds: num(s.lifetimes.sessionIdleSeconds),
        sessionAbsoluteSeconds: num(s.lifetimes.sessionAbsoluteSeconds),
      },
      lockout: { maxFailures: num(s.lockout.maxFailures), durationSeconds: num(s.lockout.durationSeconds) },
      allowedOrigins: s.allowedOrigins,
      keyRotationDays: values.autoRotateKeys ? num(s.keyRotationDays) : null,
      branding: {
        logoUrl: s.branding.logoUrl.trim() || null,
        primaryColor: s.branding.primaryColor,
        loginMessage: s.branding.loginMessage.trim() || null,
      },
    },
  };
}

/** An origin: scheme, host and optional port; no path, no trailing slash, no wildcard. */
export function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (
      (u.protocol === 'https:' || u.protocol === 'http:') &&
      u.origin === value &&
      /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/.test(u.hostname)
    );
  } catch {
    return false;
  }
}

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

export const COLOR = /^#[0-9a-fA-F]{6}$/;

const range =
  (min: number, max: number, what = '') =>
  (v: Num) =>
    v === '' ? 'Required' : v < min || v > max || !Number.isInteger(v) ? `Between ${min} and ${max}${what}` : null;

const DAY = 86_400;
const seconds = (min: number, max: number) => (v: Num) =>
  v === '' ? 'Required' : v < min || v > max ? `Between ${describe(min)} and ${describe(max)}` : null;

function describe(s: number): string {
  if (s % DAY === 0) return `${s / DAY} day${s === DAY ? '' : 's'}`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** Mantine form validation rules mirroring the server's (settings.ts). */
export const tenantFormRules = {
  displayName: (v: string) => (v.trim() ? (v.trim().length > 200 ? 'At most 200 characters' : null) : 'Required'),
  settings: {
    passwordMinLength: range(8, 256, ' characters'),
    lifetimes: {
      accessTokenSeconds: (v: Num, all: TenantForm) =>
        seconds(60, DAY)(v) ??
        (v !== '' &&
        all.settings.lifetimes.refreshTokenIdleSeconds !== '' &&
        v > all.settings.lifetimes.refreshTokenIdleSeconds
          ? 'Must not exceed the refresh token idle lifetime'
          : null),
      refreshTokenIdleSeconds: (v: Num, all: TenantForm) =>
        seconds(300, 365 * DAY)(v) ??
        (v !== '' &&
        all.settings.lifetimes.refreshTokenAbsoluteSeconds !== '' &&
        v > all.settings.lifetimes.refreshTokenAbsoluteSeconds
          ? 'Must not exceed the refresh token absolute lifetime'
          : null),
      refreshTokenAbsoluteSeconds: seconds(300, 365 * DAY),
      sessionIdleSeconds: (v: Num, all: TenantForm) =>
        seconds(300, 365 * DAY)(v) ??
        (v !== '' &&
        all.settings.lifetimes.sessionAbsoluteSeconds !== '' &&
        v > all.settings.lifetimes.sessionAbsoluteSeconds
          ? 'Must not exceed the session absolute lifetime'
          : null),
      sessionAbsoluteSeconds: seconds(300, 365 * DAY),
    },
    lockout: {
      maxFailures: range(1, 1000),
      durationSeconds: seconds(1, DAY),
    },
    allowedOrigins: (v: string[]) => {
      if (v.length > 100) return 'At most 100 origins';
      const bad = v.filter((o) => !isOrigin(o));
      return bad.length ? `Not an origin (scheme://host[:port], nothing after): ${bad.join(', ')}` : null;
    },
    keyRotationDays: (v: Num, all: TenantForm) => (all.autoRotateKeys ? range(1, 3650, ' days')(v) : null),
    branding: {
      logoUrl: (v: string) => (v.trim() && !isHttpUrl(v.trim()) ? 'An http(s) URL' : null),
      primaryColor: (v: string) => (COLOR.test(v) ? null : 'A colour like #1f6feb'),
      loginMessage: (v: string) => (v.length > 1000 ? 'At most 1000 characters' : null),
    },
  },
};
