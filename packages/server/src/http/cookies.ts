/**
 * The cookies our own routes read and write (no cookie plugin needed for the few we have).
 * Every cookie written gets `Secure` when PUBLIC_URL is https (`setCookie`), as the
 * provider's cookies do, whatever scheme the last hop used.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** One cookie's value from the request. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  /** PUBLIC_URL, whose scheme decides `Secure`. */
  publicUrl: string;
  /**
   * `None` for a cookie a cross-site POST must carry (a SAML Response posted by the IdP's
   * page). Browsers drop `SameSite=None` without `Secure`, and `Secure` needs a secure origin:
   * https, or loopback (`localhost`, `127.0.0.1`, `[::1]`), which browsers count as one. Over
   * plain http elsewhere the cookie stays `Lax`. Default `Lax`.
   */
  sameSite?: 'Lax' | 'None';
}

const loopbackHosts = ['localhost', '127.0.0.1', '[::1]'];

/** Adds an HttpOnly, SameSite=Lax (or None, see `CookieOptions`) cookie to the reply (`value` must be cookie-safe, such as base64url). */
export function setCookie(reply: FastifyReply, name: string, value: string, options: CookieOptions): void {
  const https = options.publicUrl.startsWith('https://');
  const loopback = URL.canParse(options.publicUrl) && loopbackHosts.includes(new URL(options.publicUrl).hostname);
  const sameSite = options.sameSite === 'None' && (https || loopback) ? 'None' : 'Lax';
  const secure = https || sameSite === 'None' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${name}=${value}; Path=${options.path}; Max-Age=${options.maxAge}; HttpOnly; SameSite=${sameSite}${secure}`,
  );
}
