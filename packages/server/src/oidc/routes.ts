/**
 * Mounts each tenant's oidc-provider under /t/{slug}: discovery, JWKS, authorization,
 * token, userinfo, introspection, revocation and end-session. Parameters holding text no
 * store can hold the same way are refused first (RFC 6749 `invalid_request`).
 */
import { IncomingMessage } from 'node:http';
import * as querystring from 'node:querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AppContext } from '../context.js';
import { findUnsafeRequestText, isUnsafeText } from '../http/text.js';
import { slugSchema } from '../tenants/service.js';

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
  return reply
    .code(404)
    .header('cache-control', 'no-store')
    .send({ error: 'not_found', error_description: `No tenant "${slug}"` });
}

/** The largest body oidc-provider reads (its own limit, `selective_body.js`). */
const OIDC_BODY_LIMIT = 56 * 1024;

/**
 * What is wrong with a request's parameters (query, form or JSON body, HTTP Basic client
 * credentials) by the text rule of http/text.ts, or undefined: a NUL in `client_id` would
 * otherwise reach the database, where PostgreSQL refuses it with a 500; and parameters past
 * the size bounds below.
 */
function invalidParameters(req: FastifyRequest): string | undefined {
  // Parsed as the provider parses them (node:querystring, as Koa and selective_body.js do):
  // another parser could read `%00%FF` as it stands where they decode a NUL.
  const query = querystring.parse((req.raw.url ?? '').split('?').slice(1).join('?'));
  let body: unknown;
  if (Buffer.isBuffer(req.body)) {
    const text = req.body.toString('utf8');
    if (req.headers['content-type']?.includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined; // malformed: oidc-provider answers it
      }
    } else {
      body = querystring.parse(text);
    }
  }
  const found = findUnsafeRequestText({ query, body });
  if (found) return `parameters in the ${found.in === 'body' ? 'body' : 'query'} hold control characters`;
  const tooLong = oversizedParameter(query) ?? oversizedParameter(body);
  if (tooLong) return tooLong;
  const basic = /^basic +([a-z0-9+/=]+) *$/i.exec(req.headers.authorization ?? '')?.[1];
  if (basic && isUnsafeText(safeDecode(Buffer.from(basic, 'base64').toString('utf8')))) {
    return 'the client credentials hold control characters';
  }
  return undefined;
}

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

export function providerRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    // The bodies oidc-provider reads (forms and JSON) are read here first, within its own
    // limit, so that their parameters pass the text rule (invalidParameters); it then reads
    // them from a replay of the request. Other bodies are left unread.
    app.addContentTypeParser(
      ['application/x-www-form-urlencoded', 'application/json'],
      { parseAs: 'buffer', bodyLimit: OIDC_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );
    app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const { slug } = req.params as { slug: string };
      const tenant = slugSchema.safeParse(slug).success ? await ctx.tenants.findBySlug(slug) : undefined;
      if (!tenant) return tenantNotFound(reply, slug);
      const invalid = invalidParameters(req);
      if (invalid) {
        reply.code(400).header('cache-control', 'no-store');
        const error = { error: 'invalid_request', error_description: invalid };
        // A browser (the authorization and end-session endpoints) gets a page, others JSON.
        if (!req.headers.accept?.includes('text/html')) return reply.send(error);
        return reply
          .headers({ 'content-type': 'text/html; charset=utf-8', 'x-frame-options': 'DENY' })
          .send(ctx.pages.error(tenant, error.error, error.error_description));
      }
      const provider = await ctx.providers.get(tenant);
      const prefix = `/t/${slug}`;
      const raw = Buffer.isBuffer(req.body) ? replay(req.raw, req.body) : req.raw;
      (raw as { originalUrl?: string }).originalUrl = req.raw.url;
      raw.url = (req.raw.url ?? '').slice(prefix.length) || '/';
      reply.hijack();
      await new Promise<void>((resolve) => {
        reply.raw.once('finish', resolve);
        reply.raw.once('close', resolve);
        void callbackOf(provider)(raw, reply.raw);
      });
    };
    app.all('/t/:slug/*', handler);
    app.all('/t/:slug', handler);
  };
}
