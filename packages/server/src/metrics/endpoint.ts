/**
 * Where `/metrics` is served: on a listener of its own (METRICS_PORT on METRICS_HOST, for a
 * scraper inside the cluster), or on the main port behind a bearer token (METRICS_TOKEN).
 * With both, the token guards the metrics port too; with neither, metrics are off and the
 * main port answers `/metrics` with its 404, like any unknown path.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { AppError } from '../http/errors.js';
import type { Metrics } from './metrics.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether the `Authorization` header carries `Bearer <token>`. Digests are compared, in
 * constant time: neither the token's characters nor its length show in the time taken.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(given), digest(token));
}

const refusalMessage = 'A valid bearer token (METRICS_TOKEN) is required';
const refusal = JSON.stringify({ error: { code: 'unauthorized', message: refusalMessage } });
const challenge = { 'www-authenticate': 'Bearer realm="metrics"' };

/** GET /metrics on the main port (token mode); hidden from the admin API's OpenAPI document. */
export function metricsRoute(metrics: Metrics, token: string) {
  return async (app: FastifyInstance) => {
    app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
      if (!bearerMatches(req.headers.authorization, token)) {
        throw new AppError(401, 'unauthorized', refusalMessage, undefined, challenge);
      }
      const text = await metrics.exposition();
      return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
    });
  };
}

export interface MetricsListener {
  /** Like http://127.0.0.1:9464 */
  url: string;
  close(): Promise<void>;
}

/** The metrics port: `/metrics` (GET or HEAD) and nothing else. */
export async function listenForMetrics(
  metrics: Metrics,
  options: NonNullable<Config['metrics']> & { port: number },
): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        ...headers,
        'content-type': type,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-length': String(Buffer.byteLength(body)),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = 'application/json; charset=utf-8';
    if (path !== '/metrics') {
      return send(404, json, JSON.stringify({ error: { code: 'route_not_found', message: 'Only /metrics is here' } }));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, json, JSON.stringify({ error: { code: 'method_not_allowed', message: 'GET /metrics' } }), {
        allow: 'GET, HEAD',
      });
    }
    if (options.token !== undefined && !bearerMatches(req.headers.authorization, options.token)) {
      return send(401, json, refusal, challenge);
    }
    metrics.exposition().then(
      (text) => send(200, metrics.contentType, text),
      () => send(500, json, JSON.stringify({ error: { code: 'internal_error', message: 'Metrics failed' } })),
    );
  });
  // Prometheus scrapes every few seconds; a dead scraper's socket goes after a while.
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
