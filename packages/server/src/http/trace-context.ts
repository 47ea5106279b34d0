/**
 * The W3C Trace Context of a request (`traceparent: 00-<trace id>-<parent id>-<flags>`), for
 * its log lines: a proxy or caller that traces tells us its trace, and every line the request
 * logs carries `traceId` and `spanId`, so that logs and traces meet. A malformed header, a
 * version other than 00 and the all-zero ids the spec rules out are ignored, as the spec says.
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
import type { IncomingHttpHeaders } from 'node:http';

const traceparent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const zeroTrace = '0'.repeat(32);
const zeroSpan = '0'.repeat(16);

export interface TraceContext {
  traceId: string;
  spanId: string;
}

/** The request's trace and parent span, or undefined without a valid `traceparent`. */
export function traceContextOf(headers: IncomingHttpHeaders): TraceContext | undefined {
  const header = headers.traceparent;
  if (typeof header !== 'string') return undefined;
  const m = traceparent.exec(header.trim());
  if (!m) return undefined;
  const [, traceId = '', spanId = ''] = m;
  if (traceId === zeroTrace || spanId === zeroSpan) return undefined;
  return { traceId, spanId };
}
