/**
 * The fault test's load: an HTTP client that records what every request got, the four kinds
 * of operation (a complete password sign-in, a refresh, a client-credentials grant, an admin
 * API write) and the workers that repeat them through the proxy. What was acknowledged goes
 * into a ledger that checks.mjs verifies at the end: every code and refresh token used, with
 * whether its use was accepted, refused or unknown (no answer, or a 5xx), and every user
 * whose creation was acknowledged.
 *
 * The sign-in itself is the smoke suite's (`latchkey smoke`): its BrowserSignIn drives the
 * sign-in page as a browser without JavaScript does, over this client.
 */

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { basicAuth } from '../../packages/server/dist/smoke/http.js';
import { BrowserSignIn } from '../../packages/server/dist/smoke/sign-in.js';

export const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A request that got no answer: `code` is the socket error (ECONNRESET, …) or `timeout`. */
export class NetError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** The error code in an answer's body: the admin API's `error.code`, OAuth's `error`, else what the body is. */
function errorCode(text, type) {
  try {
    const body = JSON.parse(text);
    if (typeof body?.error === 'string') return body.error;
    if (typeof body?.error?.code === 'string') return body.error.code;
    if (typeof body?.reason === 'string') return body.reason;
  } catch {
    // not JSON
  }
  if (/^\s*</.test(text)) return 'page';
  return text ? `body (${type ?? 'no type'})` : 'empty body';
}

/**
 * HTTP over node:http, from one local address (each worker is its own client address, as
 * the proxy reports it in X-Forwarded-For), with a deadline per request. `request` has the
 * shape the smoke suite's Http has, so BrowserSignIn runs on it. It remembers the last
 * refusal (status ≥ 400) and the node that answered, for the operation's record.
 */
export class Client {
  constructor({ localAddress = '127.0.0.1', timeoutMs = 10_000 } = {}) {
    this.localAddress = localAddress;
    this.timeoutMs = timeoutMs;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 8, timeout: 4000 });
    this.reset();
  }

  reset() {
    this.problem = undefined;
    this.node = undefined;
    this.slowestMs = 0;
  }

  request(url, init = {}) {
    const target = new URL(url);
    const body = init.body === undefined ? undefined : Buffer.from(String(init.body));
    const headers = { ...(init.headers ?? {}) };
    if (body) headers['content-length'] = String(body.length);
    const started = now();
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: target.hostname,
        port: target.port,
        method: init.method ?? 'GET',
        path: `${target.pathname}${target.search}`,
        headers,
        agent: this.agent,
        localAddress: this.localAddress,
      });
      const timer = setTimeout(
        () => req.destroy(new NetError('timeout', `no answer within ${this.timeoutMs / 1000} s`)),
        this.timeoutMs,
      );
      req.on('response', (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (err) => req.destroy(err));
        res.on('end', () => {
          clearTimeout(timer);
          this.slowestMs = Math.max(this.slowestMs, now() - started);
          const text = Buffer.concat(chunks).toString('utf8');
          const answerHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) answerHeaders.append(name, v);
          }
          const status = res.statusCode ?? 0;
          this.node = answerHeaders.get('x-faults-node') ?? this.node;
          if (status >= 400) this.problem = `${status} ${errorCode(text, res.headers['content-type'])}`;
          resolve({ status, headers: answerHeaders, text, url: target });
        });
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        this.slowestMs = Math.max(this.slowestMs, now() - started);
        reject(err instanceof NetError ? err : new NetError(err.code ?? 'error', err.message));
      });
      req.end(body);
    });
  }

  /** A JSON request with a bearer credential; resolves with the answer and its parsed body. */
  async json(url, { method = 'GET', token, body } = {}) {
    const answer = await this.request(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let parsed;
    try {
      parsed = answer.text ? JSON.parse(answer.text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { ...answer, body: parsed };
  }

  /** A token endpoint request with HTTP Basic client authentication. */
  token(endpoint, client, fields) {
    return this.request(endpoint, {
      method: 'POST',
      headers: {
        authorization: basicAuth(client.id, client.secret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(fields).toString(),
    });
  }
}

/** Fails an operation with the answer's status and error code (which the record keeps). */
class Refused extends Error {}

/**
 * Notes on a ledger entry what its use came to: `accepted` (0 or 1 here; races count more),
 * and `unknown` when there was no answer or a 5xx, after which the server may or may not have
 * consumed it.
 */
function settle(entry, answer) {
  entry.accepted = answer?.status === 200 ? 1 : 0;
  entry.unknown = answer === undefined || answer.status >= 500;
}

/** The record of operations and the ledger of what was acknowledged. */
export class Recorder {
  ops = [];
  probes = [];
  codes = [];
  refreshTokens = [];
  users = [];
  unknownUsers = [];
  /** Violations found on the spot (a double redemption in a race). */
  violations = [];

  /**
   * Runs one operation of `kind` on `client`, recording its time, outcome, the node that
   * answered last and, when it failed, what it failed with.
   */
  async op(kind, client, fn) {
    client.reset();
    const start = now();
    try {
      const value = await fn();
      this.ops.push({ kind, start, end: now(), ok: true, node: client.node });
      return { ok: true, value };
    } catch (err) {
      const error =
        err instanceof NetError ? err.code : (client.problem ?? `flow: ${String(err?.message ?? err).slice(0, 80)}`);
      this.ops.push({
        kind,
        start,
        end: now(),
        ok: false,
        error,
        node: client.node,
        detail: String(err?.message ?? err),
      });
      return { ok: false, error: err };
    }
  }
}

/**
 * A complete password sign-in through the proxy: the authorization request (PKCE S256), the
 * sign-in form with its CSRF field and cookies, the redirect with the code, the code
 * exchanged. Resolves with the token response; the code goes into the ledger.
 */
export async function signIn(client, ctx, rec, user, { exchangeAt } = {}) {
  const browser = new BrowserSignIn(client, ctx.issuer, ctx.web.id, ctx.redirectUri);
  const page = await browser.open(`${ctx.issuer}/auth`);
  const callback = await browser.signIn(page, user.email, user.password);
  if (exchangeAt) return callback;
  return exchange(client, ctx, rec, callback, `${ctx.issuer}/token`);
}

/** The code exchanged at `endpoint`; recorded with its outcome. */
export async function exchange(client, ctx, rec, callback, endpoint) {
  const entry = { code: callback.code, verifier: callback.verifier, accepted: 0, unknown: true };
  rec.codes.push(entry);
  const fields = {
    grant_type: 'authorization_code',
    code: callback.code,
    redirect_uri: ctx.redirectUri,
    code_verifier: callback.verifier,
  };
  let answer;
  try {
    answer = await client.token(endpoint, ctx.web, fields);
  } finally {
    settle(entry, answer);
  }
  if (answer.status !== 200) throw new Refused(`code exchange answered ${answer.status}`);
  const tokens = JSON.parse(answer.text);
  if (!tokens.refresh_token || !tokens.access_token) throw new Refused('the code exchange gave no refresh token');
  return tokens;
}

/** One refresh through the proxy; resolves with the next refresh token. The used one goes into the ledger. */
export async function refresh(client, ctx, rec, token) {
  const entry = { token, accepted: 0, unknown: true };
  rec.refreshTokens.push(entry);
  let answer;
  try {
    answer = await client.token(`${ctx.issuer}/token`, ctx.web, { grant_type: 'refresh_token', refresh_token: token });
  } finally {
    settle(entry, answer);
  }
  if (answer.status !== 200) throw new Refused(`refresh answered ${answer.status}`);
  const next = JSON.parse(answer.text).refresh_token;
  if (!next || next === token) throw new Refused('the refresh token was not rotated');
  return next;
}

export async function clientCredentials(client, ctx, endpoint = `${ctx.issuer}/token`, service = ctx.service) {
  const answer = await client.token(endpoint, service, { grant_type: 'client_credentials' });
  if (answer.status !== 200) throw new Refused(`client credentials answered ${answer.status}`);
  const { access_token: accessToken } = JSON.parse(answer.text);
  if (!accessToken) throw new Refused('no access token');
  return accessToken;
}

/** An admin API write: a new user; an acknowledged one (201) goes into the ledger with its id. */
export async function createUser(client, ctx, rec) {
  const email = `w-${randomBytes(6).toString('hex')}@faults.test`;
  let answer;
  try {
    answer = await client.json(`${ctx.proxyUrl}/api/v1/tenants/${ctx.slug}/users`, {
      method: 'POST',
      token: ctx.apiKey,
      body: { email, emailVerified: true },
    });
  } catch (err) {
    rec.unknownUsers.push(email);
    throw err;
  }
  if (answer.status >= 500) rec.unknownUsers.push(email);
  if (answer.status !== 201 || typeof answer.body?.id !== 'string')
    throw new Refused(`POST users answered ${answer.status}`);
  rec.users.push({ id: answer.body.id, email });
  return answer.body.id;
}

/**
 * The load: workers that each repeat one kind of operation through the proxy until `stop()`,
 * each from its own client address. The refresh workers keep a chain: each new refresh token is
 * used once; after a use whose outcome is unknown the chain is left (using that token again
 * could be a replay) and a new one starts with a sign-in.
 */
export function startLoad(ctx, rec, { signIns = 2, refreshers = 2, services = 1, writers = 1, pauseMs = 25 } = {}) {
  let stopped = false;
  let address = 10;
  const clientFor = () => new Client({ localAddress: `127.0.0.${address++}` });
  const loops = [];
  const loop = (body) => {
    const client = clientFor();
    loops.push(
      (async () => {
        while (!stopped) {
          await body(client);
          await sleep(pauseMs);
        }
      })(),
    );
  };
  for (let i = 0; i < signIns; i++) {
    const user = ctx.users[i];
    loop((client) => rec.op('sign-in', client, () => signIn(client, ctx, rec, user)));
  }
  for (let i = 0; i < refreshers; i++) {
    const user = ctx.users[signIns + i];
    let token;
    loop(async (client) => {
      if (!token) {
        const r = await rec.op('sign-in', client, () => signIn(client, ctx, rec, user));
        token = r.ok ? r.value.refresh_token : undefined;
        return;
      }
      const r = await rec.op('refresh', client, () => refresh(client, ctx, rec, token));
      token = r.ok ? r.value : undefined;
    });
  }
  for (let i = 0; i < services; i++)
    loop((client) => rec.op('client-credentials', client, () => clientCredentials(client, ctx)));
  for (let i = 0; i < writers; i++) loop((client) => rec.op('admin-write', client, () => createUser(client, ctx, rec)));
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}
