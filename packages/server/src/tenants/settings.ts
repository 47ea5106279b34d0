import { z } from 'zod';
import { supportedLocales } from '../i18n/locales.js';

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);
const DAY = 86_400;

const origin = z
  .string()
  .max(2048)
  .refine(
    (v) => {
      try {
        const u = new URL(v);
        return (
          (u.protocol === 'https:' || u.protocol === 'http:') &&
          u.origin === v &&
          // The URL parser lets through hosts like `*.example.com`; an origin names one host.
          /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/.test(u.hostname)
        );
      } catch {
        return false;
      }
    },
    { message: 'must be an origin: scheme, host and optional port, no path or trailing slash' },
  );

// Field validators without defaults: PATCH uses them as they are, the stored form adds defaults.
const brandingFields = {
  logoUrl: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullable(),
  primaryColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #1f6feb'),
  loginMessage: z.string().max(1000).nullable(),
};
const lifetimeFields = {
  accessTokenSeconds: seconds(60, DAY),
  refreshTokenIdleSeconds: seconds(300, 365 * DAY),
  refreshTokenAbsoluteSeconds: seconds(300, 365 * DAY),
  sessionIdleSeconds: seconds(300, 365 * DAY),
  sessionAbsoluteSeconds: seconds(300, 365 * DAY),
};
const lockoutFields = {
  maxFailures: z.number().int().min(1).max(1000).describe('Failed sign-ins per account before it locks (per IP: 10×)'),
  durationSeconds: seconds(1, DAY),
};
const emailFields = {
  fromName: z
    .string()
    .min(1)
    .max(100)
    .nullable()
    .describe("The sender name of the tenant's messages (default: the tenant's display name)"),
  replyTo: z.email().max(320).nullable().describe('Where replies to its messages go'),
  passwordResetMinutes: z.number().int().min(5).max(1440).describe('How long a password reset link works'),
  verificationHours: z.number().int().min(1).max(720).describe('How long an email verification link works'),
};
const topFields = {
  selfRegistration: z.boolean(),
  passwordSignIn: z
    .boolean()
    .describe(
      'Users sign in with a password on the sign-in page; false: only through the identity providers (no password form, registration or password reset). The system tenant keeps it',
    ),
  passwordMinLength: z.number().int().min(8).max(256),
  allowedOrigins: z.array(origin).max(100),
  keyRotationDays: z.number().int().min(1).max(3650).nullable(),
  requireVerifiedEmail: z
    .boolean()
    .describe('A user whose email is not verified gets no code at sign-in: they are offered the verification message'),
  defaultLocale: z
    .enum(supportedLocales)
    .describe(
      "The language of the tenant's pages and emails when neither the application's ui_locales nor the browser's Accept-Language names one that ships",
    ),
  selfDeletion: z
    .boolean()
    .describe('Users may delete their own account on the account page, after entering their password'),
};

export const tenantSettingsSchema = z
  .strictObject({
    selfRegistration: topFields.selfRegistration.default(false),
    passwordSignIn: topFields.passwordSignIn.default(true),
    passwordMinLength: topFields.passwordMinLength.default(8),
    lifetimes: z
      .strictObject({
        accessTokenSeconds: lifetimeFields.accessTokenSeconds.default(3600),
        refreshTokenIdleSeconds: lifetimeFields.refreshTokenIdleSeconds.default(14 * DAY),
        refreshTokenAbsoluteSeconds: lifetimeFields.refreshTokenAbsoluteSeconds.default(30 * DAY),
        sessionIdleSeconds: lifetimeFields.sessionIdleSeconds.default(DAY),
        sessionAbsoluteSeconds: lifetimeFields.sessionAbsoluteSeconds.default(14 * DAY),
      })
      .prefault({}),
    lockout: z
      .strictObject({
        maxFailures: lockoutFields.maxFailures.default(10),
        durationSeconds: lockoutFields.durationSeconds.default(900),
      })
      .prefault({}),
    allowedOrigins: topFields.allowedOrigins.default([]),
    keyRotationDays: topFields.keyRotationDays
      .default(null)
      .describe('Rotate signing keys every N days; null: only on request'),
    requireVerifiedEmail: topFields.requireVerifiedEmail.default(false),
    defaultLocale: topFields.defaultLocale.default('en'),
    selfDeletion: topFields.selfDeletion.default(false),
    email: z
      .strictObject({
        fromName: emailFields.fromName.default(null),
        replyTo: emailFields.replyTo.default(null),
        passwordResetMinutes: emailFields.passwordResetMinutes.default(30),
        verificationHours: emailFields.verificationHours.default(24),
      })
      .prefault({}),
    branding: z
      .strictObject({
        logoUrl: brandingFields.logoUrl.default(null),
        primaryColor: brandingFields.primaryColor.default('#1f6feb'),
        loginMessage: brandingFields.loginMessage.default(null),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    const l = s.lifetimes;
    const order: [keyof typeof l, keyof typeof l][] = [
      ['accessTokenSeconds', 'refreshTokenIdleSeconds'],
      ['refreshTokenIdleSeconds', 'refreshTokenAbsoluteSeconds'],
      ['sessionIdleSeconds', 'sessionAbsoluteSeconds'],
    ];
    for (const [shorter, longer] of order) {
      if (l[shorter] > l[longer]) {
        ctx.addIssue({ code: 'custom', path: ['lifetimes', shorter], message: `must not exceed ${longer}` });
      }
    }
  })
  .meta({ id: 'TenantSettings' });

export type TenantSettings = z.output<typeof tenantSettingsSchema>;

/** What PATCH accepts: any subset; nested groups are merged into the current settings. */
export const tenantSettingsPatchSchema = z.strictObject({
  selfRegistration: topFields.selfRegistration.optional(),
  passwordSignIn: topFields.passwordSignIn.optional(),
  passwordMinLength: topFields.passwordMinLength.optional(),
  allowedOrigins: topFields.allowedOrigins.optional(),
  keyRotationDays: topFields.keyRotationDays.optional(),
  requireVerifiedEmail: topFields.requireVerifiedEmail.optional(),
  defaultLocale: topFields.defaultLocale.optional(),
  selfDeletion: topFields.selfDeletion.optional(),
  lifetimes: z.strictObject(lifetimeFields).partial().optional(),
  lockout: z.strictObject(lockoutFields).partial().optional(),
  branding: z.strictObject(brandingFields).partial().optional(),
  email: z.strictObject(emailFields).partial().optional(),
});

export type TenantSettingsPatch = z.infer<typeof tenantSettingsPatchSchema>;

/**
 * Reads stored settings; fields added by later versions take their defaults, and fields this
 * version does not know (written by a newer node beside it, in a blue/green deploy) are left
 * out rather than refused.
 */
export function readSettings(json: string): TenantSettings {
  return tenantSettingsSchema.parse(knownFields(JSON.parse(json), tenantSettingsSchema.parse({})));
}

/** `value` with only the object keys `shape` has, at every level (groups are plain objects). */
function knownFields(value: unknown, shape: unknown): unknown {
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(value) || !isRecord(shape)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => Object.hasOwn(shape, key))
      .map(([key, v]) => [key, knownFields(v, shape[key])]),
  );
}

/**
 * The settings as stored: a field added since the previous release is left out while it has
 * its default, so that a node of that release (beside this one in a blue/green deploy, its
 * reading strict) can still read the tenant. `passwordSignIn` (1.3.0) is such a field.
 */
export function storedSettings(settings: TenantSettings): string {
  const { passwordSignIn, ...earlier } = settings;
  return JSON.stringify(passwordSignIn ? earlier : settings);
}

/** Settings after applying a patch (or creation input), validated as a whole. */
export function applySettingsPatch(current: TenantSettings | undefined, patch: TenantSettingsPatch) {
  const base = current ?? tenantSettingsSchema.parse({});
  const merged = {
    ...base,
    ...defined(patch),
    lifetimes: { ...base.lifetimes, ...defined(patch.lifetimes ?? {}) },
    lockout: { ...base.lockout, ...defined(patch.lockout ?? {}) },
    branding: { ...base.branding, ...defined(patch.branding ?? {}) },
    email: { ...base.email, ...defined(patch.email ?? {}) },
  };
  return tenantSettingsSchema.safeParse(merged);
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
