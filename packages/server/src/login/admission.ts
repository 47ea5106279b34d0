/**
 * The sign-in form's place at the password hash queue (passwords/hash.ts), taken as the POST
 * arrives: before its body is read or its interaction loaded, so that a burst past the
 * queue's bounds costs next to nothing, each refused attempt answered at once with the
 * branded "try again later" page (429, Retry-After). The place goes to `SignInService.signIn`
 * and is given back when the answer is sent, whatever it was.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { type Admission, BusyError, requesterOf } from '../passwords/hash.js';
import { slugSchema } from '../tenants/service.js';

export function signInAdmission(ctx: AppContext) {
  const places = new WeakMap<FastifyRequest, Admission>();
  const giveBack = async (req: FastifyRequest) => {
    places.get(req)?.cancel();
  };
  return {
    /** The sign-in POST's route options: the place is taken as it arrives, given back as it ends. */
    hooks: {
      /** Takes the place, or throws `BusyError` (answered by `busyPage`). */
      async onRequest(req: FastifyRequest) {
        const { slug } = req.params as { slug: string };
        const tenant = slugSchema.safeParse(slug).success ? await ctx.tenants.findBySlug(slug) : undefined;
        // An unknown tenant is answered by the route, as for any other request.
        if (tenant) places.set(req, ctx.hasher.admit(requesterOf(tenant.id, req.ip)));
      },
      onResponse: giveBack,
      onRequestAbort: giveBack,
    },
    /** The place taken for this request. */
    of(req: FastifyRequest): Admission | undefined {
      return places.get(req);
    },
  };
}

/**
 * The interaction pages' error handler: `BusyError` (too many attempts wait for a hash) is
 * the branded "try again later" page with Retry-After; anything else goes on to the app's.
 */
export function busyPage(ctx: AppContext, headers: Record<string, string>) {
  return async (err: Error, req: FastifyRequest, reply: FastifyReply) => {
    if (!(err instanceof BusyError)) throw err;
    const { slug, uid } = req.params as { slug: string; uid: string };
    const tenant = await ctx.tenants.findBySlug(slug);
    if (!tenant) throw err;
    return reply
      .code(429)
      .headers({ ...headers, ...err.headers })
      .send(ctx.pages.busy(tenant, err.retryAfterSeconds, `/t/${tenant.slug}/interaction/${encodeURIComponent(uid)}`));
  };
}
