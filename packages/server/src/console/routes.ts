/**
 * Serves the admin console (packages/admin/dist) at /admin: hashed assets cached for a year,
 * every other path under /admin answered with index.html so deep links and reloads work,
 * and /admin/config.json telling the console where it is.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

/** packages/admin/dist, from packages/server/{src,dist}/console/. */
export const consoleDistDir = fileURLToPath(new URL('../../../admin/dist/', import.meta.url));

const consolePolicy = [
  "default-src 'self'",
  "img-src 'self' https: data:",
  "style-src 'self' 'unsafe-inline'",
  "frame-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
].join('; ');

export function consoleRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.get('/admin/config.json', { schema: { hide: true } }, async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return { publicUrl: ctx.config.publicUrl, adminApi: `${ctx.config.publicUrl}/api` };
    });

    if (!existsSync(`${consoleDistDir}index.html`)) {
      ctx.log.warn({ dir: consoleDistDir }, 'the admin console is not built; run `npm run build`');
      const notBuilt = async (_req: unknown, reply: import('fastify').FastifyReply) =>
        reply
          .code(503)
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html><title>Latchkey</title><p>The admin console is not built. Run <code>npm run build</code>.</p>',
          );
      app.get('/admin', notBuilt);
      app.get('/admin/*', notBuilt);
      return;
    }

    await app.register(fastifyStatic, {
      root: consoleDistDir,
      prefix: '/admin/',
      wildcard: false,
      index: false,
      setHeaders(res, path) {
        res.setHeader('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    const spa = async (_req: unknown, reply: import('fastify').FastifyReply) =>
      reply
        .header('cache-control', 'no-cache')
        .header('content-security-policy', consolePolicy)
        .header('x-frame-options', 'DENY')
        .sendFile('index.html', consoleDistDir);
    app.get('/admin', (_req, reply) => reply.redirect('/admin/', 302));
    app.get('/admin/', spa);
    app.get('/admin/*', async (req, reply) => {
      // Real files first (assets, favicon); anything else is a client-side route.
      const rel = (req.params as { '*': string })['*'];
      if (rel && !rel.includes('..') && existsSync(`${consoleDistDir}${rel}`) && rel !== 'index.html') {
        return reply.sendFile(rel, consoleDistDir);
      }
      if (rel.startsWith('assets/'))
        return reply.code(404).send({ error: { code: 'not_found', message: 'No such asset' } });
      return spa(req, reply);
    });
  };
}
