/**
 * Builds the HTTP application: Fastify with zod validation both ways, one error shape,
 * request ids, the OpenAPI document, health checks and every feature's routes.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from '@fastify/type-provider-zod';
import Fastify, { type FastifyError, LogController } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { accountPageRoutes } from '../accounts/account-page.js';
import { accountRoutes } from '../accounts/routes.js';
import { apiKeyRoutes } from '../api-keys/routes.js';
import { apiRoutes } from '../apis/routes.js';
import { auditRoutes } from '../audit/routes.js';
import { clientRoutes } from '../clients/routes.js';
import { consoleRoutes } from '../console/routes.js';
import type { AppContext } from '../context.js';
import { emailRoutes } from '../email/routes.js';
import { federationRoutes } from '../federation/routes.js';
import { keyRoutes } from '../keys/routes.js';
import { type Refusal, signInAdmission } from '../login/admission.js';
import { interactionRoutes } from '../login/routes.js';
import { metricsRoute } from '../metrics/endpoint.js';
import { methodOf, providerRouteOf, UNMATCHED } from '../metrics/labels.js';
import { providerSlugOf, serveProvider } from '../oidc/routes.js';
import { roleRoutes } from '../roles/routes.js';
import { sessionRoutes } from '../sessions/routes.js';
import { statsRoutes } from '../stats/routes.js';
import { tenantRoutes } from '../tenants/routes.js';
import { ticketPageRoutes } from '../tickets/page.js';
import { ticketRoutes } from '../tickets/routes.js';
import { userImportRoutes } from '../user-imports/routes.js';
import { userRoutes } from '../users/routes.js';
import { serverVersion } from '../version.js';
import { apiDocs } from './api-docs.js';
import { proxyTrust } from './client-address.js';
import { answerAtOnce, answeringWhenDurable } from './durable.js';
import { AppError, type ErrorBody, isUnavailable, unavailable } from './errors.js';
import { registerGuards } from './guard.js';
import { checkJsonShape, decodeUtf8 } from './json.js';
import { assertSafeRequestText } from './text.js';
import { traceContextOf } from './trace-context.js';

const fastifyErrorCodes: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_INVALID_URL: { status: 400, code: 'invalid_url' },
};

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the caller's X-Request-Id when it is a sane one, else a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}

/** The route template of the sign-in POST that `sendEarly` answers before routing. */
const SIGN_IN_ROUTE = '/t/:slug/interaction/:uid/login';

/** Headers of every answer. */
const baseAnswer = (requestId: string) => ({ 'x-request-id': requestId, 'x-content-type-options': 'nosniff' });
/** HSTS on every answer when PUBLIC_URL is https: browsers then never try plain HTTP first (a year, as Keycloak's default). */
const strictTransport = { 'strict-transport-security': 'max-age=31536000' };
/** The admin API answers JSON only: nothing in it may run, be framed, or leak its URL onwards. */
const apiAnswer = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

// A missing field says so, rather than zod's "expected string, received undefined".
z.config({
  customError: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined),
});

export async function buildApp(ctx: AppContext) {
  const https = ctx.config.publicUrl.startsWith('https:');
  const everyAnswer = https ? (requestId: string) => ({ ...baseAnswer(requestId), ...strictTransport }) : baseAnswer;
  // Once shutdown begins, answers to requests still in flight close their connection: an idle
  // keep-alive connection would otherwise hold the shutdown open until its client drops it.
  let shuttingDown = false;
  const { metrics } = ctx;
  const admission = signInAdmission(ctx);
  /** The sign-in form's refusal, sent before Fastify has seen the request (login/admission.ts). */
  const sendEarly = (req: IncomingMessage, res: ServerResponse, refusal: Refusal) => {
    const started = performance.now();
    const id = requestIdOf(req);
    if (refusal.atOnce) answerAtOnce(res);
    res.writeHead(refusal.status, {
      ...refusal.headers,
      ...everyAnswer(id),
      'content-length': String(refusal.body.length),
    });
    res.end(refusal.body);
    const ms = performance.now() - started;
    // The onResponse hook's line, below.
    ctx.log.info(
      {
        reqId: id,
        ...traceContextOf(req.headers),
        method: req.method,
        url: req.url,
        status: refusal.status,
        ms: Math.round(ms),
      },
      'request',
    );
    if (metrics) {
      metrics.signIn('busy');
      metrics.httpRequest('POST', SIGN_IN_ROUTE, refusal.status, ms / 1000);
    }
  };
  /**
   * A request to a tenant's provider (/t/{slug}, but its sign-in pages), served without
   * Fastify (oidc/routes.ts) and with what Fastify's hooks below give every answer: the
   * request id and nosniff, the body deadline, `connection: close` once shutdown has begun,
   * and the request's log line.
   */
  const servedDirectly = (req: IncomingMessage, res: ServerResponse, slug: string) => {
    const started = performance.now();
    const id = requestIdOf(req);
    const url = req.url;
    const method = req.method;
    const bindings = { reqId: id, ...traceContextOf(req.headers) };
    for (const [name, value] of Object.entries(everyAnswer(id))) res.setHeader(name, value);
    bodyDeadline(req, ctx.config.requestTimeoutMs);
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (shuttingDown) this.setHeader('connection', 'close');
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof res.writeHead;
    res.once('close', () => {
      const ms = performance.now() - started;
      ctx.log.info({ ...bindings, method, url, status: res.statusCode, ms: Math.round(ms) }, 'request');
      metrics?.httpRequest(methodOf(method), providerRouteOf(url ?? ''), res.statusCode, ms / 1000);
    });
    serveProvider(ctx, req, res, slug).catch((err: unknown) => {
      ctx.log.error({ err, ...bindings }, 'unexpected error');
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify({
        error: { code: 'internal_error', message: 'An unexpected error occurred', requestId: id },
      });
      res.writeHead(500, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  };
  const app = Fastify<Server, IncomingMessage, ServerResponse, Logger>({
    loggerInstance: ctx.log,
    bodyLimit: ctx.config.bodyLimit,
    // A request must arrive whole within this time: a body that never ends holds no socket for long.
    requestTimeout: ctx.config.requestTimeoutMs,
    // Trust X-Forwarded-For for exactly the configured number of proxy hops.
    trustProxy: proxyTrust(ctx.config.trustProxyHops),
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdOf,
    // Each request's logger carries its id, and the caller's trace when it sent a valid traceparent.
    childLoggerFactory: (logger, bindings, options, raw) => {
      const trace = traceContextOf(raw.headers);
      return logger.child(trace ? { ...bindings, ...trace } : bindings, options);
    },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    return503OnClosing: true,
    // Fastify's own server, but every request first meets the sign-in form's admission, whose
    // refusal skips routing (login/admission.ts); and every answer waits for durability.
    serverFactory: (handler, opts) => {
      const server = createServer(
        ctx.database.whenDurable
          ? { ServerResponse: answeringWhenDurable(() => ctx.database.whenDurable?.(), ctx.log) }
          : {},
        (req, res) => {
          // Past shutdown's start, Fastify answers 503.
          const refusal = shuttingDown ? undefined : admission.early(req, res);
          if (refusal) return sendEarly(req, res, refusal);
          const slug = shuttingDown ? undefined : providerSlugOf(req.url ?? '');
          if (slug !== undefined) return servedDirectly(req, res, slug);
          handler(req, res);
        },
      );
      // What Fastify sets on a server it makes (its options, defaults filled in).
      const o = opts as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      if (o.keepAliveTimeout) server.keepAliveTimeout = o.keepAliveTimeout;
      if (o.requestTimeout) server.requestTimeout = o.requestTimeout;
      if (o.connectionTimeout) server.setTimeout(o.connectionTimeout);
      return server;
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON in: Fastify's built-in text/plain parser would let a mislabelled body reach validation.
  app.removeContentTypeParser('text/plain');
  // Many clients label every request JSON, bodiless PUTs and DELETEs too: where a route takes
  // no body, an empty one is no body. Elsewhere the body must be UTF-8 of a bounded shape
  // without duplicate keys (http/json.ts) before Fastify's own parser reads it (invalid_json).
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    if ((body as Buffer).length === 0 && !req.routeOptions.schema?.body) return done(null, undefined);
    let text: string;
    try {
      text = decodeUtf8(body as Buffer);
      checkJsonShape(text, req.routeOptions.config?.jsonMaxMembers);
    } catch (err) {
      return done(err as Error, undefined);
    }
    void json(req, text, done);
  });

  app.addHook('onRequest', async (req) => {
    if (!req.routeOptions.config?.streamedBody) bodyDeadline(req.raw, ctx.config.requestTimeoutMs);
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(everyAnswer(req.id));
    // Admin API answers carry tenant data: never stored in shared or browser caches.
    if (req.url.startsWith('/api/v1/')) reply.headers(apiAnswer);
  });
  app.addHook('preClose', async () => {
    shuttingDown = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (shuttingDown) reply.header('connection', 'close');
    return payload;
  });
  if (metrics) {
    // The route as registered (`/api/v1/tenants/:slug`), never the path asked for.
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.is404 ? UNMATCHED : (req.routeOptions.url ?? UNMATCHED);
      metrics.httpRequest(methodOf(req.method), route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      // The URL as asked (before a mounted provider saw its own part); the logger redacts it.
      { method: req.method, url: req.originalUrl, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  app.setErrorHandler((thrown: FastifyError, req, reply) => {
    // A store that cannot be reached: a 503 to retry, logged once as such (with the cause).
    const err = isUnavailable(thrown) ? (unavailable() as FastifyError) : thrown;
    if (err !== thrown) req.log.warn({ err: thrown }, 'a store is unavailable');
    const body = toErrorBody(err, req.id);
    if (err instanceof AppError && err.headers) reply.headers(err.headers);
    if (body.status >= 500 && err === thrown) {
      req.log.error({ err }, 'unexpected error');
    }
    return reply.code(body.status).send({ error: body.error } satisfies ErrorBody);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: { code: 'route_not_found', message: `No route ${req.method} ${req.url.split('?')[0]}` },
    }),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Latchkey admin API',
        // The contract's own semver, not the package's: MAJOR is the /api/vN path, MINOR grows with
        // every addition; released as packages/server/api/v1.json (docs/api.md, "Versioning and the contract").
        version: '1.3.0',
        description:
          'Tenants, users, roles, API keys and the audit log. Errors are `{"error": {"code", "message", "details"}}` with stable codes.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key (`lk_…`) or an access token for the admin API',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
    hideUntagged: true,
  });
  await app.register(apiDocs);
  // Token mode: /metrics on this port, for the bearer of METRICS_TOKEN (metrics/endpoint.ts).
  const metricsToken = ctx.config.metrics?.token;
  if (metrics && metricsToken && ctx.config.metrics?.port === undefined) {
    await app.register(metricsRoute(metrics, metricsToken));
  }

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', version: serverVersion }));
  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    try {
      await ctx.database.ping();
      return { status: 'ok' };
    } catch (err) {
      req.log.warn({ err }, 'database unreachable');
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });

  await app.register(
    async (api) => {
      registerGuards(api, ctx);
      // Text no store can hold the same way is refused before validation (http/text.ts).
      api.addHook('preValidation', async (req) => assertSafeRequestText(req));
      api.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
      await api.register(tenantRoutes(ctx));
      await api.register(userRoutes(ctx));
      await api.register(roleRoutes(ctx));
      await api.register(apiKeyRoutes(ctx));
      await api.register(auditRoutes(ctx));
      await api.register(clientRoutes(ctx));
      await api.register(apiRoutes(ctx));
      await api.register(keyRoutes(ctx));
      await api.register(sessionRoutes(ctx));
      await api.register(statsRoutes(ctx));
      await api.register(emailRoutes(ctx));
      await api.register(userImportRoutes(ctx));
      await api.register(ticketRoutes(ctx));
      await api.register(federationRoutes(ctx));
    },
    { prefix: '/api/v1' },
  );

  // Each tenant's OpenID provider is served before Fastify (servedDirectly, above); here, the
  // pages it sends browsers to.
  await app.register(interactionRoutes(ctx, admission));
  await app.register(accountRoutes(ctx));
  await app.register(accountPageRoutes(ctx));
  await app.register(ticketPageRoutes(ctx));
  await app.register(consoleRoutes(ctx));

  return app;
}

/**
 * Node's own requestTimeout stops counting once a request reaches its listener, so a body
 * that never ends (Content-Length: 100, then 10 bytes) would hold its connection forever:
 * past `ms`, an incomplete request's connection is closed.
 */
function bodyDeadline(req: IncomingMessage, ms: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (!req.complete) req.socket?.destroy();
  }, ms);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

function toErrorBody(err: FastifyError, requestId: string): { status: number; error: ErrorBody['error'] } {
  if (err instanceof AppError) {
    return {
      status: err.status,
      error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) },
    };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    return {
      status: 400,
      error: {
        code: 'validation_failed',
        message: `Invalid ${err.validationContext ?? 'request'}: ${err.validation
          .slice(0, 3)
          .map((v) => `${v.instancePath || '/'} ${v.message}`)
          .join('; ')}`,
        details: err.validation.map((v) => ({
          in: err.validationContext,
          path: v.instancePath,
          message: v.message,
          code: v.keyword,
        })),
      },
    };
  }
  const known = err.code ? fastifyErrorCodes[err.code] : undefined;
  if (known) return { status: known.status, error: { code: known.code, message: err.message } };
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, error: { code: 'bad_request', message: err.message } };
  }
  return {
    status: 500,
    error: { code: 'internal_error', message: 'An unexpected error occurred', requestId },
  };
}

export type App = Awaited<ReturnType<typeof buildApp>>;
