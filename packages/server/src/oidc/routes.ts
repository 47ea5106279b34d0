/**
 * Mounts each tenant's oidc-provider under /t/{slug}: discovery, JWKS, authorization,
 * token, userinfo, introspection, revocation and end-session. The provider reads the raw
 * request itself, so this context parses no bodies.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AppContext } from '../context.js';
import { slugSchema } from '../tenants/service.js';
import { inRequest } from './adapter.js';

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

export function providerRoutes(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    // Leave the body stream unread: oidc-provider parses it.
    app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const { slug } = req.params as { slug: string };
      const tenant = slugSchema.safeParse(slug).success ? await ctx.tenants.findBySlug(slug) : undefined;
      if (!tenant) return tenantNotFound(reply, slug);
      const provider = await ctx.providers.get(tenant);
      const raw = req.raw as typeof req.raw & { originalUrl?: string };
      const prefix = `/t/${slug}`;
      raw.originalUrl = raw.url;
      raw.url = (raw.url ?? '').slice(prefix.length) || '/';
      reply.hijack();
      await new Promise<void>((resolve) => {
        reply.raw.once('finish', resolve);
        reply.raw.once('close', resolve);
        void inRequest(() => callbackOf(provider)(raw, reply.raw));
      });
    };
    app.all('/t/:slug/*', handler);
    app.all('/t/:slug', handler);
  };
}
