import { z } from 'zod';

/**
 * The one error type routes and services throw. `code` is stable snake_case that clients
 * may branch on; `message` is for people; `details` is optional structured data; `headers`
 * go out with the answer (`Retry-After` of a 429).
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** PostgreSQL SQLSTATE classes of a lost or refused connection: 08 (connection), 57P (shutdown, starting up). */
const unavailableState = /^(08|57P0[1-3])/;
const unavailableSystemCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const unavailableMessages =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|Reached the max retries per request limit)/;

/**
 * Whether `err` says a store this request needs (PostgreSQL, Redis) cannot be reached right
 * now (restarting, cut off), rather than that the request or the code is wrong: answered 503
 * with `Retry-After`, not a 500, since the same request may well succeed in a moment.
 */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (unavailableState.test(code) || unavailableSystemCodes.has(code))) return true;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return unavailableMessages.test(err.message);
}

/** The 503 for `isUnavailable` errors. */
export const unavailable = () =>
  new AppError(503, 'unavailable', 'A store this needs cannot be reached right now; try again in a moment', undefined, {
    'retry-after': '2',
  });

export const badRequest = (code: string, message: string, details?: unknown) =>
  new AppError(400, code, message, details);
export const unauthorized = (message = 'A valid bearer credential is required') =>
  new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'The credential lacks the permission this needs', details?: unknown) =>
  new AppError(403, 'forbidden', message, details);
export const notFound = (code: string, message: string) => new AppError(404, code, message);
export const conflict = (code: string, message: string, details?: unknown) => new AppError(409, code, message, details);
export const preconditionFailed = (message = 'The resource changed since the version given in If-Match') =>
  new AppError(412, 'version_mismatch', message);

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Response schemas for the error statuses a route can answer, for the OpenAPI document. */
export function errorResponses<S extends number>(...statuses: S[]): Record<S, typeof errorBodySchema> {
  const out = {} as Record<S, typeof errorBodySchema>;
  for (const s of statuses) out[s] = errorBodySchema;
  return out;
}
