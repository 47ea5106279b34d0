/**
 * A request's client address, by one rule for Fastify's `request.ip` (http/app.ts passes
 * `proxyTrust` as its `trustProxy`) and for code that runs on the raw request before Fastify
 * has made one (the sign-in form's refusal, login/admission.ts): the socket's peer and then
 * X-Forwarded-For's entries from right to left, the first `hops` of them trusted. Both go
 * through `@fastify/proxy-addr`, the parser inside Fastify, so the two cannot disagree.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

export type ProxyTrust = (address: string, hop: number) => boolean;

/** Trust exactly `hops` proxies in front of this server (TRUST_PROXY_HOPS), nothing for 0. */
export function proxyTrust(hops: number): ProxyTrust {
  return (_address, hop) => hop < hops;
}

export function clientAddress(req: IncomingMessage, trust: ProxyTrust): string | undefined {
  return proxyAddr(req, trust);
}
