/**
 * The interaction pages oidc-provider sends browsers to: sign-in, registration, consent
 * and abort, under /t/{slug}/interaction/{uid}. Every POST carries a CSRF token bound to the
 * interaction and is answered with 303.
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type Provider from 'oidc-provider';
import { deviceOf } from '../accounts/device.js';
import { actorOf } from '../audit/service.js';
import type { AppContext } from '../context.js';
import { federatedSignIn } from '../federation/sign-in.js';
import { readCookie, setCookie } from '../http/cookies.js';
import { AppError } from '../http/errors.js';
import { type Messages, passwordProblem } from '../i18n/catalog.js';
import type { Locale } from '../i18n/locales.js';
import { BusyError } from '../passwords/hash.js';
import { checkPassword } from '../passwords/policy.js';
import { sameText } from '../secret.js';
import type { Tenant } from '../tenants/service.js';
import { activeUser, normalizeEmail } from '../users/service.js';
import type { SignInAdmission } from './admission.js';
import { type Interaction, interactionHelpers } from './interaction.js';
import { formPages } from './pages.js';

/** The sign-in form's error, by its `?error=` code. */
const loginError = (m: Messages, code: string) =>
  code === 'csrf'
    ? m.problems.sessionExpired
    : code === 'no_route'
      ? m.login.noRouteForEmail
      : m.login.invalidCredentials;

/** `admission`: the sign-in form's place at the hash queue, shared with the app's server (http/app.ts). */
export function interactionRoutes(ctx: AppContext, admission: SignInAdmission) {
  const helpers = interactionHelpers(ctx);
  const { csrfFor, csrfOk, page, tooManyRequests, load, finish, loginResult } = helpers;
  const federation = federatedSignIn(ctx, helpers);
  /**
   * That this interaction checked the user's password (for the "verify your email first" page,
   * which signs in once the email's code is given): the user and a time, under a key of its own.
   */
  const proofKey = ctx.secrets.derive('password-proof/v1');
  const PROOF_SECONDS = 900;
  const proofMac = (tenant: Tenant, uid: string, userId: string, until: number) =>
    createHmac('sha256', proofKey).update(`${tenant.id}:${uid}:${userId}:${until}`).digest('base64url');
  const passwordProof = (tenant: Tenant, uid: string, userId: string) => {
    const until = Math.floor(Date.now() / 1000) + PROOF_SECONDS;
    return `${userId}.${until}.${proofMac(tenant, uid, userId, until)}`;
  };
  const provenUser = (tenant: Tenant, uid: string, proof: unknown): string | undefined => {
    const [userId, until, mac] = typeof proof === 'string' ? proof.split('.') : [];
    if (!userId || !until || !/^[0-9]{1,12}$/.test(until) || Number(until) < Date.now() / 1000) return undefined;
    return sameText(proofMac(tenant, uid, userId, Number(until)), mac) ? userId : undefined;
  };

  return async (app: FastifyInstance) => {
    formPages(app, ctx.pages, 64 * 1024);
    app.setErrorHandler(admission.errorHandler);
    federation.register(app);

    /** The email the sign-in form shows again, for ten minutes, on this interaction's pages. */
    function rememberEmail(reply: FastifyReply, base: string, email: string) {
      setCookie(reply, 'lk_email', Buffer.from(email).toString('base64url'), {
        path: base,
        maxAge: 600,
        publicUrl: ctx.config.publicUrl,
      });
    }

    async function clientName(provider: Provider, details: Interaction) {
      const client = await provider.Client.find(String(details.params.client_id ?? ''));
      return client?.clientName ?? String(details.params.client_id ?? '');
    }

    app.get('/t/:slug/interaction/:uid', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return reply;
      const { tenant, provider, details, base, locale, m } = loaded;
      const query = req.query as { error?: string; registered?: string };
      const csrf = csrfFor(tenant, details.uid);
      if (details.prompt.name === 'login') {
        const email = readCookie(req, 'lk_email');
        // The application's choice of language goes on to the forgot-password pages.
        const uiLocales = details.params.ui_locales ? `&ui_locales=${locale}` : '';
        const choices = await federation.choices(tenant, base, locale);
        // Without password sign-in: no password form, registration or reset; an email form only
        // where an email's domain routes to a provider.
        const passwords = tenant.settings.passwordSignIn;
        return page(
          reply,
          query.error ? 401 : 200,
          ctx.pages.login(tenant, locale, {
            action: `${base}/login`,
            csrf,
            email: email ? Buffer.from(email, 'base64url').toString('utf8') : String(details.params.login_hint ?? ''),
            error: query.error ? loginError(m, query.error) : undefined,
            notice: query.registered ? m.login.registered : undefined,
            clientName: await clientName(provider, details),
            registerUrl: tenant.settings.selfRegistration && passwords ? `${base}/register` : undefined,
            forgotUrl: passwords ? `/t/${tenant.slug}/account/forgot?return=${details.uid}${uiLocales}` : undefined,
            abortUrl: `${base}/abort`,
            providers: choices.buttons,
            form: passwords ? 'password' : choices.emailRoutes ? 'email' : 'none',
          }),
        );
      }
      if (details.prompt.name === 'consent') {
        const client = await provider.Client.find(String(details.params.client_id ?? ''));
        if (client && (client as unknown as Record<string, unknown>)['urn:latchkey:first_party']) {
          // First-party applications never show a consent screen.
          const grantId = await grantConsent(provider, details);
          if (grantId) return finish(reply, tenant, details, { consent: { grantId } });
        }
        const missing = details.prompt.details as {
          missingOIDCScope?: string[];
          missingResourceScopes?: Record<string, string[]>;
          adminApi?: string;
        };
        const resources = Object.keys(missing.missingResourceScopes ?? {});
        if (missing.adminApi && !resources.includes(missing.adminApi)) resources.push(missing.adminApi);
        return page(
          reply,
          200,
          ctx.pages.consent(tenant, locale, {
            action: `${base}/consent`,
            csrf,
            clientName: await clientName(provider, details),
            scopes: missing.missingOIDCScope ?? [],
            resources,
            abortUrl: `${base}/abort`,
          }),
        );
      }
      return page(
        reply,
        400,
        ctx.pages.error(tenant, locale, 'unsupported_prompt', m.problems.unsupportedStep(details.prompt.name)),
      );
    });

    app.post('/t/:slug/interaction/:uid/login', admission.hooks, async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return reply;
      const { tenant, provider, details, base, locale } = loaded;
      const body = (req.body ?? {}) as Record<string, string | undefined>;
      if (!csrfOk(tenant, details.uid, body.csrf)) {
        ctx.metrics?.signIn('rejected');
        return reply.redirect(`${base}?error=csrf`, 303);
      }
      if (details.prompt.name !== 'login') return reply.redirect(base, 303);
      const email = String(body.email ?? '').slice(0, 320);
      // Home-realm discovery: an email whose domain routes to a provider goes there, unchecked here.
      const realm = await federation.homeRealm(tenant, base, email);
      if (realm) return reply.redirect(realm, 303);
      // No password sign-in in this tenant: refused before any password is looked at.
      if (!tenant.settings.passwordSignIn) {
        ctx.metrics?.signIn('rejected');
        rememberEmail(reply, base, email);
        return reply.redirect(`${base}?error=no_route`, 303);
      }
      const password = String(body.password ?? '').slice(0, 4096);
      const result = await ctx.signIn
        .signIn(tenant, email, password, actorOf(req), admission.of(req), {
          device: deviceOf(req.headers['user-agent']),
        })
        .catch((err: unknown) => {
          // Too many attempts wait for a hash: the busy page (admission.errorHandler).
          if (err instanceof BusyError) ctx.metrics?.signIn('busy');
          throw err;
        });
      if (!result.ok) {
        ctx.metrics?.signIn(result.locked ? 'locked' : 'failed');
        rememberEmail(reply, base, email);
        return reply.redirect(`${base}?error=credentials`, 303);
      }
      setCookie(reply, 'lk_email', '', { path: base, maxAge: 0, publicUrl: ctx.config.publicUrl });
      if (tenant.settings.requireVerifiedEmail && !result.emailVerified) {
        ctx.metrics?.signIn('unverified');
        // The password is right, but no code until the email is verified: the page offers the
        // message again, and takes its code; this interaction's proof of the password goes with it.
        return page(reply, 200, verifyFirstPage(tenant, locale, base, details.uid, result.userId));
      }
      ctx.metrics?.signIn('success');
      return finish(
        reply,
        tenant,
        details,
        await loginResult(provider, tenant, details, result.userId, 'pwd', result.at),
      );
    });

    /** The "verify your email first" page: the message again, or its code (then the sign-in goes on). */
    function verifyFirstPage(
      tenant: Tenant,
      locale: Locale,
      base: string,
      uid: string,
      userId: string,
      v: { error?: string; notice?: string } = {},
    ) {
      return ctx.pages.verifyFirst(tenant, locale, {
        action: `${base}/verify-email`,
        csrf: csrfFor(tenant, uid),
        proof: passwordProof(tenant, uid, userId),
        ...v,
      });
    }

    app.post('/t/:slug/interaction/:uid/verify-email', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return reply;
      const { tenant, provider, details, base, locale, m } = loaded;
      const body = (req.body ?? {}) as Record<string, string | undefined>;
      if (!csrfOk(tenant, details.uid, body.csrf)) return reply.redirect(`${base}?error=csrf`, 303);
      const userId = provenUser(tenant, details.uid, body.proof);
      if (!userId || details.prompt.name !== 'login') return reply.redirect(base, 303);
      const user = await activeUser(ctx.database.db, tenant.id, userId);
      if (!user) return reply.redirect(base, 303);
      const actor = actorOf(req);
      if (body.action === 'resend') {
        const limit = await ctx.emailLimits.perRecipient.takeFor(tenant.id, `to:${user.email}`);
        if (limit.allowed) await ctx.verifications.resend(tenant, user, actor, locale);
        return page(
          reply,
          200,
          verifyFirstPage(tenant, locale, base, details.uid, userId, { notice: m.verifyFirst.resent(user.email) }),
        );
      }
      // Only this user's own message's code (not one of a change to this address by another).
      const opened = await ctx.verifications.open(tenant, { email: user.email, code: String(body.code ?? '') });
      const outcome = opened?.user.id === userId ? await ctx.verifications.use(tenant, opened, actor) : 'invalid';
      if (outcome !== 'verified') {
        return page(
          reply,
          400,
          verifyFirstPage(tenant, locale, base, details.uid, userId, { error: m.verifyFirst.wrongCode }),
        );
      }
      return finish(reply, tenant, details, await loginResult(provider, tenant, details, userId, 'pwd'));
    });

    app.get('/t/:slug/interaction/:uid/register', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return reply;
      const { tenant, details, base, locale, m } = loaded;
      if (!tenant.settings.selfRegistration || !tenant.settings.passwordSignIn) return reply.redirect(base, 303);
      const query = req.query as { error?: string };
      return page(
        reply,
        query.error ? 400 : 200,
        ctx.pages.register(tenant, locale, {
          action: `${base}/register`,
          csrf: csrfFor(tenant, details.uid),
          error: query.error ? registerError(m, query.error, tenant.settings.passwordMinLength) : undefined,
          loginUrl: base,
          minLength: tenant.settings.passwordMinLength,
        }),
      );
    });

    app.post('/t/:slug/interaction/:uid/register', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return reply;
      const { tenant, details, base, locale } = loaded;
      if (!tenant.settings.selfRegistration || !tenant.settings.passwordSignIn) return reply.redirect(base, 303);
      const body = (req.body ?? {}) as Record<string, string | undefined>;
      if (!csrfOk(tenant, details.uid, body.csrf)) return reply.redirect(`${base}/register?error=csrf`, 303);
      const actor = actorOf(req);
      const limit = await ctx.registrations.take(tenant.id, actor.ip);
      if (!limit.allowed) return tooManyRequests(reply, tenant, locale, limit.retryAfterSeconds);
      const email = String(body.email ?? '').slice(0, 320);
      try {
        checkPassword(String(body.password ?? ''), { minLength: tenant.settings.passwordMinLength, email });
        // Registering one address again and again mails it no more than its limit allows.
        const toRecipient = await ctx.emailLimits.perRecipient.takeFor(tenant.id, `to:${normalizeEmail(email)}`);
        // A new account and an email that has one get the same answer (accounts/verification.ts).
        await ctx.verifications.register(
          tenant,
          { email, displayName: body.name ? String(body.name) : null, password: String(body.password ?? '') },
          actor,
          toRecipient.allowed,
          locale,
        );
      } catch (err) {
        if (err instanceof AppError && err.status < 500 && !(err instanceof BusyError)) {
          return reply.redirect(`${base}/register?error=${encodeURIComponent(err.code)}`, 303);
        }
        throw err;
      }
      // Not signed in: that would tell a new email from a taken one. The sign-in form, with
      // the email filled in, says to check the inbox or sign in.
      rememberEmail(reply, base, email);
      return reply.redirect(`${base}?registered=1`, 303);
    });

    app.post('/t/:slug/interaction/:uid/consent', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return reply;
      const { tenant, provider, details, base } = loaded;
      const body = (req.body ?? {}) as Record<string, string | undefined>;
      if (!csrfOk(tenant, details.uid, body.csrf)) return reply.redirect(`${base}?error=csrf`, 303);
      if (details.prompt.name !== 'consent') return reply.redirect(base, 303);
      if (body.decision !== 'allow') {
        return finish(reply, tenant, details, { error: 'access_denied', error_description: 'The user denied access' });
      }
      const grantId = await grantConsent(provider, details);
      if (!grantId) return reply.redirect(base, 303);
      await ctx.audit.record(
        ctx.database.db,
        { ...actorOf(req), type: 'user', id: details.session?.accountId ?? null },
        {
          tenantId: tenant.id,
          action: 'consent.grant',
          target: { type: 'client', id: String(details.params.client_id) },
          details: { scopes: details.prompt.details.missingOIDCScope ?? [] },
        },
      );
      return finish(reply, tenant, details, { consent: { grantId } });
    });

    app.get('/t/:slug/interaction/:uid/abort', async (req, reply) => {
      const loaded = await load(req, reply);
      if (!loaded) return reply;
      return finish(reply, loaded.tenant, loaded.details, {
        error: 'access_denied',
        error_description: 'The user cancelled the sign-in',
      });
    });
  };
}

/** The registration form's error, by its `?error=` code (an AppError's, or `csrf`). */
function registerError(m: Messages, code: string, minLength: number): string {
  if (code === 'csrf') return m.problems.sessionExpired;
  if (code === 'validation_failed') return m.register.invalidEmail;
  return passwordProblem(m, code, minLength) ?? m.register.failed;
}

/** Grants what the consent prompt says is missing; returns the grant id. */
async function grantConsent(provider: Provider, details: Interaction): Promise<string | undefined> {
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session?.accountId, clientId: String(details.params.client_id) });
  if (!grant) return undefined;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}
