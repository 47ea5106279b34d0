/**
 * The oidc scenario's peer (issue 10): a bare oidc-provider 9 doing what Latchkey's tenant
 * does in the benchmark, with nothing of Latchkey's around it. Its own defaults but for what
 * the benchmark's flows need (client credentials, refresh tokens rotated on every use, the
 * claims of `openid email profile`), an in-memory `Map` store, and a labelled sign-in form
 * whose POST verifies the password with the same argon2id (m=19456 KiB, t=2, p=1, in libuv's
 * pool) and gives login and consent in one step, as Latchkey does for a first-party client.
 * Mounted at `/t/{slug}` on node:http, so that the benchmark's requests are the same.
 *
 * With `jwtAccessTokens` (the "same work" peer), it also does what Latchkey's tenant does
 * with every access token: a default resource for each client (resource indicators), a JWT
 * signed with ES256 (`jwks`: an ES256 key, and an RS256 one for ID tokens) carrying the
 * subject's roles, rather than its default, an opaque token kept in the store.
 *
 * Started by scenarios/oidc.mjs as a process of its own: `node oidc-provider.mjs <config.json>`
 * with `{ port, slug, clients, users: [{ id, email, hash }], cookieKey, jwtAccessTokens?, jwks? }`;
 * prints `listening`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { verify } from '@node-rs/argon2';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const prefix = `/t/${config.slug}`;
const issuer = `http://127.0.0.1:${config.port}${prefix}`;
const users = new Map(config.users.map((u) => [u.email, u]));
const byId = new Map(config.users.map((u) => [u.id, u]));

/** oidc-provider's adapter interface over one Map per model, with expiry. */
const stores = new Map();
class MemoryAdapter {
  constructor(model) {
    this.model = model;
    if (!stores.has(model)) stores.set(model, new Map());
    this.store = stores.get(model);
  }
  key(id) {
    return id;
  }
  async upsert(id, payload, expiresIn) {
    this.store.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    if (payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const list = stores.get('_grants') ?? new Map();
      stores.set('_grants', list);
      (list.get(grantKey) ?? list.set(grantKey, new Set()).get(grantKey)).add([this.model, id]);
    }
    if (payload.userCode) this.store.set(`userCode:${payload.userCode}`, id);
    if (payload.uid) this.store.set(`uid:${payload.uid}`, id);
  }
  async find(id) {
    const row = this.store.get(id);
    if (!row || typeof row !== 'object') return undefined;
    if (row.expiresAt !== undefined && row.expiresAt < Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return row.payload;
  }
  async findByUid(uid) {
    const id = this.store.get(`uid:${uid}`);
    return id ? this.find(id) : undefined;
  }
  async findByUserCode(userCode) {
    const id = this.store.get(`userCode:${userCode}`);
    return id ? this.find(id) : undefined;
  }
  async consume(id) {
    const row = this.store.get(id);
    if (row) row.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    this.store.delete(id);
  }
  async revokeByGrantId(grantId) {
    const list = stores.get('_grants');
    const members = list?.get(`grant:${grantId}`);
    if (!members) return;
    for (const [model, id] of members) stores.get(model)?.delete(id);
    list.delete(`grant:${grantId}`);
  }
}

/** Latchkey's token format (JWT, ES256, audience and roles), for the "same work" peer. */
const resource = `${issuer}/api`;
const sameWork = config.jwtAccessTokens
  ? {
      jwks: { keys: config.jwks },
      extraTokenClaims: async () => ({ roles: [] }),
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: '',
          audience: resource,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    }
  : undefined;

const provider = new Provider(issuer, {
  ...(sameWork ? { jwks: sameWork.jwks, extraTokenClaims: sameWork.extraTokenClaims } : {}),
  adapter: MemoryAdapter,
  clients: config.clients,
  cookies: { keys: [config.cookieKey] },
  findAccount: async (_ctx, id) => {
    const user = byId.get(id);
    if (!user) return undefined;
    return {
      accountId: id,
      claims: async () => ({ sub: id, email: user.email, email_verified: true, name: user.email.split('@')[0] }),
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    ...(sameWork ? { resourceIndicators: sameWork.resourceIndicators } : {}),
  },
  rotateRefreshToken: true,
  interactions: { url: (_ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
});
const callback = provider.callback();

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (uid, error) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><main><h1>Sign in</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${prefix}/interaction/${escapeHtml(uid)}/login">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></main></body></html>`;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A dummy hash to verify against for an unknown email, so that both cost one argon2id. */
const dummy = config.users[0]?.hash;

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET' && !action) {
    // A signed-in browser asked for consent (prompt=consent, for offline_access): given at
    // once, as Latchkey gives it for a first-party client.
    if (details.prompt.name === 'consent') {
      const grantId = await grantScopes(details.grantId, details.session?.accountId, details.params);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page(uid));
    return;
  }
  if (req.method !== 'POST' || action !== 'login') {
    res.writeHead(404).end();
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  const user = users.get(form.get('email') ?? '');
  const ok = await verify(user?.hash ?? dummy, form.get('password') ?? '');
  if (!user || !ok) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page(uid, 'Wrong email or password'));
    return;
  }
  const grantId = await grantScopes(undefined, user.id, details.params);
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.id }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

/** The grant (`grantId`'s, or a new one) with the scopes asked for added; its id. */
async function grantScopes(grantId, accountId, params) {
  const grant =
    (grantId && (await provider.Grant.find(grantId))) || new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  // Latchkey's first-party grant covers the client's default resource (oidc/provider.ts).
  if (sameWork) grant.addResourceScope(resource, '');
  return grant.save();
}

const interactionPath = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/;

const server = createServer((req, res) => {
  if (req.url === '/readyz') {
    res.writeHead(200).end('ok');
    return;
  }
  if (!req.url?.startsWith(prefix)) {
    res.writeHead(404).end();
    return;
  }
  req.originalUrl = req.url;
  req.url = req.url.slice(prefix.length) || '/';
  const m = interactionPath.exec(req.url.split('?')[0]);
  if (!m) {
    callback(req, res);
    return;
  }
  interaction(req, res, m[1], m[2]).catch((err) => {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(err instanceof Error ? err.message : String(err));
  });
});
server.listen(config.port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
