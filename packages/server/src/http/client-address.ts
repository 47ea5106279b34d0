/**
 * A request's client address from its socket and X-Forwarded-For, trusting exactly
 * `trustProxyHops` proxies: what Fastify's `request.ip` is with the app's `trustProxy`
 * (http/app.ts), for code that runs on the raw request before Fastify has made one
 * (the sign-in form's refusal, login/admission.ts). Addresses are, nearest first, the
 * socket's peer and then X-Forwarded-For's entries from right to left; the client is the
 * first one not trusted, that is the one `trustProxyHops` hops away, or the farthest there is.
 */
import type { IncomingMessage } from 'node:http';

export function clientAddress(req: IncomingMessage, trustProxyHops: number): string | undefined {
  const peer = req.socket.remoteAddress;
  const header = req.headers['x-forwarded-for'];
  if (trustProxyHops <= 0 || typeof header !== 'string' || header === '') return peer;
  if (!header.includes(',')) return header.trim() || peer;
  // Entries are separated by commas, with spaces and tabs around them; empty ones do not count.
  let hops = 0;
  let found: string | undefined;
  let end = header.length;
  for (let i = header.length - 1; i >= -1; i--) {
    if (i >= 0 && header[i] !== ',') continue;
    const entry = header.slice(i + 1, end).replace(/^[ \t]+|[ \t]+$/g, '');
    end = i;
    if (entry === '') continue;
    found = entry;
    if (++hops >= trustProxyHops) break;
  }
  return found ?? peer;
}
