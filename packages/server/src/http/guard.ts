/**
 * Authentication and authorization for `/api/v1`. Every route is closed unless its config
 * says `public: true`; tenant routes name the permission they need and resolve `{slug}`
 * here, answering 404 for tenants the caller may not see, so that other tenants' existence
 * does not leak.
 */
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { actorOf } from '../audit/service.js';
import { can, canSeeTenant, type Permission, type Principal } from '../auth/permissions.js';
import type { AppContext } from '../context.js';
import type { Tenant } from '../tenants/service.js';
import { forbidden, notFound, unauthorized } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    tenant: Tenant | null;
  }
  interface FastifyContextConfig {
    /** No credential needed (the OpenAPI document). */
    public?: boolean;
    /** Audit action of a mutating route; failures are logged under it too. */
    audit?: string;
  }
}

/** Paths under a tenant whose changes its provider is built from: itself, clients, keys, APIs. */
const oidcSources = /^(?:\/?$|\/(?:clients|keys|apis)(?:\/|$))/;

export function registerGuards(api: FastifyInstance, ctx: AppContext): void {
  api.decorateRequest('principal', null);
  api.decorateRequest('tenant', null);

  api.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.public) return;
    const header = req.headers.authorization;
    const match = header ? /^Bearer +([\x21-\x7e]+) *$/i.exec(header) : null;
    if (!match?.[1]) {
      reply.header('www-authenticate', 'Bearer realm="latchkey"');
      throw unauthorized();
    }
    const principal = await ctx.credentials.authenticate(match[1]);
    if (!principal) {
      reply.header('www-authenticate', 'Bearer realm="latchkey", error="invalid_token"');
      throw unauthorized('The credential is invalid, expired or revoked');
    }
    req.principal = principal;
  });

  // A change made on this node (a role, user, client, key or tenant) applies to cached
  // credentials (API keys and tokens) at once, before the answer leaves, and to what the
  // tenant's provider is built from; other nodes hear of it through the change notices
  // (Redis), or see it when their cache entries expire.
  api.addHook('onSend', async (req, reply, payload) => {
    if (req.method === 'GET' || req.method === 'HEAD' || reply.statusCode >= 400) return payload;
    const slug = (req.params as { slug?: unknown } | undefined)?.slug;
    if (typeof slug !== 'string') {
      ctx.notices.changed({});
      return payload;
    }
    const path = req.url.split('?')[0] ?? '';
    const oidc = oidcSources.test(path.slice(`/api/v1/tenants/${slug}`.length));
    // The tenant the route resolved (requireTenant), read before the change.
    ctx.notices.changed({ slug, tenantId: req.tenant?.id, oidc });
    return payload;
  });

  // A refused change is itself worth recording: who tried what, on what, where, and what came
  // back. Written before the answer leaves, so a client reading the log next sees it.
  api.addHook('onSend', async function auditRefusal(req, reply, payload) {
    const action = req.routeOptions.config.audit;
    const principal = req.principal;
    if (!action || !principal || reply.statusCode < 400 || reply.statusCode >= 500) return payload;
    try {
      await ctx.audit.record(ctx.database.db, actorOf(req), {
        tenantId: req.tenant?.id ?? principal.tenantId,
        action,
        outcome: 'failure',
        target: await refusedTarget(ctx, req),
        details: { status: reply.statusCode, url: req.url.split('?')[0] },
      });
    } catch (err) {
      req.log.error({ err }, 'could not record a failed action in the audit log');
    }
    return payload;
  });
}

/** Collections of the admin API below a tenant, and the kind of audit target each item is. */
const targetKinds: Record<string, string> = {
  users: 'user',
  clients: 'client',
  'api-keys': 'api_key',
  apis: 'api',
  roles: 'role',
  'ticket-types': 'ticket_type',
  'identity-providers': 'identity_provider',
};

/** A URL parameter worth recording: printable, unspaced, short (not what a garbled request sent). */
const recordable = /^[\x21-\x7e]{1,100}$/;

/**
 * What a refused change was aimed at, as its route's URL names it, in the terms its success
 * would have recorded: the first item below the tenant (`…/users/:id/roles/:name` is about the
 * user), a role by its id, the tenant itself for a change to it (`PATCH /tenants/:slug`,
 * `…/keys/rotate`), and nothing for a creation (`POST …/users`) or a tenant the caller may not
 * see.
 */
async function refusedTarget(ctx: AppContext, req: FastifyRequest): Promise<{ type: string; id: string } | undefined> {
  const tenant = req.tenant;
  const below = /^\/api\/v1\/tenants\/:slug(?:\/(.*))?$/.exec(req.routeOptions.url ?? '');
  if (!below || !tenant) return undefined;
  const [collection, param] = (below[1] ?? '').split('/');
  const type = collection ? targetKinds[collection] : undefined;
  if (!type) return { type: 'tenant', id: tenant.id };
  if (!param?.startsWith(':')) return undefined;
  const value = (req.params as Record<string, unknown>)[param.slice(1)];
  if (typeof value !== 'string' || !recordable.test(value)) return undefined;
  if (type !== 'role') return { type, id: value };
  const [role] = await ctx.roles.byNames(ctx.database.db, tenant, [value]);
  return role && { type, id: role.id };
}

/** The authenticated principal; only for routes behind the guard. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthorized();
  return req.principal;
}

/** The tenant that `requireTenant` resolved for this request. */
export function tenantOf(req: FastifyRequest): Tenant {
  if (!req.tenant) throw notFound('tenant_not_found', 'No such tenant');
  return req.tenant;
}

/** Resolves `{slug}` to a tenant the caller may see and checks `permission` there. */
export function requireTenant(ctx: AppContext, permission: Permission): preHandlerAsyncHookHandler {
  return async (req) => {
    const principal = principalOf(req);
    const { slug } = req.params as { slug: string };
    const tenant = await ctx.tenants.findBySlug(slug);
    if (!tenant || !canSeeTenant(principal, tenant.id)) {
      throw notFound('tenant_not_found', `No tenant "${slug}"`);
    }
    req.tenant = tenant;
    if (!can(principal, tenant.id, permission)) {
      throw forbidden(`This needs the ${permission} permission in tenant "${slug}"`, { permission });
    }
  };
}

/** Global operations (create or delete tenants) need `system:admin`. */
export const requireSystemAdmin: preHandlerAsyncHookHandler = async (req) => {
  if (!principalOf(req).systemAdmin) throw forbidden('This needs the system:admin role', { role: 'system:admin' });
};
