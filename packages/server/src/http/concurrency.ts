/** `ETag`/`If-Match` for optimistic concurrency: the ETag is the resource's version. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from './errors.js';

export function etag(version: number): string {
  return `"${version}"`;
}

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('etag', etag(version));
}

/**
 * The version `If-Match` asks for: undefined when absent or `*` (no precondition).
 * Several ETags match if any does.
 */
export function ifMatchVersions(req: FastifyRequest): number[] | undefined {
  const raw = req.headers['if-match'];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (value.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const part of value.split(',')) {
    const m = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(part);
    if (!m?.[1]) {
      throw badRequest('invalid_if_match', 'If-Match must be an ETag from this API, like "3"');
    }
    versions.push(Number(m[1]));
  }
  return versions;
}
