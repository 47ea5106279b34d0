/**
 * The sign-in form's place at the password hash queue (passwords/hash.ts), taken as the POST
 * arrives: before its body is read or its interaction loaded, so that a burst past the
 * queue's bounds costs next to nothing, each refused attempt answered at once with the
 * branded "try again later" page (429, Retry-After). The place goes to `SignInService.signIn`
 * and is given back when the answer is sent, whatever it was.
 *
 * A burst is mostly refusals, so a refusal is the cheapest answer the server gives: for a
 * tenant known without a query it is decided on the raw request before Fastify routes it
 * (`early`, called by http/app.ts), with no exception, query or write; the page is rendered
 * once per tenant, language and delay and kept; and it goes out without waiting for the database's
 * pending writes to be durable, as it acknowledges none (and shows the tenant's branding
 * only once that is durable: until then it waits like any answer). A tenant not cached yet
 * is admitted the same way by the route's `onRequest` hook. The page's language is the
 * browser's (Accept-Language) or the tenant's default: the interaction, whose `ui_locales`
 * would come first, is not read for a refusal.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { clientAddress, proxyTrust } from '../http/client-address.js';
import { answerAtOnce } from '../http/durable.js';
import { isUnavailable } from '../http/errors.js';
import { type Locale, requestLocale } from '../i18n/locales.js';
import { type Admission, BusyError, signInRequesterOf } from '../passwords/hash.js';
import { slugSchema, type Tenant } from '../tenants/service.js';
import { pageHeaders } from './pages.js';

/** Delays (seconds, in each language) whose busy page is kept per tenant; others are rendered when asked. */
const KEPT_DELAYS = 64;

/**
 * The sign-in POST's path, as the route `/t/:slug/interaction/:uid/login` matches it, with a
 * uid of the characters oidc-provider's ids are made of (nothing percent-encoded): another
 * spelling is left to the route.
 */
const signInPath = /^\/t\/([a-z0-9-]{3,63})\/interaction\/([A-Za-z0-9_-]{1,200})\/login(?:\?|$)/;

/** A refusal ready to send: 429, its headers and page, and whether it may go out at once. */
export interface Refusal {
  status: 429 | 503;
  headers: Record<string, string>;
  body: Buffer;
  /** True when nothing it shows waits for an fsync (`answerAtOnce`). */
  atOnce: boolean;
}

/** The busy pages of one tenant (as it is now: a changed tenant is a new object). */
interface TenantPages {
  /** Whether every write that the tenant's branding shows is durable. */
  durable: boolean;
  /** Per locale and delay in seconds (`de:3`): the page before and after its back link. */
  byDelay: Map<string, [Buffer, Buffer]>;
}

export type SignInAdmission = ReturnType<typeof signInAdmission>;

export function signInAdmission(ctx: AppContext) {
  const places = new WeakMap<IncomingMessage, Admission>();
  const trust = proxyTrust(ctx.config.trustProxyHops);
  const kept = new WeakMap<Tenant, TenantPages>();

  const pagesOf = (tenant: Tenant): TenantPages => {
    const known = kept.get(tenant);
    if (known) return known;
    // The tenant was read after the writes it shows: once what is pending now is durable, so are they.
    const wait = ctx.database.whenDurable?.();
    const pages: TenantPages = { durable: wait === undefined, byDelay: new Map() };
    wait?.then(
      () => {
        pages.durable = true;
      },
      () => {},
    );
    kept.set(tenant, pages);
    return pages;
  };

  /** The busy page for `tenant`, in `locale`, for `seconds` and the form of interaction `uid`. */
  const refusal = (tenant: Tenant, locale: Locale, seconds: number, uid: string): Refusal => {
    const pages = pagesOf(tenant);
    const key = `${locale}:${seconds}`;
    let halves = pages.byDelay.get(key);
    if (!halves) {
      const [before, after] = ctx.pages.busyAround(tenant, locale, seconds);
      halves = [Buffer.from(before), Buffer.from(after)];
      if (pages.byDelay.size < KEPT_DELAYS) pages.byDelay.set(key, halves);
    }
    // The back link: a tenant's slug and the uid percent-encoded, neither with anything to escape.
    const back = Buffer.from(`/t/${tenant.slug}/interaction/${encodeURIComponent(uid)}`);
    return {
      status: 429,
      headers: { ...pageHeaders, 'retry-after': String(seconds) },
      body: Buffer.concat([halves[0], back, halves[1]]),
      atOnce: pages.durable,
    };
  };

  /** Takes the place of `req` (given back when `res` closes), or returns the refusal. */
  const take = (tenant: Tenant, ip: string | undefined, uid: string, req: IncomingMessage, res: ServerResponse) => {
    const taken = ctx.hasher.tryAdmit(signInRequesterOf(tenant.id, ip ?? null));
    if ('retryAfterSeconds' in taken) {
      return refusal(tenant, requestLocale(tenant, req.headers), taken.retryAfterSeconds, uid);
    }
    places.set(req, taken);
    res.once('close', () => taken.cancel());
    return undefined;
  };

  const sendWithFastify = (reply: FastifyReply, r: Refusal, atOnce: boolean) => {
    if (atOnce) answerAtOnce(reply.raw);
    return reply.code(r.status).headers(r.headers).send(r.body);
  };

  return {
    /**
     * Before routing (http/app.ts): for the sign-in POST of a tenant known without a query,
     * takes its place, or returns the refusal to send instead of routing it.
     */
    early(req: IncomingMessage, res: ServerResponse): Refusal | undefined {
      if (req.method !== 'POST') return undefined;
      const m = signInPath.exec(req.url ?? '');
      const tenant = m ? ctx.tenants.cachedBySlug(m[1] as string) : undefined;
      if (!m || !tenant) return undefined;
      return take(tenant, clientAddress(req, trust), m[2] as string, req, res);
    },

    /** The sign-in POST's route options: the place is taken as it arrives, unless `early` took it. */
    hooks: {
      async onRequest(req: FastifyRequest, reply: FastifyReply) {
        if (places.has(req.raw)) return;
        const { slug, uid } = req.params as { slug: string; uid: string };
        const tenant = slugSchema.safeParse(slug).success ? await ctx.tenants.findBySlug(slug) : undefined;
        // An unknown tenant is answered by the route, as for any other request.
        if (!tenant) return;
        const refused = take(tenant, req.ip, uid, req.raw, reply.raw);
        if (!refused) return;
        ctx.metrics?.signIn('busy');
        return sendWithFastify(reply, refused, refused.atOnce);
      },
    },

    /** The place taken for this request. */
    of(req: FastifyRequest): Admission | undefined {
      return places.get(req.raw);
    },

    /**
     * The interaction pages' error handler: `BusyError` (too many attempts wait for a hash,
     * at registration say) is the same busy page, held like any answer (what was asked may
     * have written); anything else goes on to the app's.
     */
    async errorHandler(err: Error, req: FastifyRequest, reply: FastifyReply) {
      // A store that cannot be reached (PostgreSQL restarting, Redis down) gets the same
      // "try again in a moment" page, as a 503, for a tenant this node knows without it.
      const down = isUnavailable(err);
      if (!(err instanceof BusyError) && !down) throw err;
      const { slug, uid } = req.params as { slug: string; uid: string };
      const tenant = down ? ctx.tenants.cachedBySlug(slug) : await ctx.tenants.findBySlug(slug);
      if (!tenant) throw err;
      const locale = requestLocale(tenant, req.headers);
      if (down) {
        req.log.warn({ err }, 'a store is unavailable');
        return sendWithFastify(reply, { ...refusal(tenant, locale, 2, uid), status: 503 }, false);
      }
      return sendWithFastify(reply, refusal(tenant, locale, (err as BusyError).retryAfterSeconds, uid), false);
    },
  };
}
