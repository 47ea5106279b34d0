/**
 * One oidc-provider instance per tenant, built on first use from the tenant's settings,
 * keys and clients, and kept in a bounded LRU. An entry lives for the cache TTL, so a change
 * made on another node applies here within seconds; changes made here drop it at once.
 */
import { hash, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import type { Logger } from 'pino';
import { ADMIN_API_ID, type ApiService } from '../apis/service.js';
import { TtlCache } from '../cache.js';
import type { Client, ClientService } from '../clients/service.js';
import type { Config } from '../config.js';
import type { Dialect } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { federatedProvider } from '../federation/claims.js';
import { requestLocale, supportedLocales } from '../i18n/locales.js';
import type { KeyService } from '../keys/service.js';
import { type Pages, pagePolicy } from '../login/pages.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RoleService } from '../roles/service.js';
import { signInEnded } from '../sessions/service.js';
import type { Tenant } from '../tenants/service.js';
import type { UserService } from '../users/service.js';
import { accountReadWithToken, DbAdapter, flushWrites, useProviderContext } from './adapter.js';
import { apiScopesGranted } from './api-scopes.js';
import { clientMetadata } from './client-metadata.js';
import { endSession, hintIsForThisSession, namesSessionsInIdTokens } from './logout.js';
import { OIDC_SCOPES } from './scopes.js';
import { EXTERNAL_SIGNING_ACK, signingKeys } from './signing-keys.js';

export interface ProviderDeps {
  config: Config;
  db: Kysely<DB>;
  dialect: Dialect;
  keys: KeyService;
  clients: ClientService;
  apis: ApiService;
  roles: RoleService;
  users: UserService;
  pages: Pages;
  log: Logger;
  instanceSecret: string;
  /** Counts the pool's hits, misses and builds, and every provider's grants, when metrics are on. */
  metrics?: Metrics | undefined;
}

export function issuerOf(publicUrl: string, slug: string): string {
  return `${publicUrl}/t/${slug}`;
}

const oidcScopes: readonly string[] = OIDC_SCOPES;

/**
 * The headers our own pages get (login/routes.ts), for the pages oidc-provider renders
 * itself (error, logout confirmation): its replies bypass Fastify's hooks.
 */
function htmlPage(ctx: { type: string; set(field: string, value: string): void }) {
  ctx.set('content-security-policy', pagePolicy);
  ctx.set('x-frame-options', 'DENY');
  ctx.set('x-content-type-options', 'nosniff');
  ctx.type = 'html';
}

/**
 * Every answer of oidc-provider, before it renders: our pages' policy, plus an empty
 * `script-src`. The one page oidc-provider writes itself with a script, the `form_post`
 * response ("Submitting Callback"), adds its script's hash to that directive (its
 * helpers/script_src_sha.js does so only when the directive exists), so that script, and no
 * other, runs; the form is never framed.
 */
const providerPolicy = `${pagePolicy}; script-src`;

/**
 * The language of a page oidc-provider renders (logout, error): the request's `ui_locales`
 * where the endpoint takes one (end_session, authorization), the browser's Accept-Language,
 * the tenant's default (i18n/locales.ts).
 */
function koaLocale(
  koa: { get(field: string): string; oidc?: { params?: Record<string, unknown> | undefined } },
  tenant: Tenant,
) {
  return requestLocale(tenant, { 'accept-language': koa.get('accept-language') }, koa.oidc?.params?.ui_locales);
}

/**
 * oidc-provider finds a client of the store by hashing its metadata (JSON, then SHA-256) on
 * every lookup, to reuse the client it built from the same metadata: a tenth of a client
 * credentials grant's time. The metadata of a cached client record is one object
 * (`clientMetadata` above), so the client built from it is kept beside it instead; a changed
 * record is a new object, and gets a client of its own.
 */
function keepBuiltClients(provider: Provider, metadataOf: (id: string) => Promise<object | undefined>) {
  const Client = provider.Client as unknown as { find(id: unknown): Promise<unknown> };
  const find = Client.find.bind(Client);
  const built = new WeakMap<object, unknown>();
  Client.find = async (id: unknown) => {
    const meta = typeof id === 'string' && id.length > 0 ? await metadataOf(id) : undefined;
    if (!meta) return find(id);
    const kept = built.get(meta);
    if (kept) return kept;
    const client = await find(id);
    if (client) built.set(meta, client);
    return client;
  };
}

export class ProviderPool {
  private readonly cache: TtlCache<string, { provider: Provider; version: number }>;
  private readonly building = new Map<string, Promise<Provider>>();
  private readonly cookieKey: string;

  constructor(private readonly deps: ProviderDeps) {
    this.cache = new TtlCache(Math.max(deps.config.cacheTtlMs, 1000), 1000);
    this.cookieKey = Buffer.from(hkdfSync('sha256', deps.instanceSecret, 'latchkey', 'cookies/v1', 32)).toString(
      'base64url',
    );
    deps.metrics?.watchProviderPool(() => this.cache.size);
  }

  private current(tenant: Tenant): Provider | undefined {
    const hit = this.cache.get(tenant.id);
    return hit && hit.version === tenant.version ? hit.provider : undefined;
  }

  /** The tenant's provider when it is built and current, else undefined (then `get`, which counts the miss). */
  cached(tenant: Tenant): Provider | undefined {
    const hit = this.current(tenant);
    if (hit) this.deps.metrics?.providerHit();
    return hit;
  }

  async get(tenant: Tenant): Promise<Provider> {
    const metrics = this.deps.metrics;
    const hit = this.current(tenant);
    if (hit) {
      metrics?.providerHit();
      return hit;
    }
    metrics?.providerMiss();
    const pending = this.building.get(tenant.id);
    if (pending) return pending;
    const built = metrics
      ? this.build(tenant).then(
          (provider) => {
            metrics.providerBuilt(true);
            return provider;
          },
          (err: unknown) => {
            metrics.providerBuilt(false);
            throw err;
          },
        )
      : this.build(tenant);
    const build = built.finally(() => this.building.delete(tenant.id));
    this.building.set(tenant.id, build);
    const provider = await build;
    this.cache.set(tenant.id, { provider, version: tenant.version });
    return provider;
  }

  /** Drop a tenant's provider so the next request builds it from current data. */
  invalidate(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  private async build(tenant: Tenant): Promise<Provider> {
    // Loaded on first use: a node that serves only the admin API never pays for it.
    const { default: Provider, errors, interactionPolicy, ExternalSigningKey } = await import('oidc-provider');
    useProviderContext(() => Provider.ctx);
    const { config, db, keys, clients, apis, roles, users, pages } = this.deps;
    const slug = tenant.slug;
    const issuer = issuerOf(config.publicUrl, slug);
    const lifetimes = tenant.settings.lifetimes;
    const tenantKeys = await keys.keysFor(tenant.id);
    const secure = config.publicUrl.startsWith('https://');
    const sessionCookie = { httpOnly: true, sameSite: 'lax', signed: true, path: `/t/${slug}`, secure } as const;
    // One metadata object per cached client record, so that the provider's client built from
    // it can be kept beside it (keepBuiltClients).
    const metadataOf = new WeakMap<Client, Record<string, unknown>>();
    const clientSource = {
      clientMetadata: async (tenantId: string, clientId: string) => {
        const client = await clients.findByClientId(tenantId, clientId);
        if (!client) return undefined;
        let meta = metadataOf.get(client);
        if (!meta) {
          meta = clientMetadata(client);
          metadataOf.set(client, meta);
        }
        return meta;
      },
    };

    /** Refresh tokens: the idle lifetime, but never beyond the absolute one since first issue. */
    const refreshTtl = (token: { iiat?: number }, client: object) => {
      const meta = client as { 'urn:latchkey:refresh_idle'?: number; 'urn:latchkey:refresh_absolute'?: number };
      const idle = meta['urn:latchkey:refresh_idle'] ?? lifetimes.refreshTokenIdleSeconds;
      const absolute = meta['urn:latchkey:refresh_absolute'] ?? lifetimes.refreshTokenAbsoluteSeconds;
      const now = Math.floor(Date.now() / 1000);
      const left = absolute - (now - (token.iiat ?? now));
      return Math.max(1, Math.min(idle, left));
    };

    /**
     * An access token's lifetime: for an API, what `getResourceServerInfo` settled (the
     * client's override within the API's limits); else the client's, else the tenant's.
     */
    const accessTtl = (
      _ctx: unknown,
      token: { resourceServer?: { accessTokenTTL?: number } },
      client: unknown,
    ): number =>
      token.resourceServer?.accessTokenTTL ??
      ((client as Record<string, unknown>)['urn:latchkey:access_ttl'] as number | undefined) ??
      lifetimes.accessTokenSeconds;
    const configuration: Configuration = {
      adapter: (name: string) => new DbAdapter(db, tenant.id, name, clientSource, errors),
      findAccount: async (ctx, sub, token) => {
        const read = accountReadWithToken(sub);
        const user = read ? read.account : await users.account(tenant.id, sub);
        const session = token ? undefined : ctx.oidc.session;
        // A sign-in from before the user's sessions were last ended counts for nothing, even
        // when a request under way then saved its session back (seconds: oidc-provider's unit).
        // Save the one session kept when the others were ended, and what it issued.
        const ended =
          user !== undefined &&
          signInEnded(
            user,
            (token as { authTime?: number } | undefined)?.authTime ?? session?.loginTs,
            (token as { sessionUid?: string } | undefined)?.sessionUid ?? session?.uid,
          );
        // A tenant that requires verified emails gives no code to a user without one: the
        // sign-in form asks them to verify first (login/routes.ts); tokens already issued stand.
        const unverified = !token && tenant.settings.requireVerifiedEmail && user?.email_verified !== 1;
        if (user?.status !== 'active' || ended || unverified) {
          // A browser session of an account refused is no sign-in: ask for one instead.
          if (session?.accountId === sub) signOut(session);
          return undefined;
        }
        // A federated sign-in (amr `fed`) names its provider in ID tokens (`idp`, docs/federation.md).
        const amr = (token as { amr?: string[] } | undefined)?.amr ?? (token ? undefined : session?.amr);
        return {
          accountId: user.id,
          // Read with the account, for the access tokens of this request (extraTokenClaims).
          roles: user.roles,
          claims: async () => ({
            sub: user.id,
            email: user.email,
            email_verified: user.email_verified === 1,
            name: user.display_name ?? undefined,
            updated_at: Math.floor(user.updated_at / 1000),
            idp: amr?.includes('fed') ? await federatedProvider(db, tenant.id, user.id) : undefined,
          }),
        };
      },
      // Signed with node:crypto (signing-keys.ts): a fraction of WebCrypto's cost per token.
      jwks: { keys: signingKeys(ExternalSigningKey, tenantKeys.signing) },
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
      clientDefaults: {
        grant_types: ['authorization_code'],
        // OpenID Connect's registration default, which certified relying parties assume.
        id_token_signed_response_alg: 'RS256',
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      enabledJWA: {
        idTokenSigningAlgValues: ['ES256', 'RS256'],
        userinfoSigningAlgValues: ['ES256', 'RS256'],
        introspectionSigningAlgValues: ['ES256', 'RS256'],
        authorizationSigningAlgValues: ['ES256', 'RS256'],
        requestObjectSigningAlgValues: ['ES256', 'RS256'],
        clientAuthSigningAlgValues: ['ES256', 'RS256'],
      },
      extraClientMetadata: {
        properties: [
          'urn:latchkey:first_party',
          'urn:latchkey:access_ttl',
          'urn:latchkey:refresh_idle',
          'urn:latchkey:refresh_absolute',
          'urn:latchkey:default_resource',
          'urn:latchkey:kind',
          'urn:latchkey:scopes',
        ],
      },
      // Browsers may call the token, userinfo and other endpoints from the tenant's allowed
      // origins, and public clients from the origins of their redirect URIs.
      clientBasedCORS: (_ctx, origin, client) => {
        if (tenant.settings.allowedOrigins.includes(origin)) return true;
        if (client.clientAuthMethod !== 'none') return false;
        return (client.redirectUris ?? []).some((uri) => URL.canParse(uri) && new URL(uri).origin === origin);
      },
      responseTypes: ['code'],
      // The languages of the pages an authorization request's ui_locales may ask for.
      discovery: { ui_locales_supported: [...supportedLocales] },
      pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
      scopes: [...oidcScopes],
      claims: {
        // `amr`: how the user signed in (login/interaction.ts sets it on the session), and `idp` for a
        // federated sign-in (docs/federation.md), in ID tokens.
        openid: ['sub', 'amr', 'idp'],
        email: ['email', 'email_verified'],
        profile: ['name', 'updated_at'],
      },
      conformIdTokenClaims: false,
      rotateRefreshToken: true,
      allowOmittingSingleRegisteredRedirectUri: false,
      clockTolerance: 5,
      features: {
        devInteractions: { enabled: false },
        externalSigningSupport: { enabled: true, ack: EXTERNAL_SIGNING_ACK },
        // A client may introspect and revoke only the tokens issued to it.
        introspection: {
          enabled: true,
          allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
        },
        revocation: {
          enabled: true,
          allowedPolicy: async (_ctx, client, token) => {
            if (token.clientId === client.clientId) return true;
            if (client.clientAuthMethod === 'none') return false;
            throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          },
        },
        userinfo: { enabled: true },
        clientCredentials: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: async (ctx, form) => {
            // A hint of this very session proves the application asks: no question (logout.ts).
            if (hintIsForThisSession(ctx)) return endSession(ctx, sessionCookie);
            htmlPage(ctx);
            ctx.body = pages.logout(tenant, koaLocale(ctx, tenant), form);
          },
          postLogoutSuccessSource: async (ctx) => {
            htmlPage(ctx);
            ctx.body = pages.loggedOut(tenant, koaLocale(ctx, tenant));
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: async (_ctx, client, oneOf) => {
            if (oneOf) return oneOf;
            const meta = client as unknown as Record<string, unknown>;
            return (meta['urn:latchkey:default_resource'] as string | undefined) ?? undefined;
          },
          useGrantedResource: async () => true,
          getResourceServerInfo: async (koa, resourceIndicator, client) => {
            const server = await apis.resourceServer(tenant, resourceIndicator);
            if (!server) throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
            const meta = client as unknown as Record<string, unknown>;
            const clientTtl = meta['urn:latchkey:access_ttl'] as number | undefined;
            return {
              // What the application may ask ∩ what the subject's roles grant (api-scopes.ts).
              scope: (await apiScopesGranted(this.deps, tenant, koa, client.clientId, server)).join(' '),
              audience: server.identifier,
              // A client's lifetime overrides an API's, but not beyond the admin API's own cap.
              accessTokenTTL:
                server.id === ADMIN_API_ID
                  ? Math.min(clientTtl ?? server.accessTokenTtlSeconds, server.accessTokenTtlSeconds)
                  : (clientTtl ?? server.accessTokenTtlSeconds),
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'ES256' } },
            };
          },
        },
      },
      interactions: {
        policy: withAdminApiConsent(interactionPolicy, apis.adminApiIdentifier),
        url: (_ctx, interaction) => `/t/${slug}/interaction/${interaction.uid}`,
      },
      cookies: {
        keys: [this.cookieKey],
        names: { session: `_lk_session`, interaction: '_lk_interaction', resume: '_lk_resume' },
        long: sessionCookie,
        short: { httpOnly: true, sameSite: 'lax', signed: true, secure },
      },
      ttl: {
        AccessToken: accessTtl,
        ClientCredentials: accessTtl,
        AuthorizationCode: 60,
        IdToken: lifetimes.accessTokenSeconds,
        Interaction: 3600,
        RefreshToken: (_ctx, token, client) => refreshTtl(token as { iiat?: number }, client),
        Grant: lifetimes.refreshTokenAbsoluteSeconds,
        Session: (_ctx, session) => {
          const now = Math.floor(Date.now() / 1000);
          const started = (session as { loginTs?: number }).loginTs ?? now;
          const left = lifetimes.sessionAbsoluteSeconds - (now - started);
          return Math.max(1, Math.min(lifetimes.sessionIdleSeconds, left));
        },
      },
      extraTokenClaims: async (ctx, token) => {
        const t = token as unknown as { kind: string; accountId?: string; clientId?: string };
        if (t.kind === 'AccessToken' && t.accountId) {
          const account = ctx.oidc?.account as { accountId?: string; roles?: string[] } | undefined;
          if (account?.accountId === t.accountId && account.roles) return { roles: account.roles };
          const names = await roles.namesForUsers(tenant.id, [t.accountId]);
          return { roles: names.get(t.accountId) ?? [] };
        }
        if (t.kind === 'ClientCredentials' && t.clientId) {
          const client = await clients.findByClientId(tenant.id, t.clientId);
          return { roles: client?.roles ?? [] };
        }
        return undefined;
      },
      loadExistingGrant: async (ctx) => {
        const oidc = ctx.oidc;
        const clientId = oidc.client?.clientId ?? '';
        const grantId = oidc.result?.consent?.grantId || oidc.session?.grantIdFor(clientId);
        const client = oidc.client as unknown as Record<string, unknown> | undefined;
        if (!client?.['urn:latchkey:first_party'] || !oidc.session?.accountId) {
          return grantId ? oidc.provider.Grant.find(grantId) : undefined;
        }
        // First-party applications are trusted: the grant covers whatever they ask for.
        return firstPartyGrant(oidc.provider, apis, tenant, {
          clientId,
          accountId: oidc.session.accountId,
          params: oidc.params ?? {},
          grantId,
          defaultResource: client['urn:latchkey:default_resource'] as string | undefined,
        });
      },
      renderError: async (ctx, out) => {
        htmlPage(ctx);
        const locale = koaLocale(ctx, tenant);
        ctx.body = pages.error(tenant, locale, String(out.error ?? 'error'), String(out.error_description ?? ''));
      },
    };

    /**
     * OpenID Connect drops `offline_access` unless the request says prompt=consent. First-party
     * clients never see a consent screen, so ask for it on their behalf: they get refresh tokens
     * when they ask for offline_access, without a visible extra step.
     */
    const askConsentForFirstParty = async (koa: { query: unknown; url: string; req: unknown }): Promise<void> => {
      const query = koa.query as Record<string, string | string[] | undefined>;
      const scope = typeof query.scope === 'string' ? query.scope.split(' ') : [];
      const prompt = typeof query.prompt === 'string' ? query.prompt.split(' ').filter(Boolean) : [];
      if (!scope.includes('offline_access') || prompt.includes('consent') || prompt.includes('none')) return;
      const client =
        typeof query.client_id === 'string' ? await clients.findByClientId(tenant.id, query.client_id) : undefined;
      if (!client?.firstParty) return;
      koa.query = { ...query, prompt: [...prompt, 'consent'].join(' ') };
      // Keep the mount prefix derivable: oidc-provider strips req.url from originalUrl.
      (koa.req as { originalUrl?: string }).originalUrl = `/t/${slug}${koa.url}`;
    };
    const provider = new Provider(issuer, configuration);
    keepBuiltClients(provider, (id) => clientSource.clientMetadata(tenant.id, id));
    provider.proxy = config.trustProxyHops > 0;
    // PUBLIC_URL is where browsers and clients reach this service. The provider's own URLs
    // (discovery, redirects) and its cookies' Secure flag follow it, whatever scheme and host
    // the last hop used: TLS usually ends at a proxy, and X-Forwarded-Proto/Host need not be
    // trusted, or even sent. (Koa's documented extension point: its request prototype.)
    const publicOrigin = new URL(config.publicUrl);
    Object.defineProperties(provider.request, {
      protocol: { get: () => publicOrigin.protocol.slice(0, -1) },
      host: { get: () => publicOrigin.host },
    });
    // One middleware before everything of oidc-provider's (each layer costs every request its
    // promises): the page policy, the first-party `offline_access` rewrite, and the writes.
    provider.use(async function latchkeyRequest(koa, next) {
      koa.set('content-security-policy', providerPolicy);
      koa.set('x-frame-options', 'DENY');
      if (koa.method === 'GET' && koa.path === '/auth') await askConsentForFirstParty(koa);
      try {
        await next();
      } finally {
        // What the request saved is written before its answer leaves (adapter.ts). Should that
        // fail, Koa answers a bare 500 and the error listener below logs it.
        const flushed = flushWrites(db, koa);
        if (flushed) await flushed;
      }
    });
    // Client secrets are stored as SHA-256 digests; compare digests in constant time. A client
    // authenticates only by the method it registered: oidc-provider takes a secret in the body
    // (client_secret_post) and in an Authorization header (client_secret_basic) alike, and
    // refuses a request that carries both, so a secret with no such header came in the body.
    provider.Client.prototype.compareClientSecret = function compareDigest(
      this: { clientSecret?: string; tokenEndpointAuthMethod?: string },
      actual: string,
    ) {
      const basic = Provider.ctx?.get('authorization') !== '';
      if ((this.tokenEndpointAuthMethod === 'client_secret_basic') !== basic) {
        throw new errors.InvalidClientAuth(
          'the provided authentication mechanism does not match the registered client authentication method',
        );
      }
      const stored = Buffer.from(this.clientSecret ?? '', 'hex');
      const given = hash('sha256', String(actual), 'buffer');
      return stored.length === given.length && timingSafeEqual(stored, given);
    };
    namesSessionsInIdTokens(provider);
    const metrics = this.deps.metrics;
    if (metrics) {
      // Every token endpoint answer: the grant type as asked (labels.ts keeps it to our own).
      provider.on('grant.success', (koa) => metrics.grant(koa.oidc?.params?.grant_type));
      provider.on('grant.error', (koa, err) => metrics.grant(koa.oidc?.params?.grant_type, err));
    }
    provider.on('server_error', (koa, err) => {
      this.deps.log.error({ err, tenant: slug }, 'oidc server error');
      // oidc-provider emits `server_error` instead of `grant.error` for a 500.
      if (koa.oidc?.route === 'token') metrics?.grant(koa.oidc.params?.grant_type, { error: 'server_error' });
    });
    // What escapes oidc-provider's own error handling reaches Koa (the provider is its app),
    // whose default is a stack on stderr: a failed flush above, and answers that could not be
    // sent, such as those dropped when writes cannot be made durable (already logged once, by
    // http/app.ts, hence at debug). Koa's own event, which the provider's typings leave out.
    (provider as unknown as EventEmitter).on(
      'error',
      (err: Error & { status?: number; expose?: boolean }, ctx?: { res?: ServerResponse }) => {
        if (err.expose || (err.status ?? 500) < 500) return;
        const level = ctx?.res?.destroyed ? 'debug' : 'error';
        this.deps.log[level]({ err, tenant: slug }, 'an OIDC request failed outside oidc-provider');
      },
    );
    return provider;
  }
}

/**
 * The admin API reaches everything its caller's roles allow, so a token for it goes to an
 * application that is not first party only on consent given in this very authorization:
 * never silently (`prompt=none`), never on a consent remembered from another request.
 */
function withAdminApiConsent(policyHelpers: typeof import('oidc-provider').interactionPolicy, adminApi: string) {
  const { base, Check } = policyHelpers;
  const policy = base();
  policy.get('consent')?.checks.add(
    new Check(
      'admin_api_consent',
      'a token for the admin API needs the user’s consent',
      'consent_required',
      (koa) => {
        const oidc = koa.oidc;
        const client = oidc.client as unknown as Record<string, unknown> | undefined;
        if (client?.['urn:latchkey:first_party'] || oidc.result?.consent) return Check.NO_NEED_TO_PROMPT;
        return Object.hasOwn(oidc.resourceServers ?? {}, adminApi) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      },
      () => ({ adminApi }),
    ),
  );
  return policy;
}

/** Makes a browser session anonymous again (its sign-in no longer counts), saved with the request. */
function signOut(session: object): void {
  const fields = session as Record<string, unknown>;
  for (const field of ['accountId', 'loginTs', 'amr', 'acr', 'authorizations', 'transient']) delete fields[field];
  fields.touched = true;
}

/**
 * The grant of a first-party client: everything the request asks for (OpenID scopes and API
 * scopes). Reuses `grantId` when given and saves only when something was added.
 */
export async function firstPartyGrant(
  provider: Provider,
  apis: ApiService,
  tenant: Tenant,
  request: {
    clientId: string;
    accountId: string;
    params: Record<string, unknown>;
    grantId?: string | undefined;
    defaultResource?: string | undefined;
  },
): Promise<InstanceType<Provider['Grant']>> {
  const existing = request.grantId ? await provider.Grant.find(request.grantId) : undefined;
  const grant = existing ?? new provider.Grant({ clientId: request.clientId, accountId: request.accountId });
  const asked = String(request.params.scope ?? '')
    .split(' ')
    .filter(Boolean);
  const oidcAsked = asked.filter((s) => oidcScopes.includes(s));
  let changed = !existing;
  const has = new Set(String(grant.getOIDCScope() ?? '').split(' '));
  if (oidcAsked.some((s) => !has.has(s))) {
    grant.addOIDCScope(oidcAsked.join(' '));
    changed = true;
  }
  const resource = request.params.resource;
  const resources = Array.isArray(resource) ? resource.map(String) : resource ? [String(resource)] : [];
  if (resources.length === 0 && request.defaultResource) resources.push(request.defaultResource);
  for (const r of resources) {
    const server = await apis.resourceServer(tenant, r);
    const scopes = asked.filter((s) => server?.scopes.includes(s));
    const held = new Set(grant.getResourceScope(r).split(' '));
    if (!Object.hasOwn(grant.resources ?? {}, r) || scopes.some((s) => !held.has(s))) {
      grant.addResourceScope(r, scopes.join(' '));
      changed = true;
    }
  }
  if (changed) await grant.save();
  return grant;
}
