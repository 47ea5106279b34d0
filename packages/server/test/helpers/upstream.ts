/**
 * A stand-in upstream identity provider for the federation tests: a real oidc-provider 9 on
 * 127.0.0.1 (a random port), in memory, with no development interactions. Its one
 * interaction handler signs in whoever `signInAs` names (or answers `access_denied` when it
 * is null) and grants what is asked, so a test chooses the upstream user's email,
 * email_verified and groups before it clicks the button.
 *
 * `tamper` changes the ID token of the next token responses: re-signed with the upstream's
 * own key (another audience, say) or with a key nobody published (a bad signature).
 * `multiTenant` makes it look like Microsoft Entra's `common` endpoint: the provider's issuer
 * is `{origin}/{tid}/v2.0`, and `{origin}/common/v2.0` serves its discovery document with the
 * issuer `{origin}/{tenantid}/v2.0`, the template Entra publishes.
 *
 * A client added with `apple` authenticates as Sign in with Apple's do: its client secret is
 * an ES256 JWT (iss the team id, sub the client id, aud https://appleid.apple.com, kid the key
 * id), checked here with the key's public part instead of compared.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';

export interface UpstreamUser {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface Upstream {
  /** The issuer to configure in Latchkey (for `multiTenant`, the `common` one). */
  issuer: string;
  origin: string;
  /** The Entra-like tenant id in tokens (`multiTenant` only). */
  tid: string | undefined;
  /** Who the next upstream sign-in is; null: the user refuses (access_denied). */
  signInAs: UpstreamUser | null;
  /** Rewrites the next ID tokens: `key: 'own'` re-signs with the published key, `'other'` with an unknown one. */
  tamper: { key: 'own' | 'other'; claims: (payload: Record<string, unknown>) => Record<string, unknown> } | undefined;
  /** Every authorization request's query, in order. */
  authorizations: URLSearchParams[];
  /** The payloads of the Apple-like client secrets that passed. */
  appleSecrets: JWTPayload[];
  addClient(metadata: Record<string, unknown>, options?: { apple?: AppleClientKey }): void;
  close(): Promise<void>;
}

/** How an Apple-like client's secret JWTs are checked. */
export interface AppleClientKey {
  teamId: string;
  keyId: string;
  publicKey: Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];
}

/** The in-memory store (oidc-provider's own is for development only and warns). */
class MemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly rows: Map<string, AdapterPayload>,
  ) {}
  private key(id: string) {
    return `${this.model}:${id}`;
  }
  async upsert(id: string, payload: AdapterPayload) {
    this.rows.set(this.key(id), payload);
    if (payload.uid) this.rows.set(`${this.model}:uid:${payload.uid}`, payload);
    if (payload.grantId && this.model !== 'Grant') {
      this.rows.set(`grant:${payload.grantId}:${this.key(id)}`, payload);
    }
  }
  async find(id: string) {
    return this.rows.get(this.key(id));
  }
  async findByUid(uid: string) {
    return this.rows.get(`${this.model}:uid:${uid}`);
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id: string) {
    const row = this.rows.get(this.key(id));
    if (row) row.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string) {
    this.rows.delete(this.key(id));
  }
  async revokeByGrantId(grantId: string) {
    for (const key of [...this.rows.keys()]) {
      if (key.startsWith(`grant:${grantId}:`)) {
        this.rows.delete(key);
        this.rows.delete(key.slice(`grant:${grantId}:`.length));
      }
    }
  }
}

export async function startUpstream(options: { multiTenant?: boolean } = {}): Promise<Upstream> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tid = options.multiTenant ? '9188040d-6c67-4c5b-b112-36a304b66dad' : undefined;
  const prefix = tid ? `/${tid}/v2.0` : '';
  const providerIssuer = `${origin}${prefix}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'upstream-1', alg: 'RS256', use: 'sig' } as JWK;
  const other = await generateKeyPair('RS256');
  const clients = new Map<string, Record<string, unknown>>();
  const users = new Map<string, UpstreamUser>();
  const appleKeys = new Map<string, AppleClientKey>();

  const rows = new Map<string, AdapterPayload>();
  class Store extends MemoryAdapter {
    constructor(private readonly name: string) {
      super(name, rows);
    }
    override async find(id: string) {
      if (this.name === 'Client') return clients.get(id) as AdapterPayload | undefined;
      return super.find(id);
    }
  }

  const provider = new Provider(providerIssuer, {
    adapter: Store,
    jwks: { keys: [jwk as never] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'RS256'] },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups'],
    claims: {
      openid: tid ? ['sub', 'tid'] : ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    // Every claim in the ID token, as Google and Entra put them there.
    conformIdTokenClaims: false,
    cookies: { keys: ['upstream-test-cookie-key'] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    findAccount: async (_ctx, sub) => {
      const user = users.get(sub);
      if (!user) return undefined;
      return { accountId: sub, claims: async () => ({ ...user, ...(tid ? { tid } : {}) }) };
    },
  });

  const upstream: Upstream = {
    issuer: tid ? `${origin}/common/v2.0` : providerIssuer,
    origin,
    tid,
    signInAs: null,
    tamper: undefined,
    authorizations: [],
    appleSecrets: [],
    addClient(metadata, options = {}) {
      if (options.apple) appleKeys.set(String(metadata.client_id), options.apple);
      clients.set(String(metadata.client_id), {
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        ...metadata,
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  type Compare = (this: { clientId: string }, actual: string) => Promise<boolean> | boolean;
  const clientPrototype = provider.Client.prototype as unknown as { compareClientSecret: Compare };
  const compare = clientPrototype.compareClientSecret;
  clientPrototype.compareClientSecret = async function appleSecret(actual) {
    const apple = appleKeys.get(this.clientId);
    if (!apple) return compare.call(this, actual);
    try {
      const { payload, protectedHeader } = await jwtVerify(actual, apple.publicKey, {
        issuer: apple.teamId,
        subject: this.clientId,
        audience: 'https://appleid.apple.com',
        algorithms: ['ES256'],
      });
      if (protectedHeader.kid !== apple.keyId) return false;
      upstream.appleSecrets.push(payload);
      return true;
    } catch {
      return false;
    }
  };

  provider.use(async function standIn(koa, next) {
    if (koa.method === 'GET' && koa.path === '/auth')
      upstream.authorizations.push(new URLSearchParams(koa.querystring));
    if (koa.path.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(koa.req, koa.res);
      const who = upstream.signInAs;
      let result: Record<string, unknown>;
      if (!who) result = { error: 'access_denied', error_description: 'The user said no' };
      else if (details.prompt.name === 'login') {
        users.set(who.sub, who);
        result = { login: { accountId: who.sub } };
      } else {
        const grant = new provider.Grant({ accountId: who.sub, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope ?? 'openid'));
        result = { consent: { grantId: await grant.save() } };
      }
      const to = await provider.interactionResult(koa.req, koa.res, result, { mergeWithLastSubmission: false });
      koa.status = 303;
      koa.redirect(to);
      return;
    }
    await next();
    const tamper = upstream.tamper;
    if (koa.path === '/token' && tamper && koa.status === 200) {
      const body = koa.body as Record<string, unknown>;
      const [, payload] = String(body.id_token).split('.');
      const claims = tamper.claims(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')));
      const key = tamper.key === 'own' ? privateKey : other.privateKey;
      body.id_token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'upstream-1' }).sign(key);
      koa.body = body;
    }
  });

  const handle = provider.callback();
  server.on('request', async (req, res) => {
    const url = req.url ?? '/';
    if (tid && url === '/common/v2.0/.well-known/openid-configuration') {
      // Entra's `common` document: the tenant's own, with the issuer as a template.
      const own = (await fetch(`${providerIssuer}/.well-known/openid-configuration`).then((r) => r.json())) as object;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...own, issuer: `${origin}/{tenantid}/v2.0` }));
      return;
    }
    if (prefix) {
      if (!url.startsWith(`${prefix}/`)) {
        res.writeHead(404).end();
        return;
      }
      (req as { originalUrl?: string }).originalUrl = url;
      req.url = url.slice(prefix.length);
    }
    handle(req, res);
  });
  return upstream;
}
