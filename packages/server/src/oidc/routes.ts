/**
 * Mounts each tenant's oidc-provider under /t/{slug}: discovery, JWKS, authorization,
 * token, userinfo, introspection, revocation and end-session. Parameters holding text no
 * store can hold the same way are refused first (RFC 6749 `invalid_request`).
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import * as querystring from 'node:querystring';
import type { FastifyReply } from 'fastify';
import type Provider from 'oidc-provider';
import type { AppContext } from '../context.js';
import { findUnsafeRequestText, isUnsafeText } from '../http/text.js';
import { requestLocale } from '../i18n/locales.js';
import { isSlug } from '../tenants/service.js';

const callbacks = new WeakMap<Provider, ReturnType<Provider['callback']>>();

function callbackOf(provider: Provider) {
  let cb = callbacks.get(provider);
  if (!cb) {
    cb = provider.callback();
    callbacks.set(provider, cb);
  }
  return cb;
}

export function tenantNotFound(reply: FastifyReply, slug: string) {
  return reply.code(404).header('cache-control', 'no-store').send(tenantNotFoundBody(slug));
}

const tenantNotFoundBody = (slug: string) => ({ error: 'not_found', error_description: `No tenant "${slug}"` });

/** The largest body oidc-provider reads (its own limit, `selective_body.js`). */
const OIDC_BODY_LIMIT = 56 * 1024;

/**
 * What is wrong with a request's parameters (query, form or JSON body, HTTP Basic client
 * credentials) by the text rule of http/text.ts, or undefined: a NUL in `client_id` would
 * otherwise reach the database, where PostgreSQL refuses it with a 500; and parameters past
 * the size bounds below.
 */
export function invalidParameters(
  req: Pick<IncomingMessage, 'url' | 'headers'>,
  body: Buffer | undefined,
  { quick = true } = {},
): string | undefined {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const queryText = q < 0 ? '' : url.slice(q + 1);
  const json = mediaTypeOf(req) === 'application/json';
  const bodyText = body?.toString('utf8') ?? '';
  // Most requests need no parsing here: form-encoded text of printable ASCII without a
  // percent-encoded control (%00-%1F) cannot decode to a control character (the parser turns
  // an encoded surrogate into U+FFFD; but where an escape is malformed it falls back to a
  // decoder that keeps only the low byte of other characters), nor to a parameter longer than
  // the text. input.rules.test.ts holds the quick answer to the full one.
  const plain = (text: string) => quick && text.length <= OIDC_PARAMETER_MAX_LENGTH && !encodedControl.test(text);
  if (!plain(queryText) || (body !== undefined && (json || !plain(bodyText)))) {
    // Parsed as the provider parses them (node:querystring, as Koa and selective_body.js do):
    // another parser could read `%00%FF` as it stands where they decode a NUL.
    const query = querystring.parse(queryText);
    let parsed: unknown;
    if (body !== undefined) {
      if (json) {
        try {
          parsed = JSON.parse(bodyText);
        } catch {
          parsed = undefined; // malformed: oidc-provider answers it
        }
      } else {
        parsed = querystring.parse(bodyText);
      }
    }
    const found = findUnsafeRequestText({ query, body: parsed });
    if (found) return `parameters in the ${found.in === 'body' ? 'body' : 'query'} hold control characters`;
    const tooLong = oversizedParameter(query) ?? oversizedParameter(parsed);
    if (tooLong) return tooLong;
  }
  const basic = /^basic +([a-z0-9+/=]+) *$/i.exec(req.headers.authorization ?? '')?.[1];
  if (basic && isUnsafeText(safeDecode(Buffer.from(basic, 'base64').toString('utf8')))) {
    return 'the client credentials hold control characters';
  }
  return undefined;
}

/** Text that could hold, or decode (node:querystring) to, a control character. */
const encodedControl = /[^\x20-\x7e]|%[01]/;

/**
 * Bounds on parameters, far above what any client sends (a `state` or `nonce` is tens of
 * characters, an `id_token_hint` about one kilobyte): oidc-provider keeps an authorization
 * request's parameters in the interaction (or pushed request) it stores for an hour, so an
 * unbounded `state` would let anyone write kilobytes per request into the shared database.
 */
export const OIDC_PARAMETER_MAX_LENGTH = 4096;
export const OIDC_PARAMETERS_MAX_LENGTH = 8192;

/** Why parsed parameters (a query or a form) are too large, or undefined. */
function oversizedParameter(params: unknown): string | undefined {
  if (params === null || typeof params !== 'object') return undefined;
  let total = 0;
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      const length = String(v ?? '').length;
      if (length > OIDC_PARAMETER_MAX_LENGTH) {
        return `parameter ${name.replace(/[^\w.-]/g, '?').slice(0, 40)} is longer than ${OIDC_PARAMETER_MAX_LENGTH} characters`;
      }
      total += name.length + length;
    }
  }
  return total > OIDC_PARAMETERS_MAX_LENGTH
    ? `the parameters are longer than ${OIDC_PARAMETERS_MAX_LENGTH} characters in all`
    : undefined;
}

/** RFC 6749 2.3.1: the Basic credentials are form-encoded. */
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The request as oidc-provider expects it, its body not yet read: a message on the same
 * socket holding the same head and the body already read here.
 */
function replay(raw: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(raw.socket);
  copy.method = raw.method;
  copy.url = raw.url;
  copy.headers = raw.headers;
  copy.rawHeaders = raw.rawHeaders;
  copy.httpVersion = raw.httpVersion;
  copy.httpVersionMajor = raw.httpVersionMajor;
  copy.httpVersionMinor = raw.httpVersionMinor;
  // Complete: ending it must not count as an abort (which would close the socket).
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}

/** The first segments under /t/{slug} that are Latchkey's pages (Fastify's routes), not the provider's. */
const pageSegments = new Set(['interaction', 'account', 'tickets', 'federation']);

/**
 * The slug of a request for a tenant's provider, or undefined: every path under /t/{slug}
 * but its pages (/t/{slug}/interaction… in login/routes.ts, /t/{slug}/account… in
 * accounts/, /t/{slug}/tickets… in tickets/page.ts, /t/{slug}/federation… in federation/).
 */
export function providerSlugOf(url: string): string | undefined {
  if (!url.startsWith('/t/')) return undefined;
  let end = 3;
  while (end < url.length && url[end] !== '/' && url[end] !== '?') end++;
  if (end === 3) return undefined;
  if (url[end] === '/') {
    let next = end + 1;
    while (next < url.length && url[next] !== '/' && url[next] !== '?') next++;
    if (pageSegments.has(url.slice(end + 1, next))) return undefined;
  }
  const segment = url.slice(3, end);
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // no such tenant
  }
}

/** The JSON answers of this module (oidc-provider writes its own). */
function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/**
 * The body of a form or JSON request (what oidc-provider reads) within its limit; 'too_large'
 * past it; undefined when the request ended before its body did. Other bodies are left unread.
 */
function readBody(req: IncomingMessage): Promise<Buffer | 'too_large' | undefined> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > OIDC_BODY_LIMIT) return Promise.resolve('too_large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > OIDC_BODY_LIMIT) {
        done('too_large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    const onClose = () => done(undefined);
    const done = (result: Buffer | 'too_large' | undefined) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve(result);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
  });
}

/** Whether oidc-provider reads the body (its `ctx.is(…)`: the media type, any case, without parameters). */
const readsBody = (req: IncomingMessage) => {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  const type = mediaTypeOf(req);
  return type === 'application/x-www-form-urlencoded' || type === 'application/json';
};

const mediaTypeOf = (req: Pick<IncomingMessage, 'headers'>) =>
  (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();

/**
 * Serves one request of a tenant's provider, on the server's own request and response
 * (http/app.ts calls it before Fastify routes anything: its routing, hooks and body parsing
 * cost each token request a tenth of its time). The tenant is found, a form or JSON body
 * read within oidc-provider's limit and its parameters checked (invalidParameters), and then
 * the provider answers from a replay of the request.
 */
export async function serveProvider(ctx: AppContext, req: IncomingMessage, res: ServerResponse, slug: string) {
  // Cached answers without an await (each costs every request its promises).
  const known = isSlug(slug) ? ctx.tenants.cachedBySlug(slug) : null;
  const tenant = known === undefined ? await ctx.tenants.findBySlug(slug) : (known ?? undefined);
  if (!tenant) return sendJson(res, 404, tenantNotFoundBody(slug));
  let body: Buffer | undefined;
  if (readsBody(req)) {
    const read = await readBody(req);
    if (read === undefined) return;
    if (read === 'too_large') {
      const message = `Request body is too large (over ${OIDC_BODY_LIMIT} bytes)`;
      return sendJson(res, 413, { error: { code: 'payload_too_large', message } }, { connection: 'close' });
    }
    body = read;
  }
  const invalid = invalidParameters(req, body);
  if (invalid) {
    const error = { error: 'invalid_request', error_description: invalid };
    // A browser (the authorization and end-session endpoints) gets a page, others JSON.
    if (!req.headers.accept?.includes('text/html')) return sendJson(res, 400, error);
    const page = ctx.pages.error(tenant, requestLocale(tenant, req.headers), error.error, error.error_description);
    res.writeHead(400, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'content-length': String(Buffer.byteLength(page)),
    });
    return void res.end(page);
  }
  const provider = ctx.providers.cached(tenant) ?? (await ctx.providers.get(tenant));
  const url = req.url ?? '';
  const raw = body === undefined ? req : replay(req, body);
  (raw as { originalUrl?: string }).originalUrl = url;
  raw.url = url.slice(slug.length + 3) || '/';
  // Koa's handler settles once the answer is handed to the response, and handles its own errors.
  await callbackOf(provider)(raw, res);
}
